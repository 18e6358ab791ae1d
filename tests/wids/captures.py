"""Writing test captures byte by byte: pcapng blocks, PPI records, radiotap headers.

`tests/wids/frames.py` writes plain pcap files of scapy frames; these builders make
the other shapes a capture reader meets (several pcapng sections and interfaces,
both byte orders, odd timestamp resolutions, damaged blocks), independently of the
reader under test.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterable, Sequence

from tests.wids.frames import T0

# pcapng block types
SHB = 0x0A0D0D0A
IDB = 1
PB = 2  # obsolete packet block
SPB = 3
NRB = 4  # name resolution: a block the reader skips
ISB = 5  # interface statistics: skipped too
EPB = 6

# IDB option codes
IF_TSRESOL = 9
IF_FCSLEN = 13
IF_TSOFFSET = 14


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def option(code: int, value: bytes, endian: str = "<") -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + _pad(value)


def options(items: Iterable[tuple[int, bytes]], endian: str = "<") -> bytes:
    """An option list with its end-of-options marker (empty without options)."""
    body = b"".join(option(code, value, endian) for code, value in items)
    return body + struct.pack(endian + "HH", 0, 0) if body else b""


def block(kind: int, body: bytes, endian: str = "<") -> bytes:
    total = 12 + len(_pad(body))
    return struct.pack(endian + "II", kind, total) + _pad(body) + struct.pack(endian + "I", total)


def shb(endian: str = "<", comment: bytes | None = None) -> bytes:
    body = struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    if comment is not None:
        body += options([(1, comment)], endian)
    return block(SHB, body, endian)


def idb(
    linktype: int = 127,
    snaplen: int = 0,
    tsresol: int | None = None,
    tsoffset: int | None = None,
    fcslen: int | None = None,
    endian: str = "<",
) -> bytes:
    """An interface; `tsresol` is the raw if_tsresol byte (0x80 | n for 2^-n)."""
    items: list[tuple[int, bytes]] = [(2, b"wlan0mon")]  # if_name, to be skipped
    if tsresol is not None:
        items.append((IF_TSRESOL, bytes([tsresol])))
    if fcslen is not None:
        items.append((IF_FCSLEN, bytes([fcslen])))
    if tsoffset is not None:
        items.append((IF_TSOFFSET, struct.pack(endian + "q", tsoffset)))
    body = struct.pack(endian + "HHI", linktype, 0, snaplen) + options(items, endian)
    return block(IDB, body, endian)


def epb(data: bytes, stamp: int, interface: int = 0, endian: str = "<") -> bytes:
    """An enhanced packet block; `stamp` is in the interface's timestamp units."""
    head = struct.pack(
        endian + "IIIII", interface, stamp >> 32, stamp & 0xFFFFFFFF, len(data), len(data)
    )
    return block(EPB, head + _pad(data) + options([(1, b"a comment")], endian), endian)


def obsolete_pb(data: bytes, stamp: int, interface: int = 0, endian: str = "<") -> bytes:
    head = struct.pack(
        endian + "HHIIII", interface, 0, stamp >> 32, stamp & 0xFFFFFFFF, len(data), len(data)
    )
    return block(PB, head + _pad(data), endian)


def spb(data: bytes, endian: str = "<") -> bytes:
    return block(SPB, struct.pack(endian + "I", len(data)) + _pad(data), endian)


