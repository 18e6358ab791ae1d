"""The 802.11 header: addresses by the DS bits, header lengths, management fixed fields.

Frames are built with scapy and the decoder's view is compared with scapy's own parse
of the same bytes.
"""

from __future__ import annotations

import struct

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dot11 import (
    Dot11,
    Dot11Action,
    Dot11AssoReq,
    Dot11AssoResp,
    Dot11Auth,
    Dot11Beacon,
    Dot11Deauth,
    Dot11Disas,
    Dot11Elt,
    Dot11ProbeResp,
    Dot11QoS,
    Dot11ReassoReq,
)
from scapy.layers.eap import EAPOL
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import LLC, SNAP
from scapy.packet import Packet, Raw

from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11 import header
from kisalert.wids.dot11.frame import Frame
from tests.wids.frames import AP, STA, assoc_request, beacon, deauth, probe_request

A1, A2, A3, A4 = "02:00:00:00:00:a1", "02:00:00:00:00:a2", "02:00:00:00:00:a3", "02:00:00:00:00:a4"
LLC_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def decode(data: bytes | Packet, datapad: bool = False) -> Frame:
    frame = Frame()
    frame.data = bytes(data)
    frame.start = 0
    frame.end = len(frame.data)
    header.decode(frame, datapad)
    return frame


def offset_of(packet: Packet, layer: type[Packet]) -> int:
    """Where `layer` starts in the bytes of `packet`, by scapy's parse."""
    return len(bytes(packet)) - len(bytes(packet[layer]))


def scapy_capability(cap: object) -> int:
    """scapy keeps the capability field as a big-endian number; on air it is little-endian."""
    return int.from_bytes(int(cap).to_bytes(2, "big"), "little")  # type: ignore[call-overload]


def eapol_key() -> Packet:
    return EAPOL(version=2, type=3) / Raw(b"\x02" + bytes(94))


# Addresses by the DS bits (IEEE 802.11-2020 table 9-30): (bssid, source, dest) as
# indices of addr1-4. For WDS the transmitter stands for the network.
DS_ROLES = {
    "": (3, 2, 1),
    "from_DS": (2, 3, 1),
    "to_DS": (1, 2, 3),
    "to_DS+from_DS": (2, 4, 3),
}


@pytest.mark.parametrize("ds", list(DS_ROLES))
@pytest.mark.parametrize("qos", [False, True])
def test_addresses_by_ds_bits_and_the_payload_behind_the_header(ds: str, qos: bool) -> None:
    head = Dot11(type=2, subtype=8 if qos else 0, FCfield=ds, addr1=A1, addr2=A2, addr3=A3)
    if ds == "to_DS+from_DS":
        head.addr4 = A4
    packet = head / (Dot11QoS() if qos else Raw(b"")) / LLC() / SNAP() / eapol_key()
    data = bytes(packet)
    theirs = Dot11(data)
    frame = decode(data)
    addresses = {1: theirs.addr1, 2: theirs.addr2, 3: theirs.addr3, 4: theirs.addr4}
    bssid, source, dest = (mac(addresses[index]) for index in DS_ROLES[ds])
    assert (frame.bssid, frame.source, frame.dest) == (bssid, source, dest)
    assert frame.transmitter == frame.bssid
    assert frame.addr1 == mac(A1) and frame.addr2 == mac(A2) and frame.addr3 == mac(A3)
    assert frame.addr4 == (mac(A4) if ds == "to_DS+from_DS" else b"")
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == offset_of(theirs, EAPOL)
    assert (frame.type, frame.subtype, frame.flags) == (2, theirs.subtype, int(theirs.FCfield))


def _insert(data: bytes, at: int, extra: bytes) -> bytes:
    return data[:at] + extra + data[at:]


@pytest.mark.parametrize("wds", [False, True])
def test_qos_with_the_order_bit_has_an_ht_control_field(wds: bool) -> None:
    fields = "to_DS+from_DS+order" if wds else "to_DS+order"
    head = Dot11(type=2, subtype=8, FCfield=fields, addr1=A1, addr2=A2, addr3=A3, addr4=A4)
    qos_end = len(bytes(head / Dot11QoS()))
    assert qos_end == (32 if wds else 26)
    packet = head / Dot11QoS() / LLC() / SNAP() / eapol_key()
    data = _insert(bytes(packet), qos_end, b"\x0c\x00\x00\x00")  # scapy writes no HT control
    frame = decode(data)
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == data.index(LLC_EAPOL) + 8 == qos_end + 4 + 8
    # Without the order bit the same HT-control bytes hide the LLC header.
    plain = bytearray(data)
    plain[1] &= ~header.FLAG_ORDER
    assert decode(bytes(plain)).kind == F.DATA


