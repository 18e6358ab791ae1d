"""Capture files read as a stream: pcap and pcapng, plain or gzip-compressed.

The format is decided by the file's first bytes, never its name. Records come out as
`(linktype, timestamp in µs, frame bytes)`; the reader holds one chunk of the file
at a time, so a capture of any size is read in constant memory. A damaged record
ends the stream with `CaptureDamaged`, naming the file and the byte offset; every
record before it has been delivered.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from kisalert.wids.capture.linktypes import IEEE802_11

CHUNK = 1 << 20
# Larger than any snap length a capture tool writes (pcapng allows more, but no
# 802.11 frame comes close); a bigger length means the file is damaged.
MAX_RECORD = 1 << 18

Record = tuple[int, int, bytes]

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_GZIP = b"\x1f\x8b"

# pcapng block types
_SHB = 0x0A0D0D0A
_IDB = 1
_PB = 2  # obsolete packet block
_SPB = 3
_EPB = 6


class CaptureError(Exception):
    """A file that cannot be opened or is not a capture; str() is one line."""


class CaptureDamaged(Exception):
    """A truncated or corrupt record; str() names the file and byte offset."""


class _Chunks:
    """A window onto a byte stream: `buf[pos:]` is unread, `base` is `buf[0]`'s offset."""

    __slots__ = ("base", "buf", "pos", "stream")

    def __init__(self, stream: BinaryIO, head: bytes) -> None:
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

    @property
    def offset(self) -> int:
        return self.base + self.pos


class _Interface:
    __slots__ = ("fcs", "linktype", "offset_us", "snaplen", "units")

    def __init__(self, linktype: int, snaplen: int) -> None:
        self.linktype = linktype
        self.snaplen = snaplen
        self.units = 1_000_000  # timestamp units per second
        self.offset_us = 0
        self.fcs = 0  # FCS bytes at the end of each frame (raw 802.11 only)


