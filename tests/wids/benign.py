"""A benign capture: what a quiet office network sounds like for twenty seconds.

Two WPA2 networks (one with a hidden SSID), one open network with DHCP, stations
probing, authenticating and associating with MFP, a full WPA2 4-way handshake and a
group-key handshake, encrypted data, control frames, a neighbor report and a
station leaving. No detector may fire on it.
"""

from __future__ import annotations

import random
import struct

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dot11 import Dot11, Dot11Auth, Dot11Deauth, Dot11Elt, Dot11QoS
from scapy.layers.inet import IP, UDP
from scapy.packet import Packet, Raw

from tests.wids.frames import (
    AP,
    AP2,
    STA,
    STA2,
    T0,
    assoc_request,
    beacon,
    data,
    probe_request,
    radiotap,
)

AP3 = "02:00:00:00:00:03"
OPEN_STA = "02:00:00:00:01:03"
HT_CAP = Dot11Elt(ID=45, info=bytes(26))
HT_OP = Dot11Elt(ID=61, info=bytes([6]) + bytes(21))
EXT_CAP = Dot11Elt(ID=127, info=b"\x04\x00\x08\x00\x00\x00\x00\x40")
WMM = Dot11Elt(ID=221, info=b"\x00\x50\xf2\x02\x01\x01\x80\x00" + bytes(16))
ERP = Dot11Elt(ID=42, info=b"\x00")
MODERN = (ERP, HT_CAP, HT_OP, EXT_CAP, WMM)


def eapol_key(
    bssid: str,
    sta: str,
    from_ap: bool,
    info: int,
    replay: int,
    nonce: bytes,
    key_data: bytes = b"",
    mic: bool = True,
) -> Packet:
    body = struct.pack(
        ">BHHQ32s16s8s8s16sH",
        2,
        info,
        16,
        replay,
        nonce,
        bytes(16),
        bytes(8),
        bytes(8),
        (b"\x5a" * 16) if mic else bytes(16),
        len(key_data),
    )
    body += key_data
    payload = b"\x88\x8e" + struct.pack(">BBH", 2, 3, len(body)) + body
    return data(
        payload,
        bssid=bssid,
        source=sta if not from_ap else bssid,
        dest=sta if from_ap else bssid,
        to_ds=not from_ap,
    )


def dhcp(sta: str, kind: int, server: bool, yiaddr: str = "0.0.0.0") -> Packet:
    mac = bytes.fromhex(sta.replace(":", ""))
    options: list[object] = [("message-type", kind)]
    if not server:
        options += [
            ("client_id", b"\x01" + mac),
            ("hostname", b"laptop"),
            ("vendor_class_id", b"MSFT 5.0"),
        ]
    options.append("end")
    packet = (
        IP(src="10.0.0.1" if server else "0.0.0.0", dst="255.255.255.255")
        / UDP(sport=67 if server else 68, dport=68 if server else 67)
        / BOOTP(op=2 if server else 1, chaddr=mac, yiaddr=yiaddr, xid=0x1234)
        / DHCP(options=options)
    )
    if server:
        return data(
            b"\x08\x00" + bytes(packet),
            bssid=AP3,
            source=AP3,
            dest="ff:ff:ff:ff:ff:ff",
            to_ds=False,
        )
    return data(b"\x08\x00" + bytes(packet), bssid=AP3, source=sta, dest="ff:ff:ff:ff:ff:ff")


def ip_from(sta: str, address: str) -> Packet:
    packet = IP(src=address, dst="10.0.0.1") / UDP(sport=5353, dport=5353) / Raw(b"hello")
    return data(b"\x08\x00" + bytes(packet), bssid=AP3, source=sta, dest=AP3)


def encrypted(bssid: str, sta: str, to_ds: bool, size: int = 120) -> Packet:
    flags = ("to_DS" if to_ds else "from_DS") + "+protected"
    a1, a2 = (bssid, sta) if to_ds else (sta, bssid)
    return (
        Dot11(type=2, subtype=8, FCfield=flags, addr1=a1, addr2=a2, addr3=bssid)
        / Dot11QoS()
        / Raw(bytes(size))
    )


def control(subtype: int, ra: str, ta: str | None = None) -> Packet:
    frame = Dot11(type=1, subtype=subtype, addr1=ra)
    if ta is not None:
        frame.addr2 = ta
    return frame


def neighbor_report() -> Packet:
    report = bytes.fromhex("020000000009") + b"\x8f\x00\x00\x00" + bytes([115, 36, 9])
    body = bytes([5, 5, 1]) + bytes([52, len(report)]) + report
    return Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Raw(body)


def with_tsf(record: bytes, tsf: int) -> bytes:
    """A radiotap-wrapped beacon's bytes with its timestamp (TSF) set to `tsf`."""
    at = int.from_bytes(record[2:4], "little") + 24  # past radiotap and the 802.11 header
    return record[:at] + tsf.to_bytes(8, "little") + record[at + 8 :]


