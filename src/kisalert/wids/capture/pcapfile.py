"""Capture files read as a stream: pcap and pcapng, plain or gzip-compressed.

The format is decided by the file's first bytes, never its name. Records come out as
`(linktype, timestamp in µs, frame bytes)`; the reader holds one chunk of the file
at a time, so a capture of any size is read in constant memory. A damaged record
ends the stream with `CaptureDamaged`, naming the file and the byte offset; every
record before it has been delivered.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from kisalert.wids.capture.linktypes import IEEE802_11, SNAPPED

CHUNK = 1 << 20
# Larger than any snap length a capture tool writes (pcapng allows more, but no
# 802.11 frame comes close); a bigger length means the file is damaged.
MAX_RECORD = 1 << 18
# pcapng blocks up to this size are read whole; a longer one (a big name-resolution
# or decryption-secrets block) is streamed past if the reader has no use for it.
MAX_BLOCK = 1 << 20
# The last microsecond of the year 9999: a later (or negative) pcapng timestamp is
# corrupt, and would overflow the 64-bit times and dates downstream.
MAX_TIME_US = 253_402_300_799_999_999
# Compressed bytes given to zlib at a time.
GZIP_STEP = 1 << 14

Record = tuple[int, int, bytes]

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_GZIP = b"\x1f\x8b"

# pcapng block types (the section header's reads the same in both byte orders)
_SHB = 0x0A0D0D0A
_IDB = 1
_PB = 2  # obsolete packet block
_SPB = 3
_EPB = 6
_BYTE_ORDER = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}


class CaptureError(Exception):
    """A file that cannot be opened or is not a capture; str() is one line."""


class CaptureDamaged(Exception):
    """A truncated or corrupt record; str() names the file and byte offset."""


class _Unreadable(Exception):
    """Compressed data that ends early or does not decompress."""


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _Rewound:
    """A stream that cannot seek (a pipe, a FIFO, standard input) with the bytes read
    to tell its kind put back in front, and a count of the bytes read from it."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = head
        self._raw = raw
        self.consumed = 0

    def read(self, size: int) -> bytes:
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            if len(data) < size:
                data += self._raw.read(size - len(data))
        else:
            data = self._raw.read(size)
        self.consumed += len(data)
        return data


