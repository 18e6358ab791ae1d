"""The link types the WIDS engine decodes, and their names for summaries."""

from __future__ import annotations

IEEE802_11 = 105  # raw 802.11, no capture header
PPI = 192  # Per-Packet Information header, then (usually) 802.11
RADIOTAP = 127  # radiotap header, then 802.11

DECODED = frozenset({IEEE802_11, PPI, RADIOTAP})

# Or-ed into a record's link type when the capture kept less of the frame than was
# on the air (its snap length): elements that run past such a record's end were cut
# by the capture, not sent that way. Link types are 16-bit, so the bit is free.
SNAPPED = 1 << 16

_NAMES = {
    0: "NULL",
    1: "EN10MB",
    101: "RAW",
    105: "IEEE802_11",
    113: "LINUX_SLL",
    119: "PRISM_HEADER",
    127: "IEEE802_11_RADIO",
    163: "IEEE802_11_AVS",
    192: "PPI",
    228: "IPV4",
    229: "IPV6",
    276: "LINUX_SLL2",
}


def name(linktype: int) -> str:
    """`IEEE802_11_RADIO (127)`, or `LINKTYPE 147` for one without a common name."""
    known = _NAMES.get(linktype)
    return f"{known} ({linktype})" if known else f"LINKTYPE {linktype}"
