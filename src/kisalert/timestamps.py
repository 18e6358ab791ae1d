"""Alert timestamps: whole microseconds, strictly increasing, and their text forms."""

from __future__ import annotations

import math
import re

from kisalert.clock import Clock

_MICRO = 1_000_000
# ASCII: `\d` and float() would also take other scripts' digits.
_NUMERIC_PREFIX = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def to_micros(seconds: float) -> int:
    return round(seconds * _MICRO)


def from_micros(micros: int) -> float:
    return micros / _MICRO


def json_number(value: float) -> float | int:
    """A double as Kismet writes it: integral values become integers."""
    return int(value) if value.is_integer() else value


def format_timestamp(seconds: float) -> str:
    """The shortest text that round-trips the double, with no trailing `.0`."""
    text = repr(seconds)
    return text[:-2] if text.endswith(".0") else text


# Every alert stamp is int64 microseconds (an INTEGER in the alert log), so no stamp lies beyond
# this many seconds either way; a path time past it selects exactly what the bound does,
# and clamping keeps `to_micros` of the resolved time inside int64.
# The last second a timestamp may name: 9999-12-31T23:59:59Z.
LAST_MOMENT = 253_402_300_799
PATH_TIMESTAMP_LIMIT = 9.2e12


def parse_path_timestamp(text: str) -> float | None:
    """A timestamp from a URL path, read as the longest numeric prefix (as Kismet does).

    A finite number beyond +-PATH_TIMESTAMP_LIMIT is clamped to it: it is still a time,
    just one with no alerts newer (or older) than it. Returns None when there is no
    numeric prefix or the number is not finite (`1e999` reads as inf, like `inf`).
    """
    match = _NUMERIC_PREFIX.match(text)
    if match is None:
        return None
    value = float(match.group())
    if not math.isfinite(value):
        return None
    return max(-PATH_TIMESTAMP_LIMIT, min(PATH_TIMESTAMP_LIMIT, value))


def resolve(ts: float, now: float) -> float:
    """A request timestamp: positive is absolute, negative is relative to now."""
    return now + ts if ts < 0 else ts


class Stamper:
    """Hands out strictly increasing timestamps in whole microseconds.

    A new stamp is the largest of the clock, the last stamp plus 1 µs, and every
    poll timestamp already handed to a client plus 1 µs, so that "alerts newer than
    T" is exact.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._floor = 0  # micros; the next stamp must be strictly greater

    def peek(self) -> int:
        """The stamp the next `take` would return, in microseconds (if the clock holds)."""
        now = to_micros(self._clock.now())
        return now if now > self._floor else self._floor + 1

    def take(self) -> int:
        return self.claim(self.peek())

    def claim(self, stamp: int) -> int:
        """Use `stamp`, a value `peek` returned (the clock is read once per alert)."""
        self._floor = stamp
        return stamp

    def reserve(self, micros: int) -> None:
        """Promise that every later stamp is strictly greater than `micros`."""
        if micros > self._floor:
            self._floor = micros