def test_non_qos_data_with_the_order_bit_has_no_ht_control() -> None:
    packet = Dot11(type=2, subtype=0, FCfield="to_DS+order", addr1=A1, addr2=A2, addr3=A3)
    data = bytes(packet / LLC() / SNAP() / eapol_key())
    frame = decode(data)
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == 24 + 8


def test_an_amsdu_is_not_looked_into() -> None:
    head = Dot11(type=2, subtype=8, FCfield="from_DS", addr1=A1, addr2=A2, addr3=A3)
    packet = head / Dot11QoS(A_MSDU_Present=1) / LLC() / SNAP() / eapol_key()
    theirs = Dot11(bytes(packet))
    assert theirs[Dot11QoS].A_MSDU_Present == 1
    frame = decode(packet)
    assert frame.kind == F.DATA


def test_protected_frames_are_not_looked_into() -> None:
    data = Dot11(type=2, FCfield="to_DS+protected", addr1=A1, addr2=A2, addr3=A3)
    assert decode(data / LLC() / SNAP() / eapol_key()).kind == F.DATA
    # A protected deauthentication (802.11w): the reason code is encrypted.
    protected = bytes(deauth(reason=3))
    protected = protected[:1] + bytes([protected[1] | header.FLAG_PROTECTED]) + protected[2:]
    frame = decode(protected + bytes(16))
    assert frame.kind == F.DEAUTH
    assert frame.reason == 0
    assert frame.ies == frame.end


@pytest.mark.parametrize("subtype", [4, 12])  # null data, QoS null
def test_null_data_frames_have_no_payload(subtype: int) -> None:
    packet = Dot11(type=2, subtype=subtype, FCfield="to_DS", addr1=A1, addr2=A2, addr3=A3)
    if subtype == 12:
        packet /= Dot11QoS()
    frame = decode(packet / Raw(LLC_EAPOL + bytes(99)))
    assert frame.kind == F.DATA
    assert frame.source == mac(A2)


def test_dhcp_and_ipv4_payloads() -> None:
    head = Dot11(type=2, FCfield="to_DS", addr1=AP, addr2=STA, addr3="ff:ff:ff:ff:ff:ff")
    discover = BOOTP(chaddr=mac(STA)) / DHCP(options=[("message-type", "discover"), "end"])
    packet = head / LLC() / SNAP() / IP(src="0.0.0.0", dst="255.255.255.255")
    packet /= UDP(sport=68, dport=67) / discover
    theirs = Dot11(bytes(packet))
    frame = decode(packet)
    assert frame.kind == F.DATA | F.IPV4 | F.DHCP
    assert frame.ipv4 == offset_of(theirs, IP)
    assert frame.dhcp == offset_of(theirs, BOOTP)
    # IP options move the UDP header; the DHCP message is still found.
    with_options = head / LLC() / SNAP() / IP(options=b"\x01\x01\x01\x00")
    with_options /= UDP(sport=67, dport=68) / discover
    theirs = Dot11(bytes(with_options))
    frame = decode(with_options)
    assert frame.kind == F.DATA | F.IPV4 | F.DHCP
    assert frame.dhcp == offset_of(theirs, BOOTP)
    dns = head / LLC() / SNAP() / IP() / UDP(sport=5353, dport=53) / Raw(bytes(40))
    assert decode(dns).kind == F.DATA | F.IPV4


MANAGEMENT: list[Packet] = [
    beacon(tsf=0x0102030405060708, interval=250),
    beacon(probe_response_to=STA, crypt="open", ibss=True),
    probe_request(b"hidden"),
    assoc_request(),
    Dot11(type=0, subtype=1, addr1=STA, addr2=AP, addr3=AP)
    / Dot11AssoResp(cap="ESS+short-slot", status=0, AID=1)
    / Dot11Elt(ID=1, info=b"\x82\x84"),
    Dot11(type=0, subtype=2, addr1=AP, addr2=STA, addr3=AP)
    / Dot11ReassoReq(cap="ESS+privacy", current_AP=AP)
    / Dot11Elt(ID=0, info=b"corp"),
    Dot11(type=0, subtype=11, addr1=AP, addr2=STA, addr3=AP) / Dot11Auth(seqnum=1),
    deauth(reason=7),
    deauth(reason=8, disassoc=True),
    Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Dot11Action(category=3) / b"xy",
]


