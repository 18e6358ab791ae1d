"""The 802.11 MAC header, management fixed fields, and the payload of open data frames.

`decode` fills a Frame from `frame.data[frame.start:frame.end]` (the capture
header already decoded). It raises only `Malformed`, for frames too short for their
header; every other oddity is a tag.
"""

from __future__ import annotations

import struct

from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import elements
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame

_u16 = struct.Struct("<H").unpack_from
_u64 = struct.Struct("<Q").unpack_from

FLAG_TO_DS = 0x01
FLAG_FROM_DS = 0x02
FLAG_RETRY = 0x08
FLAG_PROTECTED = 0x40
FLAG_ORDER = 0x80

# Management subtype -> length of the fixed fields before the first element
# (-1: none are walked; action frames are handled on their own).
_FIXED = (4, 6, 10, 6, 0, 12, -1, -1, 12, -1, 2, 6, 2, -1, -1, -1)
_BEACON = 8
_PROBE_RESP = 5
_DEAUTH = 12
_DISASSOC = 10
_ACTION = 13
_ACTION_NO_ACK = 14

# Control subtypes whose second address is the transmitter: 4 beamforming report poll,
# 5 VHT NDP announcement, 6 control frame extension, 8 BlockAckReq, 9 BlockAck,
# 10 PS-Poll, 11 RTS, 14 CF-End, 15 CF-End + CF-Ack.
_CONTROL_TA = sum(1 << subtype for subtype in (4, 5, 6, 8, 9, 10, 11, 14, 15))

_AUTH = 11
_AUTH_SAE = 3

# Action frame categories and actions whose bodies hold elements detectors read.
_RADIO_MEASUREMENT = 5
_NEIGHBOR_RESPONSE = 5
_PUBLIC_ACTION = 4
_PUBLIC_VENDOR = 9
_WMM_ACTION = 17
_VENDOR_ACTION = 127
_P2P_OUI_TYPE = b"\x50\x6f\x9a\x09"

_LLC_SNAP = b"\xaa\xaa\x03\x00\x00\x00"
_ETHER_EAPOL = b"\x88\x8e"
_ETHER_IPV4 = b"\x08\x00"

NETGEAR_OFFSET = 1180
_NETGEAR_BYTES = b"\x6a\x39\x58\x01"


class Malformed(Exception):
    pass


def _action_elements(buf: bytes, body: int, end: int) -> int:
    """Where the elements of an action frame start, for the kinds that carry ones a
    detector looks at; -1 for the rest (whose bodies are not element lists)."""
    size = end - body
    if size < 2:
        return -1
    category = buf[body]
    action = buf[body + 1]
    if category == _RADIO_MEASUREMENT and action == _NEIGHBOR_RESPONSE:
        return body + 3  # dialog token, then neighbor report elements
    if category == _WMM_ACTION:
        return body + 4  # action, dialog token, status, then TSPEC elements
    if category == _VENDOR_ACTION and size >= 7 and buf[body + 1 : body + 5] == _P2P_OUI_TYPE:
        return body + 7  # OUI and type, subtype, dialog token (P2P action frames)
    if (
        category == _PUBLIC_ACTION
        and action == _PUBLIC_VENDOR
        and size >= 8
        and buf[body + 2 : body + 6] == _P2P_OUI_TYPE
    ):
        return body + 8  # P2P public action: OUI and type, subtype, dialog token
    return -1


def decode(frame: Frame, datapad: bool = False) -> None:
    buf = frame.data
    start = frame.start
    end = frame.end
    if end - start < 10:
        raise Malformed("shorter than any 802.11 header")
    fc = buf[start]
    if fc & 3:
        raise Malformed("unknown 802.11 protocol version")
    kind = (fc >> 2) & 3
    subtype = fc >> 4
    flags = buf[start + 1]
    frame.type = kind
    frame.subtype = subtype
    frame.flags = flags
    frame.tags = 0
    frame.addr1 = buf[start + 4 : start + 10]
    if kind == 0:
        _management(frame, buf, start, end, subtype, flags)
    elif kind == 2:
        _data(frame, buf, start, end, subtype, flags, datapad)
    elif kind == 1:
        frame.kind = F.CONTROL
        # RTS, PS-Poll, BlockAck(Req), CF-End and the NDP announcements carry a
        # transmitter; ACK, CTS and the control wrapper do not, whatever follows them.
        has_ta = _CONTROL_TA >> subtype & 1 and end - start >= 16
        frame.addr2 = buf[start + 10 : start + 16] if has_ta else b""
        frame.addr3 = frame.addr4 = b""
        frame.bssid = frame.transmitter = b""
        frame.source = frame.addr2
        frame.dest = frame.addr1
    else:
        raise Malformed("reserved 802.11 frame type")


