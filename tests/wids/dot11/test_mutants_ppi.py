"""PPI header boundaries the scapy-built records in test_ppi.py do not reach."""

from __future__ import annotations

import struct

from kisalert.wids.dot11 import decoder
from kisalert.wids.dot11.frame import Frame
from tests.wids import captures as C
from tests.wids.frames import beacon, deauth

DEAUTH = bytes(deauth())
BEACON = bytes(beacon())


def ppi_header(hlen: int, dlt: int = 105, flags: int = 0) -> bytes:
    return struct.pack("<BBHI", 0, flags, hlen, dlt)


def test_a_bare_ppi_header_of_another_link_type_is_other_link_not_malformed() -> None:
    # Exactly 8 bytes is a whole PPI header; what it wraps (nothing, here) is not 802.11.
    assert decoder.decode(Frame(), 192, ppi_header(8, dlt=1)) == decoder.OTHER_LINK


def test_a_header_length_below_eight_is_malformed_even_if_the_rest_looks_like_802_11() -> None:
    # With a header length of 0 the record read from byte 0 would be a management frame.
    data = ppi_header(0) + DEAUTH
    assert decoder.decode(Frame(), 192, data) == decoder.MALFORMED


def test_a_field_header_in_the_last_four_bytes_that_overruns_is_malformed() -> None:
    field = struct.pack("<HH", 30002, 4)  # claims 4 value bytes, the header ends after it
    data = ppi_header(12) + field + DEAUTH
    assert decoder.decode(Frame(), 192, data) == decoder.MALFORMED


def test_a_long_field_of_another_type_is_not_read_as_802_11_common() -> None:
    common = struct.pack("<QHHHHBBbb", 0, 0, 10, 5180, 0x0140, 0, 0, -40, -95)
    vendor = struct.pack("<HH", 30002, len(common)) + common  # same bytes, not type 2
    frame = Frame()
    assert (
        decoder.decode(frame, 192, ppi_header(8 + len(vendor)) + vendor + BEACON) == decoder.DECODED
    )
    assert (frame.freq, frame.signal) == (0, 0)


def test_signal_of_127_is_positive() -> None:
    frame = Frame()
    assert decoder.decode(frame, 192, C.ppi_bytes(BEACON, signal=127)) == decoder.DECODED
    assert frame.signal == 127
    assert decoder.decode(frame, 192, C.ppi_bytes(BEACON, signal=-128)) == decoder.DECODED
    assert frame.signal == -128


def test_aligned_fields_already_on_a_boundary_are_not_skipped() -> None:
    # The first field ends at byte 24, already 4-aligned: the common field follows directly.
    data = C.ppi_bytes(BEACON, freq=5745, signal=-63, aligned=True, extra_fields=[(3, bytes(12))])
    frame = Frame()
    assert decoder.decode(frame, 192, data) == decoder.DECODED
    assert (frame.freq, frame.signal, frame.ssid) == (5745, -63, b"corp")
