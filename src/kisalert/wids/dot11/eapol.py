"""EAPOL inside open data frames: EAPOL-Key handshake messages and EAP-WSC (WPS).

Parsed only for frames the header decoder marked EAPOL, which are rare, so these
return small records.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_key_head = struct.Struct(">BHHQ32s").unpack_from  # descriptor, info, key length, replay, nonce
_u16be = struct.Struct(">H").unpack_from

EAP_PACKET = 0
EAPOL_KEY = 3

DESCRIPTOR_RSN = 2
DESCRIPTOR_WPA = 254

# Key information bits
KEY_VERSION_MASK = 0x0007
KEY_VERSION_RC4 = 1  # HMAC-MD5 MIC, RC4 key data: the only non-AES version
KEY_PAIRWISE = 0x0008
KEY_INSTALL = 0x0040
KEY_ACK = 0x0080
KEY_MIC = 0x0100
KEY_SECURE = 0x0200

_KEY_FIXED = 95  # descriptor .. key data length, with a 16-byte MIC

EAP_TYPE_EXPANDED = 254
_WFA_SIMPLE_CONFIG = b"\x00\x37\x2a\x00\x00\x00\x01"  # vendor id and type
_WSC_MSG = 4
_WSC_FLAG_LF = 0x02  # a 2-byte message length follows the flags (0x01 is "more fragments")
_WSC_MESSAGE_TYPE = 0x1022
WSC_M3 = 0x07


@dataclass(frozen=True, slots=True)
class EapolKey:
    dot1x_length: int  # the 802.1X header's body length
    descriptor: int
    info: int
    replay: int
    nonce: bytes
    key_data_length: int  # -1 when the frame ends before the field

    @property
    def version(self) -> int:
        return self.info & KEY_VERSION_MASK

    def has(self, bits: int) -> bool:
        return self.info & bits == bits


def header(buf: bytes, pos: int, end: int) -> tuple[int, int] | None:
    """(EAPOL packet type, 802.1X body length), or None if the frame is too short."""
    if pos + 4 > end:
        return None
    return buf[pos + 1], _u16be(buf, pos + 2)[0]


def key(buf: bytes, pos: int, end: int) -> EapolKey | None:
    """The RSN or WPA EAPOL-Key message at `pos` (the 802.1X header), or None if it is
    not one. Legacy RC4 descriptors (type 1, dynamic WEP) have another layout, in which
    "key information" and "nonce" would be read from unrelated fields."""
    head = header(buf, pos, end)
    if head is None or head[0] != EAPOL_KEY or pos + 4 + 45 > end:
        return None
    descriptor, info, _length, replay, nonce = _key_head(buf, pos + 4)
    if descriptor != DESCRIPTOR_RSN and descriptor != DESCRIPTOR_WPA:
        return None
    data_at = pos + 4 + _KEY_FIXED - 2
    key_data = _u16be(buf, data_at)[0] if data_at + 2 <= end else -1
    return EapolKey(head[1], descriptor, info, replay, nonce, key_data)


def wsc_message_type(buf: bytes, pos: int, end: int) -> int | None:
    """The WPS message type of an EAP-WSC message at `pos` (the 802.1X header)."""
    head = header(buf, pos, end)
    if head is None or head[0] != EAP_PACKET:
        return None
    eap = pos + 4
    # code, identifier, length, type, vendor id (3), vendor type (4), op-code, flags
    if eap + 14 > end or buf[eap + 4] != EAP_TYPE_EXPANDED:
        return None
    if buf[eap + 5 : eap + 12] != _WFA_SIMPLE_CONFIG or buf[eap + 12] != _WSC_MSG:
        return None
    attrs = eap + 14 + (2 if buf[eap + 13] & _WSC_FLAG_LF else 0)
    stop = min(end, eap + _u16be(buf, eap + 2)[0])
    while attrs + 4 <= stop:
        kind, length = struct.unpack_from(">HH", buf, attrs)
        if kind == _WSC_MESSAGE_TYPE and length >= 1 and attrs + 5 <= stop:
            return buf[attrs + 4]
        attrs += 4 + length
    return None