@pytest.mark.parametrize("packet", MANAGEMENT, ids=lambda p: p.lastlayer().name)
@pytest.mark.parametrize("order", [False, True])
def test_management_frames_match_scapy(packet: Packet, order: bool) -> None:
    data = bytes(packet)
    if order:  # the order bit, and 4 bytes of HT control after the 24-byte header
        data = data[:1] + bytes([data[1] | header.FLAG_ORDER]) + data[2:24] + bytes(4) + data[24:]
    theirs = Dot11(bytes(packet))
    frame = decode(data)
    assert frame.kind == F.MGMT_KINDS[theirs.subtype]
    assert frame.dest == mac(theirs.addr1)
    assert frame.source == mac(theirs.addr2)
    assert frame.bssid == frame.transmitter == mac(theirs.addr3)
    assert frame.body == (28 if order else 24)
    assert frame.tags & A.MALFORMED == 0
    ssid = theirs.getlayer(Dot11Elt, ID=0)
    assert frame.ssid == (ssid.info if ssid is not None else None)
    ds = theirs.getlayer(Dot11Elt, ID=3)
    assert frame.ds_channel == (ds.channel if ds is not None else 0)
    layer: type[Packet]
    for layer in (Dot11Beacon, Dot11ProbeResp):
        if theirs.haslayer(layer):
            fixed = theirs[layer]
            assert frame.tsf == fixed.timestamp
            assert frame.beacon_interval == fixed.beacon_interval
            assert frame.capability == scapy_capability(fixed.cap)
    for layer in (Dot11AssoReq, Dot11AssoResp, Dot11ReassoReq):
        if theirs.haslayer(layer):
            assert frame.capability == scapy_capability(theirs[layer].cap)
    for layer in (Dot11Deauth, Dot11Disas):
        if theirs.haslayer(layer):
            assert frame.reason == theirs[layer].reason


def test_a_management_frame_after_another_starts_from_clean_fields() -> None:
    frame = decode(beacon(ssid=b"first", country=b"DE"))
    assert frame.country == b"DE"
    frame.data = bytes(probe_request(b"second"))
    frame.end = len(frame.data)
    header.decode(frame)
    assert (frame.ssid, frame.country, frame.crypt, frame.tsf) == (b"second", b"", 0, 0)


def test_a_management_body_too_short_for_its_fixed_fields_is_tagged() -> None:
    data = bytes(Dot11(type=0, subtype=8, addr1=A1, addr2=A2, addr3=A3)) + bytes(5)
    frame = decode(data)
    assert frame.kind == F.BEACON
    assert frame.tags & A.SHORT_BODY
    assert frame.ies == frame.end


@pytest.mark.parametrize(
    ("subtype", "length", "has_transmitter"),
    [
        (11, 16, True),  # RTS
        (10, 16, True),  # PS-Poll
        (8, 24, True),  # BlockAckReq
        (9, 32, True),  # BlockAck
        (14, 16, True),  # CF-End
        (12, 10, False),  # CTS
        (13, 10, False),  # ACK
        (13, 20, False),  # an ACK with trailing bytes (an FCS the capture did not flag)
        (7, 30, False),  # control wrapper: carried frame control and HT control, no TA
    ],
)
def test_control_frames(subtype: int, length: int, has_transmitter: bool) -> None:
    packet = Dot11(type=1, subtype=subtype, addr1=A1, addr2=A2)
    data = bytes(packet)[:16] if has_transmitter else bytes(packet)[:10]
    data += bytes(length - len(data))
    frame = decode(data)
    assert frame.kind == F.CONTROL
    assert frame.dest == mac(A1)
    assert frame.source == (mac(A2) if has_transmitter else b"")
    assert frame.bssid == b""


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes(9),  # shorter than any header
        b"\x01" + bytes(23),  # protocol version 1
        b"\x0c" + bytes(23),  # type 3
        bytes(Dot11(type=0, subtype=8))[:20],  # management header cut
        bytes(Dot11(type=2, subtype=0))[:20],  # data header cut
        bytes(Dot11(type=2, FCfield="to_DS+from_DS"))[:28],  # WDS header cut
    ],
)
def test_frames_too_short_for_their_header_are_malformed(data: bytes) -> None:
    with pytest.raises(header.Malformed):
        decode(data)


def test_netgear_beacon_offset() -> None:
    packet = beacon(extra=[Dot11Elt(ID=221, info=bytes(250))] * 5)
    data = bytearray(bytes(packet).ljust(header.NETGEAR_OFFSET + 4, b"\x00"))
    struct.pack_into("4s", data, header.NETGEAR_OFFSET, b"\x6a\x39\x58\x01")
    assert decode(bytes(data)).tags & A.NETGEAR_BEACON
