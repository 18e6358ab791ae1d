"""The radiotap header: fields located by their present words, checked against scapy."""

from __future__ import annotations

import contextlib
import random
import struct
from typing import Any

import pytest
from scapy.layers.dot11 import Dot11, Dot11QoS, RadioTap
from scapy.layers.eap import EAPOL

from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import decoder, radiotap
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame
from kisalert.wids.engine import Engine
from tests.wids import captures as C
from tests.wids.frames import AP, STA, beacon, deauth, make_config

BEACON = bytes(beacon(ssid=b"corp"))
SCAPY_FIELDS = [
    # Fields scapy both writes and parses as the radiotap standard defines them (its
    # XChannel is a byte short, and its HE-MU default is empty, so those two are left out).
    "TSFT",
    "Flags",
    "Rate",
    "Channel",
    "dBm_AntSignal",
    "dBm_AntNoise",
    "Lock_Quality",
    "Antenna",
    "RXFlags",
    "TXFlags",
    "MCS",
    "A_MPDU",
    "VHT",
    "timestamp",
    "HE",
    "HE_MU_other_user",
    "L_SIG",
]


def decoded(data: bytes, linktype: int = 127) -> Frame:
    frame = Frame()
    assert decoder.decode(frame, linktype, data) == decoder.DECODED
    return frame


def test_frequency_and_signal_match_scapy_for_any_set_of_fields() -> None:
    rng = random.Random(5)
    frame = Frame()
    for _ in range(400):
        chosen = [name for name in SCAPY_FIELDS if rng.random() < 0.5]
        values: dict[str, Any] = {}
        if "Channel" in chosen:
            values["ChannelFrequency"] = rng.choice([2412, 2437, 2484, 5180, 5745, 5955])
        if "dBm_AntSignal" in chosen:
            values["dBm_AntSignal"] = rng.randint(-128, 127)
        if "Flags" in chosen:
            values["Flags"] = 0
        data = bytes(RadioTap(present="+".join(chosen) or 0, **values) / Dot11())
        theirs = RadioTap(data)
        assert not theirs.notdecoded
        radiotap.decode(frame, data)
        assert frame.freq == (theirs.ChannelFrequency if "Channel" in chosen else 0), chosen
        assert frame.signal == (theirs.dBm_AntSignal if "dBm_AntSignal" in chosen else 0), chosen
        assert frame.start == theirs.len == len(data) - 24


def test_tsft_is_aligned_to_eight_bytes_after_extended_present_words() -> None:
    # Two present words end at offset 12: TSFT sits at 16, after 4 bytes of padding.
    data = C.radiotap_header(
        [{1: b"\x00"}, {0: struct.pack("<Q", 123), 3: C.channel_field(5745), 5: C.dbm(-71)}]
    )
    assert data[12:16] == b"\x00" * 4
    assert struct.unpack_from("<Q", data, 16)[0] == 123
    frame = decoded(data + BEACON)
    assert (frame.freq, frame.signal) == (5745, -71)
    assert frame.start == len(data)
    theirs = RadioTap(C.radiotap_header([{0: struct.pack("<Q", 7), 3: C.channel_field(5180)}]))
    assert theirs.mac_timestamp == 7 and theirs.ChannelFrequency == 5180


@pytest.mark.parametrize("words", [radiotap.MAX_PRESENT_WORDS, radiotap.MAX_PRESENT_WORDS + 1])
def test_present_words_are_bounded(words: int) -> None:
    # Radiotap namespaces with no fields, then one with the channel: a header with
    # thousands of them was walked bit by bit for every frame (10 frames/s).
    namespaces: list[dict[int, bytes] | C.Vendor] = [{} for _ in range(words - 1)]
    namespaces.append({3: C.channel_field(2437)})
    data = C.radiotap_header(namespaces, BEACON)
    frame = Frame()
    if words <= radiotap.MAX_PRESENT_WORDS:
        assert decoder.decode(frame, 127, data) == decoder.DECODED
        assert frame.start == len(data) - len(BEACON)
    else:
        assert decoder.decode(frame, 127, data) == decoder.MALFORMED


