"""From a capture record to a decoded Frame: the capture header by link type, then 802.11.

The one place a link type chooses a decoder (127 radiotap, 105 raw 802.11, 192 PPI).
"""

from __future__ import annotations

import struct

from kisalert.wids.capture.linktypes import IEEE802_11, PPI, RADIOTAP
from kisalert.wids.dot11 import header, ppi, radiotap
from kisalert.wids.dot11.frame import Frame

# What `decode` says of a record.
DECODED = 0
OTHER_LINK = 1  # a link type (or PPI payload) that carries no 802.11
MALFORMED = 2  # a header that does not fit the record
BAD_FCS = 3  # the capture marks the frame as received with a bad checksum

# IndexError and struct.error: a parser reading past a length it did not check is a
# malformed frame to count, not a reason for the engine to stop.
_BAD = (radiotap.RadiotapError, ppi.PpiError, header.Malformed, IndexError, struct.error)


def decode(frame: Frame, linktype: int, data: bytes) -> int:
    frame.data = data
    try:
        if linktype == RADIOTAP:
            flags = radiotap.decode(frame, data)
            if flags & radiotap.FLAG_BAD_FCS:
                return BAD_FCS
            header.decode(frame, bool(flags & radiotap.FLAG_DATAPAD))
        elif linktype == IEEE802_11:
            frame.start = 0
            frame.end = len(data)
            frame.freq = 0
            frame.signal = 0
            header.decode(frame)
        elif linktype == PPI:
            if not ppi.decode(frame, data):
                return BAD_FCS
            header.decode(frame)
        else:
            return OTHER_LINK
    except ppi.NotDot11:
        return OTHER_LINK
    except _BAD:
        return MALFORMED
    return DECODED