class _Gunzip:
    """gzip members decompressed as they are read.

    Unlike `gzip.GzipFile.read`, a read that meets the end of a cut-off file or a
    corrupt spot returns what decompressed before it; `_Unreadable` comes with the
    next read. So the records before the damage are delivered.
    """

    def __init__(self, raw: _Readable) -> None:
        self._raw = raw
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper, CRC checked
        self._input = b""  # compressed bytes not yet given to zlib
        self._error: str | None = None
        self._done = False
        # After an error: how many bytes to go over again, and in what pieces.
        self._careful = 0
        self._careful_step = GZIP_STEP

    def read(self, size: int) -> bytes:
        if self._error is not None:
            raise _Unreadable(self._error)
        parts: list[bytes] = []
        got = 0
        try:
            while got < size and not self._done:
                out = self._step(size - got)
                parts.append(out)
                got += len(out)
        except zlib.error as exc:
            self._error = f"corrupt compressed data ({exc})"
            if not got:
                raise _Unreadable(self._error) from None
        except _Unreadable as exc:
            self._error = str(exc)
            if not got:
                raise _Unreadable(self._error) from None
        return b"".join(parts)

    def _more(self) -> bool:
        if not self._input:
            self._input = self._raw.read(GZIP_STEP)
        return bool(self._input)

    def _step(self, size: int) -> bytes:
        unzip = self._zlib
        if unzip.eof:
            # One member ended: another may follow, after zero padding (as gzip allows).
            self._input = unzip.unused_data + self._input
            while True:
                self._input = self._input.lstrip(b"\x00")
                if self._input or not self._more():
                    break
            if not self._input:
                self._done = True
                return b""
            if self._input[0] != _GZIP[0]:
                raise _Unreadable("data after the end of the compressed stream")
            unzip = self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif not self._more():
            raise _Unreadable("compressed data cut short")
        step = self._careful_step if self._careful else GZIP_STEP
        data = self._input[:step]
        rest = self._input[step:]
        before = unzip.copy() if len(data) > 1 else None
        try:
            out = unzip.decompress(data, size)
        except zlib.error:
            if before is None:
                raise
            # The step's output is lost with the error. Go over the step again in
            # pieces a sixteenth its size from the state before it, down to single
            # bytes, so everything before the corrupt spot is delivered first.
            self._zlib = before
            self._careful = len(data)
            self._careful_step = max(1, len(data) // 16)
            return b""
        if unzip.eof:
            # The leftover is in unused_data, taken up by the next step.
            self._input = rest
            self._careful = 0
        else:
            self._input = unzip.unconsumed_tail + rest
            if self._careful:
                self._careful = max(0, self._careful - len(data) + len(unzip.unconsumed_tail))
        return out


class _Chunks:
    """A window onto a byte stream: `buf[pos:]` is unread, `base` is `buf[0]`'s offset."""

    __slots__ = ("base", "buf", "pos", "stream")

    def __init__(self, stream: _Readable, head: bytes) -> None:
        self.stream = stream
        self.buf = head
        self.pos = 0
        self.base = 0

    def ensure(self, size: int) -> bool:
        """True once `size` unread bytes are in `buf` (False: the stream ends first)."""
        while len(self.buf) - self.pos < size:
            more = self.stream.read(max(CHUNK, size))
            if not more:
                return False
            self.base += self.pos
            self.buf = self.buf[self.pos :] + more
            self.pos = 0
        return True

    def skip(self, size: int) -> bool:
        """Pass `size` bytes without holding them (False: the stream ends first)."""
        while len(self.buf) - self.pos < size:
            size -= len(self.buf) - self.pos
            self.base += len(self.buf)
            self.buf = self.stream.read(CHUNK)
            self.pos = 0
            if not self.buf:
                return False
        self.pos += size
        return True

    @property
    def offset(self) -> int:
        return self.base + self.pos


class CaptureFile:
    """One capture file. Iterate it once for its records (again, it yields nothing)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            self._raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise CaptureError(f"{self.path}: {exc.strerror or exc}") from None
        except ValueError as exc:  # a NUL in the name
            raise CaptureError(f"{self.path!r}: {exc}") from None
        try:
            info = os.fstat(self._raw.fileno())
            # 0 when unknown: a pipe's size is not known before its end.
            self.size = info.st_size if stat.S_ISREG(info.st_mode) else 0
            magic = self._raw.read(2)
            self.compressed = magic == _GZIP
            self._rewound: _Rewound | None = None
            source: _Readable = self._raw
            if stat.S_ISREG(info.st_mode) or stat.S_ISBLK(info.st_mode):
                self._raw.seek(0)
            else:
                source = self._rewound = _Rewound(magic, self._raw)
            stream: _Readable = _Gunzip(source) if self.compressed else source
            head = stream.read(24)
        except OSError as exc:
            self._raw.close()
            raise CaptureError(f"{self.path}: {exc.strerror or exc}") from None
        except _Unreadable as exc:
            self._raw.close()
            raise CaptureError(f"{self.path}: not a capture file: {exc}") from None
        if head[:4] in _PCAP_MAGIC and len(head) == 24:
            self.format = "pcap"
        elif head[:4] == _PCAPNG_MAGIC and len(head) >= 12:
            self.format = "pcapng"
        else:
            self.close()
            if not head:
                what = "an empty file" if not self.compressed else "empty compressed data"
            elif head[:4] in _PCAP_MAGIC or head[:4] == _PCAPNG_MAGIC:
                what = "a capture file cut short in its file header"
            else:
                what = "not a pcap or pcapng capture file"
            raise CaptureError(f"{self.path}: {what}")
        self._chunks = _Chunks(stream, head)
        self._iterated = False

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> CaptureFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def bytes_read(self) -> int:
        """How far into the file (compressed bytes, for a gzip file) reading has come."""
        if self._rewound is not None:
            return self._rewound.consumed
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.size

    def _damaged(self, what: str, offset: int) -> CaptureDamaged:
        where = " of the uncompressed data" if self.compressed else ""
        return CaptureDamaged(f"{self.path}: {what} at byte {offset}{where}")

    def __iter__(self) -> Iterator[Record]:
        if self._iterated:
            return  # the records were read by the first iteration
        self._iterated = True
        try:
            if self.format == "pcap":
                yield from self._pcap()
            else:
                yield from self._pcapng()
        except _Unreadable as exc:
            # gzip reports a cut-off or corrupt stream only when it is read.
            raise self._damaged(str(exc), self._chunks.offset) from None
        except OSError as exc:
            raise self._damaged(f"read error ({exc})", self._chunks.offset) from None

    # pcap

    def _pcap(self) -> Iterator[Record]:
        chunks = self._chunks
        endian, nano = _PCAP_MAGIC[chunks.buf[:4]]
        network = struct.unpack_from(endian + "I", chunks.buf, 20)[0]
        linktype = network & 0xFFFF
        # Bit 28 says bits 29-31 give the FCS length in 16-bit words.
        fcs = ((network >> 29) & 7) * 2 if network & (1 << 28) and linktype == IEEE802_11 else 0
        unpack = struct.Struct(endian + "IIII").unpack_from
        # The hot loop keeps the window in locals and hands it back to `chunks` only
        # to refill it (or to report where the damage is).
        buf = chunks.buf
        pos = 24
        limit = len(buf)
        while True:
            if pos + 16 > limit:
                chunks.pos = pos
                if not chunks.ensure(16):
                    if chunks.pos < len(chunks.buf):
                        raise self._damaged("truncated record header", chunks.offset)
                    return
                buf, pos, limit = chunks.buf, chunks.pos, len(chunks.buf)
            sec, frac, incl, orig = unpack(buf, pos)
            start = pos + 16
            end = start + incl
            if end > limit:
                chunks.pos = pos
                if incl > MAX_RECORD:
                    raise self._damaged(f"corrupt record (length {incl})", chunks.offset)
                if not chunks.ensure(16 + incl):
                    raise self._damaged("truncated record", chunks.offset)
                buf, pos, limit = chunks.buf, chunks.pos, len(chunks.buf)
                start = pos + 16
                end = start + incl
            elif incl > MAX_RECORD:
                chunks.pos = pos
                raise self._damaged(f"corrupt record (length {incl})", chunks.offset)
            pos = end
            yield (
                linktype if incl >= orig else linktype | SNAPPED,
                sec * 1_000_000 + (frac // 1000 if nano else frac),
                buf[start : end - fcs],
            )

    # pcapng

    def _pcapng(self) -> Iterator[Record]:
        chunks = self._chunks
        # Per interface of the current section: (linktype, units per second, offset
        # in µs, FCS bytes, snap length).
        interfaces: list[tuple[int, int, int, int, int]] = []
        head = struct.Struct("<II").unpack_from
        word = struct.Struct("<I").unpack_from
        packet = struct.Struct("<IIIII").unpack_from
        # A block header with the fields of an enhanced packet block, in one unpack.
        enhanced = struct.Struct("<IIIIIII").unpack_from
        obsolete = struct.Struct("<HHIIII").unpack_from
        endian = "<"
        last_us = 0
        buf = chunks.buf
        pos = 0
        limit = len(buf)
        while True:
            if pos + 12 > limit:
                chunks.pos = pos
                if not chunks.ensure(12):
                    if chunks.pos < len(chunks.buf):
                        raise self._damaged("truncated block header", chunks.offset)
                    return
                buf, pos, limit = chunks.buf, chunks.pos, len(chunks.buf)
            if pos + 28 <= limit:
                kind, total, iface_id, hi, lo, caplen, orig = enhanced(buf, pos)
                have_fields = True
            else:
                kind, total = head(buf, pos)
                have_fields = False
            if kind == _SHB:
                order = _BYTE_ORDER.get(buf[pos + 8 : pos + 12])
                if order is None:
                    chunks.pos = pos
                    raise self._damaged("corrupt section header", chunks.offset)
                if order != endian:
                    endian = order
                    head = struct.Struct(endian + "II").unpack_from
                    word = struct.Struct(endian + "I").unpack_from
                    packet = struct.Struct(endian + "IIIII").unpack_from
                    enhanced = struct.Struct(endian + "IIIIIII").unpack_from
                    obsolete = struct.Struct(endian + "HHIIII").unpack_from
                    total = word(buf, pos + 4)[0]
                interfaces = []
                if total < 28:
                    chunks.pos = pos
                    raise self._damaged(f"corrupt section header (length {total})", chunks.offset)
            if total < 12 or total & 3:
                chunks.pos = pos
                raise self._damaged(f"corrupt block (length {total})", chunks.offset)
            end = pos + total
            if end > limit:
                chunks.pos = pos
                if total > MAX_BLOCK:
                    if kind in (_EPB, _PB, _SPB, _IDB, _SHB):
                        raise self._damaged(f"corrupt block (length {total})", chunks.offset)
                    self._skip_block(total, endian)
                    buf, pos, limit = chunks.buf, chunks.pos, len(chunks.buf)
                    continue
                if not chunks.ensure(total):
                    raise self._damaged("truncated block", chunks.offset)
                buf, pos, limit = chunks.buf, chunks.pos, len(chunks.buf)
                end = pos + total
            if word(buf, end - 4)[0] != total:
                chunks.pos = pos
                raise self._damaged("corrupt block (lengths differ)", chunks.offset)
            if kind in (_EPB, _PB):
                if total < 32:
                    chunks.pos = pos
                    raise self._damaged("corrupt packet block", chunks.offset)
                if kind == _EPB:
                    if not have_fields:  # (a refill keeps the bytes read above)
                        iface_id, hi, lo, caplen, orig = packet(buf, pos + 8)
                else:
                    iface_id, _drops, hi, lo, caplen, orig = obsolete(buf, pos + 8)
                if iface_id >= len(interfaces) or caplen > total - 32:
                    chunks.pos = pos
                    raise self._damaged("corrupt packet block", chunks.offset)
                linktype, units, offset_us, fcs, _snaplen = interfaces[iface_id]
                stamp = (hi << 32) | lo
                when = (stamp if units == 1_000_000 else stamp * 1_000_000 // units) + offset_us
                if not 0 <= when <= MAX_TIME_US:
                    chunks.pos = pos
                    raise self._damaged("corrupt timestamp", chunks.offset)
                last_us = when
                start = pos + 28
                pos = end
                if caplen < orig:
                    linktype |= SNAPPED
                yield linktype, last_us, buf[start : start + caplen - fcs]
                continue
            if kind == _SPB:
                if not interfaces or total < 16:
                    chunks.pos = pos
                    raise self._damaged("corrupt simple packet block", chunks.offset)
                linktype, _units, _offset, fcs, snaplen = interfaces[0]
                orig = word(buf, pos + 8)[0]
                caplen = min(orig, total - 16, snaplen or orig)
                start = pos + 12
                pos = end
                if caplen < orig:
                    linktype |= SNAPPED
                yield linktype, last_us, buf[start : start + caplen - fcs]
                continue
            if kind == _IDB:
                if total < 20:
                    chunks.pos = pos
                    raise self._damaged("corrupt interface block", chunks.offset)
                interfaces.append(_interface(buf, pos, end, endian))
            pos = end

    def _skip_block(self, total: int, endian: str) -> None:
        """Stream past a long block the reader has no use for, checking its trailer."""
        chunks = self._chunks
        at = chunks.offset
        if not chunks.skip(total - 4) or not chunks.ensure(4):
            raise self._damaged("truncated block", at)
        if struct.unpack_from(endian + "I", chunks.buf, chunks.pos)[0] != total:
            raise self._damaged("corrupt block (lengths differ)", at)
        chunks.pos += 4


def _interface(buf: bytes, pos: int, end: int, endian: str) -> tuple[int, int, int, int, int]:
    """An interface description block: (linktype, units, offset µs, FCS bytes, snaplen)."""
    linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", buf, pos + 8)
    units = 1_000_000  # timestamp units per second
    offset_us = 0
    fcs = 0  # FCS bytes at the end of each frame (raw 802.11 only)
    option = struct.Struct(endian + "HH").unpack_from
    pos += 16
    end -= 4
    while pos + 4 <= end:
        code, length = option(buf, pos)
        value = pos + 4
        if code == 0 or value + length > end:
            break
        if code == 9 and length >= 1:  # if_tsresol: 10^-n, or 2^-n with the top bit
            resol = buf[value]
            exponent = resol & 0x7F
            if exponent <= 60:
                units = (2 if resol & 0x80 else 10) ** exponent
        elif code == 14 and length >= 8:  # if_tsoffset, seconds
            offset_us = struct.unpack_from(endian + "q", buf, value)[0] * 1_000_000
        elif code == 13 and length >= 1 and linktype == IEEE802_11:  # if_fcslen
            fcs = buf[value]
        pos = value + ((length + 3) & ~3)
    return linktype, units, offset_us, fcs, snaplen
