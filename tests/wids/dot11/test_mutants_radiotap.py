"""Radiotap header boundaries the scapy-built headers of test_radiotap.py do not reach: a
header with no fields at all, a vendor namespace that ends exactly at the header's end,
an empty continuation word, present words whose last bytes hold field bits, a record of
only its header, the weakest signal, and the layout memo (used, told apart by every
present word, bounded)."""

from __future__ import annotations

import struct

from scapy.layers.dot11 import Dot11, Dot11Beacon, Dot11Elt

from kisalert.wids.dot11 import decoder, radiotap
from kisalert.wids.dot11.frame import Frame
from tests.wids import captures as C
from tests.wids.frames import AP, BROADCAST, beacon

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


def test_fields_after_an_empty_continuation_word_are_found() -> None:
    # Word 0 announces bits 32-63 of the radiotap namespace, word 1 (those bits, none
    # set) announces a new radiotap namespace, whose word 2 holds the fields.
    ext, radiotap_ns = 1 << 31, 1 << 29
    words = struct.pack("<III", ext, ext | radiotap_ns, 1 << 1 | 1 << 3 | 1 << 5)
    fields = bytes([radiotap.FLAG_FCS, 0]) + C.channel_field(5180) + C.dbm(-61)
    head = struct.pack("<BBH", 0, 0, 4 + len(words) + len(fields)) + words + fields
    frame = decoded(head + BEACON + b"FCS!")
    assert (frame.freq, frame.signal) == (5180, -61)
    assert frame.end == len(head) + len(BEACON)
    assert frame.ssid == b"corp"


def test_a_bad_checksum_record_of_only_its_radiotap_header_counts_as_bad_fcs() -> None:
    # The frame itself was cut away; the capture still says it was received damaged.
    data = C.radiotap_header([{1: bytes([radiotap.FLAG_BAD_FCS])}])
    assert decoder.decode(Frame(), 127, data) == decoder.BAD_FCS


def test_the_present_words_end_at_the_first_without_the_extension_bit() -> None:
    # HE and HE-MU fields set bits 23 and 24, the neighbours of bit 31 in the word's
    # last two bytes; their data bytes (0x81 each) must not be read as present words.
    present = 1 << 23 | 1 << 24
    head = struct.pack("<BBHI", 0, 0, 32, present) + b"\x81" * 24
    frame = decoded(head + BEACON)
    assert frame.start == 32
    assert frame.ssid == b"corp"


def test_headers_of_several_present_words_keep_their_own_layouts() -> None:
    # Two interfaces of one capture: the same first word, and a second namespace whose
    # TSFT (aligned to 8) moves the signal of the second one further on.
    first = C.radiotap_header([{3: C.channel_field(2412)}, {5: C.dbm(-61)}], BEACON)
    tsft = {0: bytes(8), 5: C.dbm(-70)}
    second = C.radiotap_header([{3: C.channel_field(5180)}, tsft], BEACON)
    assert first[4:8] == second[4:8]
    frame = decoded(first)
    assert (frame.freq, frame.signal) == (2412, -61)
    frame = decoded(second)
    assert (frame.freq, frame.signal) == (5180, -70)


def test_the_layout_memo_never_holds_more_than_its_bound() -> None:
    # One driver per present word: more layouts than the memo keeps.
    for present in range(radiotap._CACHE_MAX + 44):
        head = struct.pack("<BBHI", 0, 0, 200, present) + bytes(192)
        assert decoder.decode(Frame(), 127, head + BEACON) == decoder.DECODED
        assert len(radiotap._cache) <= radiotap._CACHE_MAX


def test_without_a_flags_field_the_last_byte_of_the_frame_is_not_taken_for_flags() -> None:
    # The record ends in "@", 0x40: read as radiotap flags that is "bad FCS".
    dot11 = bytes(
        Dot11(type=0, subtype=8, addr1=BROADCAST, addr2=AP, addr3=AP)
        / Dot11Beacon()
        / Dot11Elt(ID=0, info=b"corp@")
    )
    head = C.radiotap_header([{3: C.channel_field(2437), 5: C.dbm(-50)}])
    frame = decoded(head + dot11)
    assert frame.end == len(head) + len(dot11)
    assert frame.ssid == b"corp@"


def test_the_weakest_signal_a_radiotap_byte_holds_reads_minus_128_dbm() -> None:
    frame = decoded(C.radiotap_bytes(BEACON, signal=-128))
    assert frame.signal == -128