def test_multi_antenna_namespaces_as_intel_drivers_write_them() -> None:
    # The first namespace has the combined signal; each further radiotap namespace
    # (announced by bit 29) one antenna's signal and number.
    namespaces: list[dict[int, bytes] | C.Vendor] = [
        {
            0: bytes(8),
            1: bytes([radiotap.FLAG_FCS]),
            2: b"\x0c",
            3: C.channel_field(5180, 0x0140),
            5: C.dbm(-42),
            14: b"\x00\x00",
            19: b"\x07\x00\x07",
        },
        {5: C.dbm(-40), 11: b"\x00"},
        {5: C.dbm(-44), 11: b"\x01"},
    ]
    data = C.radiotap_header(namespaces, BEACON + b"FCS!")
    theirs = RadioTap(data)
    frame = decoded(data)
    assert (frame.freq, frame.signal) == (theirs.ChannelFrequency, theirs.dBm_AntSignal)
    assert (frame.freq, frame.signal) == (5180, -42)
    assert frame.start == theirs.len
    assert frame.end == len(data) - 4
    assert frame.ssid == b"corp"
    assert not frame.tags & A.OVERRUN


def test_a_vendor_namespace_is_skipped_by_its_skip_length() -> None:
    # Channel before the vendor data, the signal only in the radiotap namespace after it:
    # the signal is found only if the vendor data (an odd 7 bytes) is skipped whole.
    namespaces: list[dict[int, bytes] | C.Vendor] = [
        {1: b"\x00", 3: C.channel_field(2462)},
        C.Vendor(b"\xaa" * 7),
        {5: C.dbm(-66), 6: C.dbm(-90)},
    ]
    data = C.radiotap_header(namespaces, BEACON)
    frame = decoded(data)
    assert (frame.freq, frame.signal) == (2462, -66)
    assert frame.ssid == b"corp"
    # The same present words with a longer vendor block: vendor layouts are not reused.
    longer = C.radiotap_header(
        [namespaces[0], C.Vendor(b"\xbb" * 30), {5: C.dbm(-55), 6: C.dbm(-90)}], BEACON
    )
    assert longer[4:16] == data[4:16]
    frame = decoded(longer)
    assert (frame.freq, frame.signal) == (2462, -55)
    assert frame.ssid == b"corp"


def test_a_vendor_namespace_that_overruns_the_header_is_malformed() -> None:
    data = bytearray(C.radiotap_header([{1: b"\x00"}, C.Vendor(b"\xaa" * 7)]))
    struct.pack_into("<H", data, len(data) - 9, 200)  # the skip length
    frame = Frame()
    assert decoder.decode(frame, 127, bytes(data) + BEACON) == decoder.MALFORMED


def test_namespace_bits_in_the_last_present_word_announce_nothing() -> None:
    # Bit 30 without bit 31: no vendor namespace follows, so no vendor data is read.
    data = bytearray(C.radiotap_header([{3: C.channel_field(2412), 5: C.dbm(-48)}]))
    struct.pack_into("<I", data, 4, struct.unpack_from("<I", data, 4)[0] | (1 << 30))
    frame = decoded(bytes(data) + BEACON)
    assert (frame.freq, frame.signal, frame.ssid) == (2412, -48, b"corp")


def test_xchannel_gives_the_frequency_when_channel_is_absent() -> None:
    xchannel = struct.pack("<IHBB", 0x140, 5200, 40, 20)
    frame = decoded(C.radiotap_header([{5: C.dbm(-30), 18: xchannel}], BEACON))
    assert (frame.freq, frame.signal) == (5200, -30)


def test_unknown_fields_leave_what_comes_before_them() -> None:
    # Bit 28 (TLVs) and the bits of a namespace's second word define no fixed field:
    # the fields before them are still read, and the frame starts at the header length.
    head = C.radiotap_header([{3: C.channel_field(2412), 5: C.dbm(-20)}])
    data = bytearray(head)
    struct.pack_into("<I", data, 4, struct.unpack_from("<I", data, 4)[0] | (1 << 28))
    data += b"\x00" * 8  # some TLV bytes
    struct.pack_into("<H", data, 2, len(data))
    frame = decoded(bytes(data) + BEACON)
    assert (frame.freq, frame.signal, frame.ssid) == (2412, -20, b"corp")
    # A continuation word (bit 31, neither 29 nor 30) with a bit set.
    data = bytearray(struct.pack("<BBHII", 0, 0, 16, (1 << 31) | (1 << 3), 1 << 2))
    data += C.channel_field(2437)
    frame = decoded(bytes(data) + BEACON)
    assert frame.freq == 2437
    assert frame.start == 16


