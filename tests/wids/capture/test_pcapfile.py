"""The capture reader: pcap and pcapng in their variants, gzip, and damaged files."""

from __future__ import annotations

import contextlib
import gzip
import itertools
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kisalert.wids.capture import pcapfile
from kisalert.wids.capture.linktypes import SNAPPED
from kisalert.wids.capture.pcapfile import CaptureDamaged, CaptureError, CaptureFile, Record
from kisalert.wids.engine import Engine
from tests.wids import captures as C
from tests.wids.frames import (
    AP,
    STA,
    T0,
    beacon,
    deauth,
    make_config,
    only,
    pcap_bytes,
    radiotap,
    replay,
)

US = 1_000_000
T0_US = round(T0 * US)
BEACON = bytes(radiotap(beacon()))
DEAUTH = bytes(radiotap(deauth()))
RAW_DEAUTH = bytes(deauth())


def read(path: Path) -> list[Record]:
    with CaptureFile(path) as capture:
        return list(capture)


def read_until_damage(path: Path) -> tuple[list[Record], str]:
    records: list[Record] = []
    with CaptureFile(path) as capture, pytest.raises(CaptureDamaged) as damage:
        records.extend(capture)
    return records, str(damage.value)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def rewrite(path: Path, data: bytes) -> None:
    """`path` holding `data`, as a new file. Rewriting a file in place (truncated on
    open) makes ext4 start writing it out at its close (auto_da_alloc), which cost the
    fuzz loops over a millisecond a case, ten times the reading they test."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def common_prefix(a: bytes | bytearray, b: bytes | bytearray) -> int:
    """How many leading bytes `a` and `b` share (a binary search on slices, each
    compared at C speed, instead of a Python loop over megabytes)."""
    low, high = 0, min(len(a), len(b))  # a[:low] == b[:low]; they differ by a[:high + 1]
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


# pcap


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_pcap_in_both_byte_orders_micro_and_nanosecond(
    tmp_path: Path, endian: str, nano: bool
) -> None:
    frames = [BEACON, DEAUTH, BEACON]
    times = [T0, T0 + 0.125, T0 + 1.5]  # fractions a float holds exactly
    path = write(tmp_path / "c.pcap", pcap_bytes(frames, times=times, endian=endian, nano=nano))
    with CaptureFile(path) as capture:
        assert capture.format == "pcap"
        assert not capture.compressed
        records = list(capture)
    assert records == [
        (127, T0_US, BEACON),
        (127, T0_US + 125_000, DEAUTH),
        (127, T0_US + 1_500_000, BEACON),
    ]


def test_pcap_nanosecond_timestamps_are_truncated_to_microseconds(tmp_path: Path) -> None:
    head = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 127)
    record = struct.pack("<IIII", 1000, 999_999_999, len(BEACON), len(BEACON)) + BEACON
    [(_, ts_us, _)] = read(write(tmp_path / "n.pcap", head + record))
    assert ts_us == 1000 * US + 999_999


def test_pcap_with_fcs_bits_in_the_link_type_drops_the_fcs(tmp_path: Path) -> None:
    # Bit 28 set, bits 29-31 = 2 sixteen-bit words: every raw 802.11 frame ends in 4 FCS bytes.
    network = 105 | (1 << 28) | (2 << 29)
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, network)
    data = RAW_DEAUTH + b"\xde\xad\xbe\xef"
    record = struct.pack("<IIII", 1, 0, len(data), len(data)) + data
    assert read(write(tmp_path / "fcs.pcap", head + record)) == [(105, US, RAW_DEAUTH)]


def test_pcap_with_no_records(tmp_path: Path) -> None:
    assert read(write(tmp_path / "empty.pcap", pcap_bytes([]))) == []


# pcapng


def test_pcapng_interfaces_each_with_link_type_and_timestamp_resolution(tmp_path: Path) -> None:
    data = b"".join(
        [
            C.shb(),
            C.idb(127),  # default: microseconds
            C.idb(105, tsresol=9),  # nanoseconds, decimal form
            C.idb(192, tsresol=0x80 | 20),  # 2^-20 s, binary form
            C.idb(1, tsresol=3, tsoffset=1_000_000_000),  # milliseconds, 1e9 s offset
            C.epb(BEACON, T0_US, interface=0),
            C.epb(RAW_DEAUTH, T0_US * 1000 + 999, interface=1),
            C.epb(C.ppi_bytes(RAW_DEAUTH), (1 << 20) * 3 + (1 << 19), interface=2),
            C.epb(b"\x00" * 14, 5_500, interface=3),
            C.epb(DEAUTH, T0_US + 7, interface=0),
        ]
    )
    with CaptureFile(write(tmp_path / "ifaces.pcapng", data)) as capture:
        assert capture.format == "pcapng"
        records = list(capture)
    assert records == [
        (127, T0_US, BEACON),
        (105, T0_US, RAW_DEAUTH),
        (192, 3_500_000, C.ppi_bytes(RAW_DEAUTH)),
        (1, 1_000_000_005 * US + 500_000, b"\x00" * 14),
        (127, T0_US + 7, DEAUTH),
    ]


def test_records_of_other_link_types_are_skipped_and_counted(tmp_path: Path) -> None:
    ethernet = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00" + bytes(46)
    data = C.shb() + C.idb(1) + C.idb(127) + C.idb(192) + C.idb(276)
    data += C.epb(ethernet, 1, 0) + C.epb(DEAUTH, 2, 1) + C.epb(C.ppi_bytes(ethernet, dlt=1), 3, 2)
    data += C.epb(ethernet, 4, 3) + C.epb(C.ppi_bytes(RAW_DEAUTH), 5, 2)
    engine = Engine(make_config())
    for record in read(write(tmp_path / "mixed.pcapng", data)):
        engine.feed(*record)
    counts = engine.counts
    assert (counts.records, counts.decoded, counts.other_link) == (5, 2, 3)
    assert counts.by_linktype == {1: 1, 127: 1, 192: 2, 276: 1}


def test_pcapng_negative_tsoffset(tmp_path: Path) -> None:
    data = C.shb() + C.idb(127, tsoffset=-10) + C.epb(BEACON, 25 * US)
    assert read(write(tmp_path / "off.pcapng", data)) == [(127, 15 * US, BEACON)]


@pytest.mark.parametrize(
    ("tsoffset", "stamp"),
    [(None, (1 << 64) - 1), (None, pcapfile.MAX_TIME_US + 1), (-100, 99 * US)],
)
def test_pcapng_timestamps_past_year_9999_or_before_1970_are_damage(
    tmp_path: Path, tsoffset: int | None, stamp: int
) -> None:
    # Such a time would overflow the 64-bit packet times and dates downstream.
    head = C.shb() + C.idb(127, tsoffset=tsoffset) + C.epb(BEACON, 200 * US)
    path = write(tmp_path / "time.pcapng", head + C.epb(DEAUTH, stamp))
    records, message = read_until_damage(path)
    assert len(records) == 1
    assert message == f"{path}: corrupt timestamp at byte {len(head)}"
    last = C.shb() + C.idb(127) + C.epb(BEACON, pcapfile.MAX_TIME_US)
    assert read(write(tmp_path / "last.pcapng", last)) == [(127, pcapfile.MAX_TIME_US, BEACON)]


def test_pcapng_sections_start_afresh_and_may_change_byte_order(tmp_path: Path) -> None:
    data = b"".join(
        [
            C.shb("<"),
            C.idb(105, endian="<"),
            C.idb(127, endian="<"),
            C.epb(BEACON, 10, interface=1, endian="<"),
            C.shb(">", comment=b"second section"),
            # Interface 0 of the new section is a radiotap interface in nanoseconds.
            C.idb(127, tsresol=9, endian=">"),
            C.epb(DEAUTH, 20_000, interface=0, endian=">"),
            C.spb(BEACON, endian=">"),
            C.shb("<"),
            C.idb(105, endian="<"),
            C.epb(RAW_DEAUTH, 30, endian="<"),
        ]
    )
    assert read(write(tmp_path / "sections.pcapng", data)) == [
        (127, 10, BEACON),
        (127, 20, DEAUTH),
        (127, 20, BEACON),  # a simple packet block has no time: the last one stands
        (105, 30, RAW_DEAUTH),
    ]


def test_pcapng_an_interface_of_an_earlier_section_is_gone(tmp_path: Path) -> None:
    data = C.shb() + C.idb(127) + C.idb(127) + C.shb() + C.idb(127) + C.epb(BEACON, 1, 1)
    path = write(tmp_path / "gone.pcapng", data)
    records, message = read_until_damage(path)
    assert records == []
    at = len(data) - len(C.epb(BEACON, 1, 1))
    assert message == f"{path}: corrupt packet block at byte {at}"


@pytest.mark.parametrize("endian", ["<", ">"])
def test_pcapng_packet_block_kinds_and_skipped_blocks(tmp_path: Path, endian: str) -> None:
    data = b"".join(
        [
            C.shb(endian),
            C.unknown_block(C.NRB, 64, endian),
            C.idb(127, snaplen=40, endian=endian),
            C.epb(BEACON, 100, endian=endian),
            C.unknown_block(0x80000001, 300, endian),  # a custom block
            C.obsolete_pb(DEAUTH, 200, endian=endian),
            C.unknown_block(C.ISB, 0, endian),
            C.spb(BEACON, endian=endian),  # cut to the interface's snap length
            C.unknown_block(0x0BAD, 4, endian),
        ]
    )
    assert read(write(tmp_path / "blocks.pcapng", data)) == [
        (127, 100, BEACON),
        (127, 200, DEAUTH),
        (127 | SNAPPED, 200, BEACON[:40]),  # the capture kept less than was sent
    ]


def test_pcapng_fcslen_option_trims_raw_80211_frames(tmp_path: Path) -> None:
    data = C.shb() + C.idb(105, fcslen=4) + C.epb(RAW_DEAUTH + b"FCS!", 1)
    assert read(write(tmp_path / "fcs.pcapng", data)) == [(105, 1, RAW_DEAUTH)]


def test_pcapng_a_long_unknown_block_is_streamed_past(tmp_path: Path) -> None:
    big = C.unknown_block(C.NRB, pcapfile.MAX_BLOCK * 3)
    data = C.shb() + C.idb(127) + C.epb(BEACON, 1) + big + C.epb(DEAUTH, 2)
    assert read(write(tmp_path / "big.pcapng", data)) == [(127, 1, BEACON), (127, 2, DEAUTH)]


def test_pcapng_a_long_packet_block_is_damage(tmp_path: Path) -> None:
    head = C.shb() + C.idb(127)
    blob = struct.pack("<II", C.EPB, pcapfile.MAX_BLOCK + 4) + bytes(pcapfile.MAX_BLOCK)
    path = write(tmp_path / "huge.pcapng", head + blob)
    _, message = read_until_damage(path)
    assert message == f"{path}: corrupt block (length {pcapfile.MAX_BLOCK + 4}) at byte {len(head)}"


# gzip, by content


def test_gzip_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    plain = pcap_bytes([BEACON, DEAUTH])
    expected = read(write(tmp_path / "plain.pcap", plain))
    disguised = write(tmp_path / "really-gzip.pcap", C.gzipped(plain))
    misnamed = write(tmp_path / "not-gzip.pcap.gz", plain)
    with CaptureFile(disguised) as capture:
        assert capture.compressed
        assert list(capture) == expected
    with CaptureFile(misnamed) as capture:
        assert not capture.compressed
        assert list(capture) == expected


def test_gzip_pcapng(tmp_path: Path) -> None:
    data = C.pcapng_bytes([BEACON, DEAUTH])
    assert read(write(tmp_path / "c.pcapng.gz", C.gzipped(data))) == read(
        write(tmp_path / "c.pcapng", data)
    )


def test_gzip_of_several_members_with_zero_padding(tmp_path: Path) -> None:
    plain = pcap_bytes([BEACON, DEAUTH] * 50)
    cut = len(plain) // 3
    data = C.gzipped(plain[:cut]) + C.gzipped(plain[cut:]) + b"\x00" * 100
    path = write(tmp_path / "multi.gz", data)
    assert read(path) == read(write(tmp_path / "plain.pcap", plain))


def test_gzip_cut_short_delivers_every_record_before_the_cut(tmp_path: Path) -> None:
    frames = [BEACON if i % 2 else DEAUTH for i in range(40_000)]
    packed = gzip.compress(pcap_bytes(frames))
    cut = packed[: len(packed) * 2 // 3]
    left = len(zlib.decompressobj(31).decompress(cut))  # what the cut leaves readable
    ends = list(itertools.accumulate((16 + len(f) for f in frames), initial=24))
    whole = sum(1 for end in ends[1:] if end <= left)
    path = write(tmp_path / "cut.pcap.gz", cut)
    records, message = read_until_damage(path)
    assert len(records) == whole > 10_000
    assert message == (
        f"{path}: compressed data cut short at byte {ends[whole]} of the uncompressed data"
    )


# damaged files


def test_truncated_pcap_stops_at_the_damaged_record(tmp_path: Path) -> None:
    whole = pcap_bytes([BEACON, DEAUTH, BEACON])
    second = 24 + 16 + len(BEACON)
    third = second + 16 + len(DEAUTH)
    path = write(tmp_path / "cut.pcap", whole[:-5])
    records, message = read_until_damage(path)
    assert [r[2] for r in records] == [BEACON, DEAUTH]
    assert message == f"{path}: truncated record at byte {third}"
    path = write(tmp_path / "cut-head.pcap", whole[: third + 7])
    records, message = read_until_damage(path)
    assert len(records) == 2
    assert message == f"{path}: truncated record header at byte {third}"


def test_corrupt_pcap_record_length(tmp_path: Path) -> None:
    whole = bytearray(pcap_bytes([BEACON, DEAUTH]))
    second = 24 + 16 + len(BEACON)
    struct.pack_into("<I", whole, second + 8, 0x7FFFFFFF)
    path = write(tmp_path / "corrupt.pcap", bytes(whole))
    records, message = read_until_damage(path)
    assert [r[2] for r in records] == [BEACON]
    assert message == f"{path}: corrupt record (length {0x7FFFFFFF}) at byte {second}"


def test_truncated_and_corrupt_pcapng_blocks(tmp_path: Path) -> None:
    head = C.shb() + C.idb(127)
    first = C.epb(BEACON, 1)
    second = C.epb(DEAUTH, 2)
    at = len(head) + len(first)
    path = write(tmp_path / "cut.pcapng", head + first + second[:-1])
    records, message = read_until_damage(path)
    assert records == [(127, 1, BEACON)]
    assert message == f"{path}: truncated block at byte {at}"

    path = write(tmp_path / "cut-head.pcapng", head + first + second[:6])
    records, message = read_until_damage(path)
    assert len(records) == 1
    assert message == f"{path}: truncated block header at byte {at}"

    lengths_differ = second[:-4] + struct.pack("<I", len(second) + 4)
    path = write(tmp_path / "differ.pcapng", head + first + lengths_differ)
    records, message = read_until_damage(path)
    assert len(records) == 1
    assert message == f"{path}: corrupt block (lengths differ) at byte {at}"

    odd = second[:4] + struct.pack("<I", len(second) + 1) + second[8:]
    path = write(tmp_path / "odd.pcapng", head + first + odd)
    _, message = read_until_damage(path)
    assert message == f"{path}: corrupt block (length {len(second) + 1}) at byte {at}"


@pytest.mark.parametrize(
    "block",
    [
        struct.pack("<IIII", C.EPB, 16, 0, 16),  # a packet block too short for its fields
        C.block(C.SPB, b""),  # a simple packet block too short for its length field
        C.block(C.IDB, b"\x7f\x00"),  # an interface block too short
        C.block(C.SHB, struct.pack("<I", 0x1A2B3C4D)),  # a section header too short
        C.block(C.SHB, struct.pack("<IHHq", 0x12345678, 1, 0, -1)),  # unknown byte order
    ],
)
def test_corrupt_pcapng_block_kinds(tmp_path: Path, block: bytes) -> None:
    head = C.shb() + C.idb(127) + C.epb(BEACON, 1)
    path = write(tmp_path / "bad.pcapng", head + block + C.epb(DEAUTH, 2))
    records, message = read_until_damage(path)
    assert records == [(127, 1, BEACON)]
    assert message.startswith(f"{path}: corrupt ")
    assert message.endswith(f" at byte {len(head)}")


def test_packet_before_any_interface(tmp_path: Path) -> None:
    path = write(tmp_path / "noif.pcapng", C.shb() + C.spb(BEACON))
    _, message = read_until_damage(path)
    assert message == f"{path}: corrupt simple packet block at byte {len(C.shb())}"


def test_deauth_flood_before_a_truncation_still_alerts(tmp_path: Path) -> None:
    flood = [deauth() for _ in range(11)]
    whole = pcap_bytes([*flood, beacon()], step=0.05)
    path = write(tmp_path / "flood-cut.pcap", whole[:-10])
    [alert] = only(replay(path), "DEAUTHFLOOD")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.dest_mac"] == STA.upper()
    records = [bytes(radiotap(frame)) for frame in flood]
    ng = C.pcapng_bytes(records, step=0.05) + C.epb(BEACON, 1)[:-3]
    path = write(tmp_path / "flood-cut.pcapng.gz", C.gzipped(ng))
    assert len(only(replay(path), "DEAUTHFLOOD")) == 1
    packed = C.gzipped(pcap_bytes([*flood, *[BEACON] * 2000], step=0.05))
    path = write(tmp_path / "flood-cut.pcap.gz", packed[: len(packed) - 40])
    assert len(only(replay(path), "DEAUTHFLOOD")) == 1


# files that are no capture


def test_files_that_are_no_capture(tmp_path: Path) -> None:
    cases = {
        "empty.pcap": b"",
        "garbage.pcap": bytes(random.Random(1).randrange(256) for _ in range(5000)),
        "notes.txt": b"these are my notes\nnot a capture\n" * 20,
        "short.pcap": pcap_bytes([])[:20],
        "short.pcapng": C.shb()[:8],
        "garbage.gz": C.gzipped(b"hello, not a capture at all " * 10),
        "empty.gz": C.gzipped(b""),
        "header-only-garbage.gz": b"\x1f\x8b" + b"\xff" * 50,
        "bad-deflate.gz": C.gzipped(b"x" * 1000)[:10] + b"\xff" * 40,
        "cut-early.gz": C.gzipped(pcap_bytes([BEACON]))[:15],
        "one-byte.pcap": b"\x1f",
    }
    for name, data in cases.items():
        path = write(tmp_path / name, data)
        with pytest.raises(CaptureError) as error:
            CaptureFile(path)
        message = str(error.value)
        assert message.startswith(f"{path}: "), name
        assert "\n" not in message, name
    with pytest.raises(CaptureError, match=r"empty\.pcap: an empty file$"):
        CaptureFile(tmp_path / "empty.pcap")


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=f"^{tmp_path}: Is a directory$"):
        CaptureFile(tmp_path)
    missing = tmp_path / "missing.pcap"
    with pytest.raises(CaptureError, match=f"^{missing}: No such file or directory$"):
        CaptureFile(missing)


def test_a_name_with_a_nul_byte(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="embedded null byte"):
        CaptureFile(f"{tmp_path}/bad\x00name.pcap")


def test_a_second_iteration_yields_nothing(tmp_path: Path) -> None:
    for name, data in (("c.pcap", pcap_bytes([BEACON])), ("c.pcapng", C.pcapng_bytes([BEACON]))):
        with CaptureFile(write(tmp_path / name, data)) as capture:
            assert len(list(capture)) == 1
            assert list(capture) == []


def test_gzip_with_garbage_after_the_stream(tmp_path: Path) -> None:
    data = C.gzipped(pcap_bytes([BEACON, DEAUTH])) + b"trailing junk"
    records, message = read_until_damage(write(tmp_path / "junk.gz", data))
    assert len(records) == 2
    assert "data after the end of the compressed stream" in message


def test_gzip_with_a_bad_checksum(tmp_path: Path) -> None:
    plain = pcap_bytes([BEACON, DEAUTH] * 3000)
    packed = bytearray(gzip.compress(plain))
    packed[-8] ^= 0xFF  # the CRC-32 in the trailer
    path = write(tmp_path / "crc.gz", bytes(packed))
    records, message = read_until_damage(path)
    assert len(records) == 6000
    assert message.startswith(f"{path}: corrupt compressed data (")
    assert message.endswith(f") at byte {len(plain)} of the uncompressed data")


def test_corrupt_deflate_data_keeps_every_record_before_the_corrupt_spot(tmp_path: Path) -> None:
    frames = [BEACON if i % 3 else DEAUTH for i in range(20_000)]
    plain = pcap_bytes(frames)
    ends = list(itertools.accumulate((16 + len(f) for f in frames), initial=24))
    packed = gzip.compress(plain)
    rng = random.Random(3)
    for case in range(5):
        broken = bytearray(packed)
        at = rng.randrange(len(packed) // 4, len(packed) - 20)
        broken[at] ^= 0x55
        # What zlib gives, a byte at a time, before it notices; the part still equal
        # to the original holds the records that must come out.
        unzip = zlib.decompressobj(31)
        out = bytearray()
        with contextlib.suppress(zlib.error):
            for index in range(len(broken)):
                out += unzip.decompress(broken[index : index + 1])
        same = common_prefix(out, plain)
        if same == min(len(out), len(plain)):
            same = len(out)  # no byte differs where both have one
        must = sum(1 for end in ends[1:] if end <= same)
        path = write(tmp_path / f"broken{case}.gz", bytes(broken))
        with CaptureFile(path) as capture:
            records: list[Record] = []
            with contextlib.suppress(CaptureDamaged):
                records.extend(capture)
        assert len(records) >= must > 0
        assert [r[2] for r in records[:must]] == frames[:must]


# chunk boundaries and memory


@pytest.mark.parametrize("chunk", [1, 7, 64, 333])
def test_records_are_the_same_whatever_the_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    pcap = write(tmp_path / "c.pcap", pcap_bytes([BEACON, DEAUTH] * 20))
    ng = C.shb() + C.idb(127) + C.unknown_block(4, 900) + C.pcapng_bytes([BEACON, DEAUTH] * 20)
    pcapng = write(tmp_path / "c.pcapng", ng)
    gz = write(tmp_path / "c.gz", C.gzipped(ng))
    expected = {path: read(path) for path in (pcap, pcapng, gz)}
    monkeypatch.setattr(pcapfile, "CHUNK", chunk)
    monkeypatch.setattr(pcapfile, "GZIP_STEP", chunk)
    monkeypatch.setattr(pcapfile, "MAX_BLOCK", 500)  # so the 900-byte block is streamed
    for path, records in expected.items():
        assert read(path) == records
        assert len(records) >= 40


def test_reading_holds_one_chunk_at_a_time(tmp_path: Path) -> None:
    path = write(tmp_path / "big.pcap", pcap_bytes([BEACON, DEAUTH] * 30_000))
    assert path.stat().st_size > 4 * pcapfile.CHUNK
    with CaptureFile(path) as capture:
        chunks = capture._chunks
        largest = 0
        for _ in capture:
            largest = max(largest, len(chunks.buf))
        assert capture.bytes_read() == path.stat().st_size
    assert largest <= pcapfile.CHUNK + pcapfile.MAX_RECORD + 16


# fuzz


def _mutations(data: bytes, rng: random.Random, count: int) -> Iterator[bytes]:
    for _ in range(count):
        mutated = bytearray(data)
        action = rng.randrange(4)
        if action == 0:  # flip some bytes
            for _ in range(rng.randint(1, 8)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        elif action == 1:  # cut
            del mutated[rng.randrange(len(mutated)) :]
        elif action == 2:  # drop a slice
            at = rng.randrange(len(mutated))
            del mutated[at : at + rng.randint(1, 40)]
        else:  # insert random bytes
            at = rng.randrange(len(mutated))
            mutated[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        # Keep the magic most of the time, so the fuzz reaches the records.
        if rng.random() < 0.8:
            mutated[:4] = data[:4]
        yield bytes(mutated)


def test_fuzz_reader_and_engine(tmp_path: Path) -> None:
    rng = random.Random(20251201)
    frames = [
        bytes(radiotap(beacon())),
        bytes(radiotap(deauth())),
        C.radiotap_bytes(RAW_DEAUTH, flags=0x10, tsft=5) + b"FCS!",
        C.ppi_bytes(RAW_DEAUTH),
    ]
    seeds = [
        pcap_bytes(frames),
        pcap_bytes(frames, endian=">", nano=True),
        C.shb()
        + C.idb(127)
        + C.idb(192)
        + b"".join(C.epb(f, i, i % 2) for i, f in enumerate(frames)),
        C.shb(">")
        + C.idb(127, endian=">")
        + C.spb(frames[0], ">")
        + C.obsolete_pb(frames[1], 9, endian=">"),
    ]
    engine = Engine(make_config())
    path = tmp_path / "fuzz"
    cases = 0
    outcomes = {"ok": 0, "damaged": 0, "error": 0}
    for seed in seeds:
        for mutated in _mutations(seed, rng, 600):
            for data in (mutated, C.gzipped(mutated)) if cases % 5 == 0 else (mutated,):
                cases += 1
                rewrite(path, data)
                try:
                    with CaptureFile(path) as capture:
                        for linktype, ts_us, record in capture:
                            engine.feed(linktype, ts_us, record)
                    outcomes["ok"] += 1
                except CaptureDamaged as exc:
                    assert str(exc).startswith(f"{path}: ")
                    outcomes["damaged"] += 1
                except CaptureError as exc:
                    assert str(exc).startswith(f"{path}: ")
                    assert "\n" not in str(exc)
                    outcomes["error"] += 1
    # The fuzz reached every outcome, and records through the engine.
    assert cases > 2400
    assert all(outcomes.values()), outcomes
    assert engine.counts.records > 1000
    assert engine.counts.malformed > 0


def test_fuzz_gzip_streams(tmp_path: Path) -> None:
    rng = random.Random(7)
    packed = C.gzipped(pcap_bytes([BEACON, DEAUTH] * 20))
    path = tmp_path / "fuzz.gz"
    for mutated in _mutations(packed, rng, 600):
        rewrite(path, mutated)
        try:
            with CaptureFile(path) as capture:
                for _ in capture:
                    pass
        except (CaptureDamaged, CaptureError) as exc:
            assert str(exc).startswith(f"{path}: ")


def test_pcap_record_cut_by_the_snap_length_is_flagged(tmp_path: Path) -> None:
    whole = pcap_bytes([beacon()])
    record = whole[24 + 16 :]
    cut = record[:50]
    # The same record kept to 50 bytes, with its original length still saying more.
    snapped = whole[:24] + struct.pack("<IIII", 1, 0, len(cut), len(record)) + cut
    [(linktype, _, frame)] = read(write(tmp_path / "snap.pcap", snapped))
    assert linktype == 127 | SNAPPED
    assert frame == cut
    [(linktype, _, _)] = read(write(tmp_path / "whole.pcap", whole))
    assert linktype == 127


def test_a_snapped_beacon_is_not_malformed(tmp_path: Path) -> None:
    whole = pcap_bytes([beacon()])
    first = whole[24 + 16 :]
    cut = first[:60]  # inside the elements
    snapped = whole[:24] + struct.pack("<IIII", int(T0), 0, len(cut), len(first)) + cut
    capture = write(tmp_path / "snap.pcap", snapped)
    assert replay(capture, "") == []
    # The same bytes sent that way (original length = kept length) are malformed.
    sent = whole[:24] + struct.pack("<IIII", int(T0), 0, len(cut), len(cut)) + cut
    [alert] = replay(write(tmp_path / "sent.pcap", sent), "")
    assert alert["kismet.alert.header"] == "MALFORMMGMT"