def _management(frame: Frame, buf: bytes, start: int, end: int, subtype: int, flags: int) -> None:
    if end - start < 24:
        raise Malformed("management frame shorter than its header")
    frame.kind = F.MGMT_KINDS[subtype]
    frame.addr2 = source = buf[start + 10 : start + 16]
    frame.addr3 = bssid = buf[start + 16 : start + 22]
    frame.addr4 = b""
    frame.dest = frame.addr1
    frame.source = source
    frame.bssid = frame.transmitter = bssid
    frame.reset_management()
    body = start + (28 if flags & FLAG_ORDER else 24)
    frame.body = body
    if flags & FLAG_PROTECTED:
        frame.ies = end
        return
    fixed = _FIXED[subtype]
    if fixed < 0:
        frame.ies = end
        if subtype in (_ACTION, _ACTION_NO_ACK):
            first = _action_elements(buf, body, end)
            if first >= 0:
                elements.walk(frame, buf, first, end)
        return
    if subtype == _AUTH and end - body >= 2 and _u16(buf, body)[0] == _AUTH_SAE:
        # An SAE commit or confirm carries a group, scalar and element, not
        # information elements: walking them would find garbage "elements".
        frame.ies = end
        return
    ies = body + fixed
    if ies > end:
        frame.tags |= A.SHORT_BODY
        frame.ies = end
        return
    frame.ies = ies
    if subtype in (_BEACON, _PROBE_RESP):
        frame.tsf = _u64(buf, body)[0]
        frame.beacon_interval = _u16(buf, body + 8)[0]
        frame.capability = capability = _u16(buf, body + 10)[0]
        if capability & 0x10:
            frame.crypt = F.CRYPT_WEP  # replaced by WPA/RSN bits if elements say so
        if (
            subtype == _BEACON
            and end - start >= NETGEAR_OFFSET + 4
            and buf[start + NETGEAR_OFFSET : start + NETGEAR_OFFSET + 4] == _NETGEAR_BYTES
        ):
            frame.tags |= A.NETGEAR_BEACON
    elif subtype in (_DEAUTH, _DISASSOC):
        frame.reason = _u16(buf, body)[0]
        return
    elif subtype <= 3:
        frame.capability = _u16(buf, body)[0]
    elements.walk(frame, buf, ies, end)
    crypt = frame.crypt
    if crypt & (F.CRYPT_WPA | F.CRYPT_RSN):
        frame.crypt = crypt & ~F.CRYPT_WEP


def _data(
    frame: Frame, buf: bytes, start: int, end: int, subtype: int, flags: int, datapad: bool
) -> None:
    if end - start < 24:
        raise Malformed("data frame shorter than its header")
    frame.kind = F.DATA
    a1 = frame.addr1
    frame.addr2 = a2 = buf[start + 10 : start + 16]
    frame.addr3 = a3 = buf[start + 16 : start + 22]
    header = 24
    ds = flags & 3
    if ds == 0:
        frame.addr4 = b""
        frame.dest, frame.source, frame.bssid = a1, a2, a3
    elif ds == FLAG_FROM_DS:
        frame.addr4 = b""
        frame.dest, frame.bssid, frame.source = a1, a2, a3
    elif ds == FLAG_TO_DS:
        frame.addr4 = b""
        frame.bssid, frame.source, frame.dest = a1, a2, a3
    else:
        if end - start < 30:
            raise Malformed("WDS data frame shorter than its header")
        frame.addr4 = a4 = buf[start + 24 : start + 30]
        # A WDS link between two APs: the transmitter stands for the network.
        frame.bssid, frame.dest, frame.source = a2, a3, a4
        header = 30
    frame.transmitter = frame.bssid
    if subtype & 0x08:  # QoS data: QoS control, and HT control with the order bit
        if start + header + 2 <= end and buf[start + header] & 0x80:
            return  # an A-MSDU: its subframes are not looked into
        header += 6 if flags & FLAG_ORDER else 2
    if subtype & 0x04 or flags & FLAG_PROTECTED:
        return  # no payload (null data), or an encrypted one
    if datapad:
        header = (header + 3) & -4
    llc = start + header
    if llc + 8 > end or buf[llc : llc + 6] != _LLC_SNAP:
        return
    ether = buf[llc + 6 : llc + 8]
    payload = llc + 8
    if ether == _ETHER_EAPOL:
        frame.kind = F.DATA | F.EAPOL
        frame.eapol = payload
    elif ether == _ETHER_IPV4:
        frame.kind = F.DATA | F.IPV4
        frame.ipv4 = payload
        # IPv4 with UDP between ports 67 and 68 is DHCP.
        if payload + 28 <= end and buf[payload] >> 4 == 4 and buf[payload + 9] == 17:
            udp = payload + (buf[payload] & 0x0F) * 4
            if udp + 8 <= end:
                sport = (buf[udp] << 8) | buf[udp + 1]
                dport = (buf[udp + 2] << 8) | buf[udp + 3]
                if (sport == 68 and dport == 67) or (sport == 67 and dport == 68):
                    frame.kind = F.DATA | F.IPV4 | F.DHCP
                    frame.dhcp = udp + 8