def unknown_block(kind: int = 0x0BAD, size: int = 40, endian: str = "<") -> bytes:
    return block(kind, bytes(range(256)) * (size // 256) + bytes(size % 256), endian)


def stamp_of(when: float, units: int = 1_000_000) -> int:
    return round(when * units)


def pcapng_bytes(
    records: Sequence[bytes],
    linktype: int = 127,
    step: float = 0.01,
    endian: str = "<",
    tsresol: int | None = None,
) -> bytes:
    """One section, one interface: `records` `step` seconds apart from T0, as EPBs."""
    if tsresol is None:
        units = 1_000_000
    else:
        units = 2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10 ** (tsresol & 0x7F)
    out = [shb(endian), idb(linktype, tsresol=tsresol, endian=endian)]
    out.extend(
        epb(data, stamp_of(T0 + index * step, units), endian=endian)
        for index, data in enumerate(records)
    )
    return b"".join(out)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1, mtime=0)


# Capture headers around an 802.11 frame.


def radiotap_bytes(
    frame: bytes,
    freq: int = 2437,
    signal: int = -50,
    flags: int = 0,
    tsft: int | None = None,
) -> bytes:
    """A radiotap header (TSFT, flags, channel, dBm signal) before `frame`."""
    present = 0b101110  # flags, rate, channel, dBm signal
    fields = b""
    if tsft is not None:
        present |= 1
        fields += struct.pack("<Q", tsft)  # at offset 8: aligned already
    fields += bytes([flags, 2]) + struct.pack("<HHb", freq, 0x00A0, signal)
    head = struct.pack("<BBHI", 0, 0, 8 + len(fields), present) + fields
    return head + frame


def ppi_bytes(
    frame: bytes,
    freq: int = 2437,
    signal: int = -50,
    common_flags: int = 0,
    dlt: int = 105,
    aligned: bool = False,
    extra_fields: Sequence[tuple[int, bytes]] = (),
) -> bytes:
    """A PPI header with an 802.11-common field (after `extra_fields`) before `frame`."""
    common = struct.pack("<QHHHHBBbb", 0, common_flags, 10, freq, 0x00A0, 0, 0, signal, -95)
    fields = b""
    for kind, value in [*extra_fields, (2, common)]:
        fields += struct.pack("<HH", kind, len(value)) + value
        if aligned:
            fields += b"\x00" * (-len(fields) % 4)
    return struct.pack("<BBHI", 0, 1 if aligned else 0, 8 + len(fields), dlt) + fields + frame


# Radiotap headers of any shape: extended present words, several namespaces.

# Radiotap field (bit) -> (alignment, size), for the fields the tests write.
RADIOTAP_FIELDS = {
    0: (8, 8),  # TSFT
    1: (1, 1),  # flags
    2: (1, 1),  # rate
    3: (2, 4),  # channel
    5: (1, 1),  # dBm antenna signal
    6: (1, 1),  # dBm antenna noise
    11: (1, 1),  # antenna
    14: (2, 2),  # RX flags
    18: (4, 8),  # XChannel
    19: (1, 3),  # MCS
    20: (4, 8),  # A-MPDU status
    21: (2, 12),  # VHT
    22: (8, 12),  # timestamp
    23: (2, 12),  # HE
}


class Vendor:
    """A vendor namespace: its present word, OUI, sub-namespace and opaque data."""

    def __init__(self, data: bytes, present: int = 0b101, oui: bytes = b"\x00\x11\x22") -> None:
        self.data = data
        self.present = present
        self.oui = oui


def radiotap_header(namespaces: Sequence[dict[int, bytes] | Vendor], frame: bytes = b"") -> bytes:
    """A radiotap header of `namespaces` in order (the first a radiotap one), then `frame`.

    A radiotap namespace maps field bits to their value bytes; each field is aligned
    to its size from the start of the header, as the radiotap standard has it.
    """
    words = []
    for index, namespace in enumerate(namespaces):
        word = (
            namespace.present if isinstance(namespace, Vendor) else sum(1 << b for b in namespace)
        )
        if index + 1 < len(namespaces):
            word |= (1 << 31) | (1 << 30 if isinstance(namespaces[index + 1], Vendor) else 1 << 29)
        words.append(word)
    data = bytearray(struct.pack("<BBH", 0, 0, 0) + struct.pack(f"<{len(words)}I", *words))
    for namespace in namespaces:
        if isinstance(namespace, Vendor):
            data += b"\x00" * (len(data) % 2)
            data += namespace.oui + b"\x00" + struct.pack("<H", len(namespace.data))
            data += namespace.data
            continue
        for bit in sorted(namespace):
            align, size = RADIOTAP_FIELDS[bit]
            assert len(namespace[bit]) == size, bit
            data += b"\x00" * (-len(data) % align)
            data += namespace[bit]
    struct.pack_into("<H", data, 2, len(data))
    return bytes(data) + frame


def channel_field(freq: int, flags: int = 0x00A0) -> bytes:
    return struct.pack("<HH", freq, flags)


def dbm(value: int) -> bytes:
    return struct.pack("<b", value)