class CaptureFile:
    """One capture file. Iterate it once for its records."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            self._raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise CaptureError(f"{self.path}: {exc.strerror or exc}") from None
        try:
            self.size = os.fstat(self._raw.fileno()).st_size
            magic = self._raw.read(2)
            self._raw.seek(0)
            self.compressed = magic == _GZIP
            stream: BinaryIO = (
                gzip.GzipFile(fileobj=self._raw)  # type: ignore[assignment]
                if self.compressed
                else self._raw
            )
            head = stream.read(24)
        except (OSError, EOFError, zlib.error) as exc:
            self._raw.close()
            raise CaptureError(f"{self.path}: not a capture file ({exc})") from None
        self._stream = stream
        if head[:4] in _PCAP_MAGIC and len(head) == 24:
            self.format = "pcap"
        elif head[:4] == _PCAPNG_SHB and len(head) >= 12:
            self.format = "pcapng"
        else:
            self.close()
            raise CaptureError(f"{self.path}: not a pcap or pcapng capture file")
        self._chunks = _Chunks(stream, head)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> CaptureFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def bytes_read(self) -> int:
        """How far into the file (compressed bytes, for a gzip file) reading has come."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.size

    def _damaged(self, what: str, offset: int) -> CaptureDamaged:
        where = "of the uncompressed data " if self.compressed else ""
        return CaptureDamaged(f"{self.path}: {what} at byte {offset} {where}".rstrip())

    def __iter__(self) -> Iterator[Record]:
        try:
            if self.format == "pcap":
                yield from self._pcap()
            else:
                yield from self._pcapng()
        except (OSError, EOFError, zlib.error) as exc:
            # gzip reports a cut-off or corrupt stream only when it is read.
            raise self._damaged(
                f"unreadable compressed data ({exc})", self._chunks.offset
            ) from None

    # pcap

    def _pcap(self) -> Iterator[Record]:
        chunks = self._chunks
        endian, nano = _PCAP_MAGIC[chunks.buf[:4]]
        network = struct.unpack_from(endian + "I", chunks.buf, 20)[0]
        linktype = network & 0xFFFF
        # Bit 28 says bits 29-31 give the FCS length in 16-bit words.
        fcs = ((network >> 29) & 7) * 2 if network & (1 << 28) and linktype == IEEE802_11 else 0
        chunks.pos = 24
        unpack = struct.Struct(endian + "IIII").unpack_from
        ensure = chunks.ensure
        while ensure(16):
            buf = chunks.buf
            pos = chunks.pos
            sec, frac, incl, _orig = unpack(buf, pos)
            if incl > MAX_RECORD:
                raise self._damaged(f"corrupt record (length {incl})", chunks.offset)
            if not ensure(16 + incl):
                raise self._damaged("truncated record", chunks.offset)
            buf = chunks.buf
            pos = chunks.pos
            start = pos + 16
            chunks.pos = start + incl
            ts_us = sec * 1_000_000 + (frac // 1000 if nano else frac)
            yield linktype, ts_us, buf[start : start + incl - fcs if fcs else start + incl]
        if len(chunks.buf) > chunks.pos:
            raise self._damaged("truncated record header", chunks.offset)

    # pcapng

    def _pcapng(self) -> Iterator[Record]:
        chunks = self._chunks
        interfaces: list[_Interface] = []
        endian = "<"
        word = struct.Struct("<I")
        last_us = 0
        while chunks.ensure(12):
            buf = chunks.buf
            pos = chunks.pos
            if buf[pos : pos + 4] == _PCAPNG_SHB:
                order = buf[pos + 8 : pos + 12]
                if order == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif order == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    raise self._damaged("corrupt section header", chunks.offset)
                word = struct.Struct(endian + "I")
                interfaces = []
            kind = word.unpack_from(buf, pos)[0]
            total = word.unpack_from(buf, pos + 4)[0]
            if total < 12 or total % 4 or total > MAX_RECORD + 4096:
                raise self._damaged(f"corrupt block (length {total})", chunks.offset)
            if not chunks.ensure(total):
                raise self._damaged("truncated block", chunks.offset)
            buf = chunks.buf
            pos = chunks.pos
            if word.unpack_from(buf, pos + total - 4)[0] != total:
                raise self._damaged("corrupt block (lengths differ)", chunks.offset)
            chunks.pos = pos + total
            if kind in (_EPB, _PB):
                if total < 32:
                    raise self._damaged("corrupt packet block", chunks.offset - total)
                if kind == _EPB:
                    iface_id, hi, lo, caplen = struct.unpack_from(endian + "IIII", buf, pos + 8)
                else:
                    iface_id, _drops, hi, lo, caplen = struct.unpack_from(
                        endian + "HHIII", buf, pos + 8
                    )
                if iface_id >= len(interfaces) or caplen > total - 32:
                    raise self._damaged("corrupt packet block", chunks.offset - total)
                iface = interfaces[iface_id]
                stamp = (hi << 32) | lo
                units = iface.units
                last_us = (stamp if units == 1_000_000 else stamp * 1_000_000 // units) + (
                    iface.offset_us
                )
                start = pos + 28
                end = start + caplen - iface.fcs
                yield iface.linktype, last_us, buf[start:end]
            elif kind == _SPB:
                if not interfaces:
                    raise self._damaged("packet before any interface", chunks.offset - total)
                iface = interfaces[0]
                orig = word.unpack_from(buf, pos + 8)[0]
                caplen = min(orig, total - 16, iface.snaplen or orig)
                start = pos + 12
                yield iface.linktype, last_us, buf[start : start + caplen - iface.fcs]
            elif kind == _IDB:
                if total < 20:
                    raise self._damaged("corrupt interface block", chunks.offset - total)
                linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", buf, pos + 8)
                iface = _Interface(linktype, snaplen)
                self._idb_options(iface, buf, pos + 16, pos + total - 4, endian)
                interfaces.append(iface)
        if len(chunks.buf) > chunks.pos:
            raise self._damaged("truncated block header", chunks.offset)

    @staticmethod
    def _idb_options(iface: _Interface, buf: bytes, pos: int, end: int, endian: str) -> None:
        head = struct.Struct(endian + "HH")
        while pos + 4 <= end:
            code, length = head.unpack_from(buf, pos)
            value = pos + 4
            if code == 0 or value + length > end:
                return
            if code == 9 and length >= 1:  # if_tsresol
                resol = buf[value]
                exponent = resol & 0x7F
                if exponent <= 60:
                    iface.units = (2 if resol & 0x80 else 10) ** exponent or 1
            elif code == 14 and length >= 8:  # if_tsoffset, seconds
                iface.offset_us = struct.unpack_from(endian + "q", buf, value)[0] * 1_000_000
            elif code == 13 and length >= 1 and iface.linktype == IEEE802_11:  # if_fcslen
                iface.fcs = buf[value]
            pos = value + ((length + 3) & ~3)
