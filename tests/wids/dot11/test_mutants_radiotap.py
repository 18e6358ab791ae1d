"""Radiotap header boundaries the scapy-built headers of test_radiotap.py do not reach: a
header with no fields at all, a vendor namespace that ends exactly at the header's end,
and the layout memo being used (the only thing that makes repeated layouts cheap)."""

from __future__ import annotations

import struct

from kisalert.wids.dot11 import decoder, radiotap
from kisalert.wids.dot11.frame import Frame
from tests.wids import captures as C
from tests.wids.frames import beacon

BEACON = bytes(beacon(ssid=b"corp"))


def decoded(data: bytes) -> Frame:
    frame = Frame()
    assert decoder.decode(frame, 127, data) == decoder.DECODED
    return frame


def test_a_header_of_present_words_only_decodes_the_frame_after_it() -> None:
    # The present words end exactly at the header length: nothing overruns.
    for words in ([0], [1 << 31 | 1 << 29, 0], [1 << 31, 1 << 31 | 1 << 29, 0]):
        hlen = 4 + 4 * len(words)
        head = struct.pack(f"<BBH{len(words)}I", 0, 0, hlen, *words)
        frame = decoded(head + BEACON)
        assert (frame.start, frame.freq, frame.signal) == (hlen, 0, 0), words
        assert frame.ssid == b"corp"


def test_a_vendor_namespace_with_no_data_may_end_the_header() -> None:
    # Its 6-byte header (OUI, sub-namespace, skip length 0) takes the last bytes.
    head = C.radiotap_header([{1: bytes([radiotap.FLAG_FCS])}, C.Vendor(b"")])
    assert len(head) == 20 and head[-6:] == b"\x00\x11\x22\x00\x00\x00"
    frame = decoded(head + BEACON + b"FCS!")
    assert frame.start == 20
    assert frame.end == len(head) + len(BEACON)  # the flags were read: the FCS is trimmed
    assert frame.ssid == b"corp"


def test_a_drivers_layout_is_remembered_for_its_next_frames() -> None:
    # A driver writes the same present words on every frame; the walk over them is done
    # once and its result kept (test_the_layout_cache_stays_bounded checks the bound).
    data = C.radiotap_bytes(BEACON, freq=5180, signal=-61, tsft=1)
    frame = decoded(data)
    assert (frame.freq, frame.signal) == (5180, -61)
    hlen = frame.start
    assert radiotap._cache == {data[4:8]: (hlen, 16, 18, 22)}
    frame = decoded(data)
    assert (frame.freq, frame.signal, frame.start) == (5180, -61, hlen)
