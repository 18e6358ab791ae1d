"""The alert id (`kismet.alert.hash`): Kismet's 32-bit checksum of an alert's key fields."""

from __future__ import annotations

from zlib import adler32

# adler32 keeps both its sums modulo 65521. Over at most 21 bytes neither sum can reach
# that (1 + 21 * 255 and 21 + 255 * 21 * 22 / 2 = 58 926), so adler32 of a chunk that
# short gives the chunk's exact sums, and the whole text's follow from them.
CHUNK = 21


def checksum(data: bytes) -> int:
    """Kismet's adler-like checksum: no modulus, 0 for inputs shorter than 4 bytes.

    s1 is the sum of the bytes, s2 the sum of the running sums of s1. A chunk's own
    s2 grows by its length times the s1 of everything before it. Twice as fast as
    `sum(accumulate(data))`, which makes an int object per byte.
    """
    size = len(data)
    if size < 4:
        return 0
    s1 = s2 = 0
    for start in range(0, size, CHUNK):
        value = adler32(data[start : start + CHUNK])
        length = CHUNK if start + CHUNK <= size else size - start
        # adler32 starts its s1 at 1: its s1 is one more, its s2 one more per byte.
        s2 += (value >> 16) - length + length * s1
        s1 += (value & 0xFFFF) - 1
    return ((s2 & 0xFFFF) << 16) | (s1 & 0xFFFF)


def hashed_text(
    header: str,
    severity: int,
    phy_u32: int,
    timestamp: str,
    transmitter: str,
    source: str,
    dest: str,
    other: str,
    channel: str,
) -> str:
    return (
        f"{header} {severity} {phy_u32} {timestamp} {transmitter} {source} {dest} {other} {channel}"
    )


def next_free(wanted: int, taken: object) -> int:
    """`wanted`, or the next value (mod 2**32) not in `taken` (anything supporting `in`)."""
    candidate = wanted
    while candidate in taken:  # type: ignore[operator]
        candidate = (candidate + 1) & 0xFFFFFFFF
    return candidate
