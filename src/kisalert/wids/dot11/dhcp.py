"""DHCP messages in open data frames (the header decoder found IPv4/UDP 67-68)."""

from __future__ import annotations

from dataclasses import dataclass

_MAGIC = b"\x63\x82\x53\x63"
_OPTIONS = 240  # fixed part (236) and the magic cookie

DISCOVER = 1
OFFER = 2
REQUEST = 3
DECLINE = 4
ACK = 5
NAK = 6
RELEASE = 7
INFORM = 8

BOOTREQUEST = 1  # op: client to server
BOOTREPLY = 2

OPT_PAD = 0
OPT_HOSTNAME = 12
OPT_LEASE_TIME = 51
OPT_MESSAGE_TYPE = 53
OPT_VENDOR_CLASS = 60
OPT_CLIENT_ID = 61
OPT_END = 255


@dataclass(frozen=True, slots=True)
class Dhcp:
    op: int  # 1 request (client to server), 2 reply
    message_type: int  # option 53; 0 if absent
    chaddr: bytes  # client hardware address (6 bytes for Ethernet)
    yiaddr: bytes  # "your" address, given in an offer or ACK
    client_id: bytes | None  # option 61 as sent (type byte first)
    hostname: bytes | None  # option 12
    vendor_class: bytes | None  # option 60
    lease_time: int  # option 51, seconds; -1 if absent

    @property
    def client_id_mac(self) -> bytes | None:
        """The MAC in a client-id of hardware type 1 (Ethernet), else None."""
        cid = self.client_id
        if cid is not None and len(cid) == 7 and cid[0] == 1:
            return cid[1:]
        return None


def parse(buf: bytes, pos: int, end: int) -> Dhcp | None:
    """The DHCP message at `pos`, or None if it is not a well-formed one."""
    if pos + _OPTIONS > end or buf[pos + 236 : pos + 240] != _MAGIC:
        return None
    op = buf[pos]
    hlen = min(buf[pos + 2], 16)
    chaddr = buf[pos + 28 : pos + 28 + hlen]
    yiaddr = buf[pos + 16 : pos + 20]
    message_type = 0
    lease = -1
    client_id = hostname = vendor = None
    at = pos + _OPTIONS
    while at < end:
        code = buf[at]
        if code == OPT_END:
            break
        if code == OPT_PAD:
            at += 1
            continue
        if at + 2 > end:
            break
        length = buf[at + 1]
        value = at + 2
        at = value + length
        if at > end:
            break
        if code == OPT_MESSAGE_TYPE and length >= 1:
            message_type = buf[value]
        elif code == OPT_LEASE_TIME and length == 4:
            lease = int.from_bytes(buf[value:at])
        elif code == OPT_CLIENT_ID:
            client_id = buf[value:at]
        elif code == OPT_HOSTNAME:
            hostname = buf[value:at]
        elif code == OPT_VENDOR_CLASS:
            vendor = buf[value:at]
    return Dhcp(op, message_type, chaddr, yiaddr, client_id, hostname, vendor, lease)
