"""Frame builders for the EAPOL and DHCP tests: EAPOL-Key and EAP-WSC messages as bytes,
DHCP and plain IPv4 data frames with scapy."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dot11 import Dot11
from scapy.layers.inet import IP, UDP
from scapy.packet import Packet
from scapy.utils import mac2str

from tests.wids.frames import AP, BROADCAST, STA, data

GATEWAY = "02:00:00:00:00:fe"  # the DHCP server and router, behind the AP

# EAPOL-Key information bits (IEEE 802.11-2020, 12.7.2)
V_RC4 = 1
V_AES = 2
V_CMAC = 3
PAIRWISE = 0x0008
INSTALL = 0x0040
ACK = 0x0080
MIC = 0x0100
SECURE = 0x0200
ENCRYPTED = 0x1000

MSG1 = V_AES | PAIRWISE | ACK
MSG3 = V_AES | PAIRWISE | INSTALL | ACK | MIC | SECURE | ENCRYPTED
GROUP2 = V_AES | MIC | SECURE  # group message 2; here also the degrading AP's message

NONCE = bytes(range(1, 33))


def eapol_key(
    info: int,
    replay: int = 1,
    nonce: bytes = b"\x00" * 32,
    key_data: bytes = b"",
    descriptor: int = 2,
    dot1x_length: int | None = None,
) -> bytes:
    """An 802.1X EAPOL-Key packet; `dot1x_length` overrides the header's length."""
    body = struct.pack(
        ">BHHQ32s16s8s8s16sH",
        descriptor,
        info,
        16,
        replay,
        nonce,
        b"",
        b"",
        b"",
        b"\x5a" * 16 if info & MIC else b"",
        len(key_data),
    )
    body += key_data
    length = len(body) if dot1x_length is None else dot1x_length
    return struct.pack(">BBH", 2, 3, length) + body


def wsc(message_type: int, flags: int = 0, code: int = 1) -> bytes:
    """An EAPOL-wrapped EAP-WSC WSC_MSG carrying `message_type` (0x07 is M3); with the
    length flag (0x02) in `flags` it carries the message length field."""
    attrs = struct.pack(">HHB", 0x104A, 1, 0x10)  # version
    attrs += struct.pack(">HHB", 0x1022, 1, message_type)
    attrs += struct.pack(">HH", 0x1039, 16) + b"\x11" * 16  # registrar nonce
    attrs += struct.pack(">HH", 0x1014, 32) + b"\x22" * 32  # E-Hash1
    op = bytes((4, flags)) + (struct.pack(">H", len(attrs)) if flags & 0x02 else b"")
    expanded = b"\xfe\x00\x37\x2a\x00\x00\x00\x01" + op + attrs
    eap = struct.pack(">BBH", code, 7, 4 + len(expanded)) + expanded
    return struct.pack(">BBH", 1, 0, len(eap)) + eap


def eapol_frame(
    payload: bytes, from_ap: bool = True, retry: bool = False, ap: str = AP, sta: str = STA
) -> Packet:
    """An EAPOL data frame from the AP to the station (from-DS), or back (to-DS)."""
    if from_ap:
        frame = data(b"\x88\x8e" + payload, bssid=ap, source=ap, dest=sta, to_ds=False)
    else:
        frame = data(b"\x88\x8e" + payload, bssid=ap, source=sta, dest=ap, to_ds=True)
    if retry:
        frame[Dot11].FCfield = int(frame[Dot11].FCfield) | 0x08
    return frame


def dhcp_message(
    options: Sequence[Any],
    reply: bool = False,
    chaddr: str = STA,
    yiaddr: str = "0.0.0.0",
    src: str | None = None,
    dst: str = "255.255.255.255",
) -> bytes:
    """IPv4/UDP/BOOTP/DHCP bytes, ethertype first; `options` as scapy's DHCP takes them
    (`end` is appended)."""
    ports = UDP(sport=67, dport=68) if reply else UDP(sport=68, dport=67)
    source_ip = src if src is not None else ("10.0.0.1" if reply else "0.0.0.0")
    packet = (
        IP(src=source_ip, dst=dst)
        / ports
        / BOOTP(op=2 if reply else 1, chaddr=mac2str(chaddr), yiaddr=yiaddr, xid=0x1234)
        / DHCP(options=[*options, "end"])
    )
    return b"\x08\x00" + bytes(packet)


def client_dhcp(options: Sequence[Any], source: str = STA, **fields: Any) -> Packet:
    """A DHCP request from a station, broadcast through the AP (to-DS)."""
    payload = dhcp_message(options, chaddr=fields.pop("chaddr", source), **fields)
    return data(payload, source=source, dest=BROADCAST)


def dhcp_ack(address: str, client: str = STA, lease: int | None = 3600) -> Packet:
    """A DHCP ACK from the gateway, relayed by the AP to `client` (from-DS)."""
    options: list[Any] = [("message-type", "ack"), ("server_id", "10.0.0.1")]
    if lease is not None:
        options.append(("lease_time", lease))
    payload = dhcp_message(options, reply=True, chaddr=client, yiaddr=address, dst=address)
    return data(payload, source=GATEWAY, dest=client, to_ds=False)


def ipv4(src: str, source: str = STA, dst: str = "10.0.0.1") -> Packet:
    """A plain IPv4 (UDP, DNS port) frame from a station to the gateway."""
    payload = b"\x08\x00" + bytes(IP(src=src, dst=dst) / UDP(sport=40000, dport=53) / b"q")
    return data(payload, source=source, dest=GATEWAY)