def test_fcs_flag_keeps_the_fcs_out_of_the_frame() -> None:
    with_fcs = C.radiotap_bytes(BEACON, flags=radiotap.FLAG_FCS) + b"\x46\x43\x53\x21"
    frame = decoded(with_fcs)
    assert frame.end == len(with_fcs) - 4
    assert frame.ssid == b"corp"
    assert frame.tags & A.OVERRUN == 0  # the FCS bytes are not read as an element
    # Without the flag the same bytes are read as a broken element: the flag matters.
    frame = decoded(C.radiotap_bytes(BEACON) + b"\x46\x43\x53\x21")
    assert frame.tags & A.OVERRUN


def test_bad_fcs_frames_are_counted_and_dropped() -> None:
    bad = C.radiotap_bytes(bytes(deauth()), flags=radiotap.FLAG_FCS | radiotap.FLAG_BAD_FCS)
    frame = Frame()
    assert decoder.decode(frame, 127, bad + b"\x00" * 4) == decoder.BAD_FCS
    engine = Engine(make_config())
    for i in range(30):  # a deauth flood, every frame with a bad checksum
        engine.feed(127, i * 10_000, bad + b"\x00" * 4)
    assert engine.counts.bad_fcs == 30
    assert engine.counts.decoded == 0
    assert engine.take_hits() == []


def test_datapad_aligns_the_payload_after_a_qos_header() -> None:
    # A QoS data header is 26 bytes; with datapad the payload starts at 28.
    frame80211 = Dot11(type=2, subtype=8, FCfield="to_DS", addr1=AP, addr2=STA, addr3=AP)
    head = bytes(frame80211 / Dot11QoS())
    assert len(head) == 26
    llc = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
    body = bytes(EAPOL(version=2, type=3) / (b"\x02" + b"\x00" * 94))
    padded = C.radiotap_bytes(head + b"\x00\x00" + llc + body, flags=radiotap.FLAG_DATAPAD)
    frame = decoded(padded)
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == padded.index(llc) + len(llc)
    # The same bytes without the flag: the pad is read as the LLC header, which it is not.
    frame = decoded(C.radiotap_bytes(head + b"\x00\x00" + llc + body))
    assert frame.kind == F.DATA
    # And no pad without the flag.
    unpadded = C.radiotap_bytes(head + llc + body)
    frame = decoded(unpadded)
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == unpadded.index(llc) + len(llc)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x08",  # shorter than a radiotap header
        b"\x01\x00\x08\x00\x00\x00\x00\x00" + BEACON,  # version 1
        b"\x00\x00\x04\x00\x00\x00\x00\x00" + BEACON,  # length below 8
        b"\x00\x00\xff\x00\x00\x00\x00\x00" + BEACON,  # length past the record
        b"\x00\x00\x0c\x00\x00\x00\x00\x80\x00\x00\x00\x80" + BEACON,  # present words overrun
        b"\x00\x00\x08\x00\x01\x00\x00\x00" + BEACON,  # TSFT past the header's end
        b"\x00\x00\x09\x00\x02\x00\x00\x00\x10",  # an FCS flag, no room for a frame
    ],
)
def test_bad_radiotap_headers_are_malformed(data: bytes) -> None:
    assert decoder.decode(Frame(), 127, data) == decoder.MALFORMED


def test_the_layout_cache_stays_bounded() -> None:
    frame = Frame()
    for present in range(3000):
        words = struct.pack("<I", present & 0x0FFFFFFF)
        data = b"\x00\x00" + struct.pack("<H", 200) + words + bytes(192) + BEACON
        with contextlib.suppress(radiotap.RadiotapError):
            radiotap.decode(frame, data)
    assert len(radiotap._cache) <= radiotap._CACHE_MAX


def test_fuzz_radiotap_headers_raise_only_radiotap_error() -> None:
    rng = random.Random(99)
    seeds = [
        C.radiotap_bytes(BEACON, tsft=1),
        C.radiotap_header(
            [{0: bytes(8), 1: b"\x10", 3: C.channel_field(5180)}, {5: C.dbm(-1), 11: b"\0"}],
            BEACON + b"FCS!",
        ),
        C.radiotap_header([{1: b"\x00"}, C.Vendor(b"\xaa" * 5), {5: C.dbm(-9)}], BEACON),
    ]
    frame = Frame()
    engine = Engine(make_config())
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(min(len(data), 48))
            data[at] = rng.randrange(256)
        if rng.random() < 0.3:
            del data[rng.randrange(len(data)) :]
        with contextlib.suppress(radiotap.RadiotapError):
            radiotap.decode(frame, bytes(data))
        engine.feed(127, 0, bytes(data))
    assert engine.counts.records == 3000
    assert engine.counts.decoded > 0
