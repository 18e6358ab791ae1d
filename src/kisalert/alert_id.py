"""The alert id (`kismet.alert.hash`): Kismet's 32-bit checksum of an alert's key fields."""

from __future__ import annotations

from itertools import accumulate


def checksum(data: bytes) -> int:
    """Kismet's adler-like checksum: no modulus, 0 for inputs shorter than 4 bytes."""
    if len(data) < 4:
        return 0
    # s2 is the sum of the running sums of s1; accumulate() keeps the loop in C.
    s1 = sum(data)
    s2 = sum(accumulate(data))
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
