"""The PPI capture header (link type 192): its 802.11-common field.

PPI wraps another link type; only raw 802.11 (105) inside is decoded.
"""

from __future__ import annotations

import struct

from kisalert.wids.capture.linktypes import IEEE802_11
from kisalert.wids.dot11.frame import Frame

_header = struct.Struct("<BBHI").unpack_from
_field = struct.Struct("<HH").unpack_from
_u16 = struct.Struct("<H").unpack_from

_COMMON = 2  # 802.11-common field type
_COMMON_FCS = 0x0001
_COMMON_BAD_FCS = 0x0004
_ALIGNED = 0x01


class PpiError(Exception):
    pass


class NotDot11(Exception):
    """A PPI record that wraps something other than 802.11."""

    def __init__(self, dlt: int) -> None:
        super().__init__(dlt)
        self.dlt = dlt


def decode(frame: Frame, buf: bytes) -> bool:
    """Fill frequency and signal, set `frame.start` and `frame.end`.

    Returns False when the 802.11-common field marks the frame's FCS as bad.
    """
    size = len(buf)
    if size < 8:
        raise PpiError("record shorter than a PPI header")
    version, flags, hlen, dlt = _header(buf, 0)
    if version != 0 or hlen < 8 or hlen > size:
        raise PpiError("bad PPI header")
    if dlt != IEEE802_11:
        raise NotDot11(dlt)
    frame.freq = 0
    frame.signal = 0
    good = True
    fcs = False
    pos = 8
    while pos + 4 <= hlen:
        kind, length = _field(buf, pos)
        value = pos + 4
        if value + length > hlen:
            raise PpiError("PPI field overruns the header")
        if kind == _COMMON and length >= 20:
            common_flags = _u16(buf, value + 8)[0]
            fcs = bool(common_flags & _COMMON_FCS)
            good = not common_flags & _COMMON_BAD_FCS
            frame.freq = _u16(buf, value + 12)[0]
            signal = buf[value + 18]
            frame.signal = signal - 256 if signal > 127 else signal
        pos = value + length
        if flags & _ALIGNED:
            pos = (pos + 3) & -4
    frame.start = hlen
    frame.end = size - 4 if fcs else size
    return good