def frames() -> tuple[list[bytes], list[float]]:
    """The capture's records (radiotap-wrapped frames) and their times, in time order.

    Frames that recur are built by scapy once and their bytes repeated (a beacon's
    with each its own TSF): building each of the ~900 anew took most of the test."""
    out: list[tuple[float, bytes]] = []

    def record(frame: Packet, channel: int = 6, signal: int = -52) -> bytes:
        return bytes(radiotap(frame, channel=channel, signal=signal))

    def at(when: float, frame: Packet | bytes, channel: int = 6, signal: int = -52) -> None:
        """`frame` at `when`; bytes are a record already made by `record`."""
        out.append(
            (T0 + when, frame if isinstance(frame, bytes) else record(frame, channel, signal))
        )

    corp = record(beacon(b"corp", AP, 6, country=b"US", extra=MODERN))
    hidden = record(beacon(b"", AP2, 11, extra=MODERN), channel=11)
    guest = record(beacon(b"guest", AP3, 6, crypt="open", extra=MODERN))
    for i in range(195):  # about 20 s of beacons, 102.4 ms apart
        t = i * 0.1024
        tsf = int(t * 1_000_000) + 123_456_789
        at(t, with_tsf(corp, tsf))
        at(t + 0.03, with_tsf(hidden, tsf + 5_000_000))
        at(t + 0.06, with_tsf(guest, tsf + 9_000))
    # Probing: wildcard and directed, answered by the APs (the hidden one with its name).
    at(1.0, probe_request(b"", STA))
    at(
        1.01,
        beacon(
            b"corp",
            AP,
            6,
            tsf=123_456_789 + 1_010_000,
            country=b"US",
            extra=MODERN,
            probe_response_to=STA,
        ),
    )
    at(1.02, probe_request(b"lab", STA2), channel=11)
    at(
        1.03,
        beacon(
            b"lab",
            AP2,
            11,
            tsf=5_000_000 + 123_456_789 + 1_030_000,
            extra=MODERN,
            probe_response_to=STA2,
        ),
        channel=11,
    )
    # Open system authentication, association with MFP, the 4-way handshake.
    at(2.0, Dot11(type=0, subtype=11, addr1=AP, addr2=STA, addr3=AP) / Dot11Auth(algo=0, seqnum=1))
    at(
        2.001,
        Dot11(type=0, subtype=11, addr1=STA, addr2=AP, addr3=AP) / Dot11Auth(algo=0, seqnum=2),
    )
    at(2.002, assoc_request(b"corp", AP, STA, mfp=True))
    anonce, snonce = b"\x11" * 32, b"\x22" * 32
    rsn_ie = bytes(
        Dot11Elt(
            ID=48,
            info=b"\x01\x00\x00\x0f\xac\x04\x01\x00\x00\x0f\xac\x04\x01\x00\x00\x0f\xac\x02\x80\x00",
        )
    )
    at(2.01, eapol_key(AP, STA, True, 0x008A, 1, anonce, mic=False))
    at(2.02, eapol_key(AP, STA, False, 0x010A, 1, snonce, rsn_ie))
    at(2.03, eapol_key(AP, STA, True, 0x13CA, 2, anonce, bytes(56)))
    at(2.04, eapol_key(AP, STA, False, 0x030A, 2, bytes(32)))
    # Group key handshake: the AP's message 1, the station's message 2 (zero nonce,
    # no key data: what NONCEDEGRADE must not take for the attack).
    at(8.0, eapol_key(AP, STA, True, 0x1382, 3, b"\x33" * 32, bytes(32)))
    at(8.01, eapol_key(AP, STA, False, 0x0302, 3, bytes(32)))
    # Encrypted traffic and control frames.
    up, down = record(encrypted(AP, STA, True)), record(encrypted(AP, STA, False, 600))
    ack, rts, cts = record(control(13, STA)), record(control(11, AP, STA)), record(control(12, STA))
    for i in range(60):
        t = 3 + i * 0.05
        at(t, up)
        at(t + 0.001, ack)
        at(t + 0.01, down)
        at(t + 0.02, rts)
        at(t + 0.021, cts)
    # The open network: a station gets a lease over DHCP and uses it.
    at(4.0, dhcp(OPEN_STA, 1, server=False))
    at(4.01, dhcp(OPEN_STA, 2, server=True, yiaddr="10.0.0.23"))
    at(4.02, dhcp(OPEN_STA, 3, server=False))
    at(4.03, dhcp(OPEN_STA, 5, server=True, yiaddr="10.0.0.23"))
    used = record(ip_from(OPEN_STA, "10.0.0.23"))
    for i in range(10):
        at(5 + i * 0.3, used)
    at(9.0, neighbor_report())
    # WPA3: an SAE commit and confirm each way (their bodies are not elements).
    rng = random.Random(11)
    for seq, to_ap in ((1, True), (1, False), (2, True), (2, False)):
        a1, a2 = (AP2, STA2) if to_ap else (STA2, AP2)
        fixed = struct.pack("<HHH", 3, seq, 0)
        if seq == 1:
            body = fixed + struct.pack("<H", 19) + rng.randbytes(32) + rng.randbytes(64)
        else:
            body = fixed + struct.pack("<H", 1) + rng.randbytes(32)
        at(
            12.0 + seq * 0.01 + (0 if to_ap else 0.005),
            Dot11(type=0, subtype=11, addr1=a1, addr2=a2, addr3=AP2) / Raw(body),
            channel=11,
        )
    # A station leaves politely.
    at(15.0, Dot11(type=0, subtype=12, addr1=AP, addr2=STA, addr3=AP) / Dot11Deauth(reason=3))
    out.sort(key=lambda item: item[0])
    return [frame for _, frame in out], [when for when, _ in out]
