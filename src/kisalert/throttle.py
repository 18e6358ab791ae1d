"""Sliding-window throttling of an alert definition.

An alert is sent only if, counting it, no more than `limit_rate` were sent in any
window of one `limit_unit` and no more than `limit_burst` in any window of one
`burst_unit`. Windows count alerts actually sent, never attempts.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from kisalert.rates import Limits, Rate


class _HasLimits(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def limits(self) -> Limits: ...


_BUCKETS_PER_UNIT = 1000
_MICROS = 1_000_000


def window_shape(rate: Rate) -> tuple[int, int]:
    """A window's bucket width (µs) and how many buckets one unit spans."""
    unit_us = rate.unit.seconds * _MICROS
    width = 1 if rate.count <= _BUCKETS_PER_UNIT else unit_us // _BUCKETS_PER_UNIT
    return width, unit_us // width


class Window:
    """How many alerts were sent in the last `unit` before a given time.

    Rates of up to 1000 per unit keep every send time (at most `count` live
    entries), which is exact. Higher rates count sends in 1000 buckets per unit,
    exact to 1/1000 of the unit; memory stays bounded either way.
    """

    __slots__ = ("_count", "_entries", "_span", "_total", "_width")

    def __init__(self, rate: Rate) -> None:
        self._count = rate.count
        self._width, self._span = window_shape(rate)
        self._entries: deque[list[int]] = deque()  # [bucket, sends], oldest first
        self._total = 0

    def _expire(self, bucket: int) -> None:
        entries = self._entries
        oldest_live = bucket - self._span
        while entries and entries[0][0] <= oldest_live:
            self._total -= entries.popleft()[1]

    def sent(self, at_us: int) -> int:
        """Sends within the window that ends at `at_us`."""
        self._expire(at_us // self._width)
        return self._total

    def allows(self, at_us: int) -> bool:
        return self.sent(at_us) < self._count

    def record(self, at_us: int) -> None:
        bucket = at_us // self._width
        self._expire(bucket)
        entries = self._entries
        if entries and entries[-1][0] == bucket:
            entries[-1][1] += 1
        else:
            entries.append([bucket, 1])
        self._total += 1


class Throttle:
    """Both windows of one definition and the time of its last sent alert."""

    __slots__ = ("burst", "last_us", "limit")

    def __init__(self, limits: Limits) -> None:
        self.limit = Window(limits.limit)
        self.burst = Window(limits.burst)
        self.last_us = 0

    def allows(self, at_us: int) -> bool:
        return self.burst.allows(at_us) and self.limit.allows(at_us)

    def record(self, at_us: int) -> None:
        self.limit.record(at_us)
        self.burst.record(at_us)
        if at_us > self.last_us:
            self.last_us = at_us


class PacketThrottles:
    """One capture source's throttles, on its packet time: a definition's limits,
    applied to the capture timestamps of the frames its alerts come from."""

    __slots__ = ("_latest_us", "_rewind_us", "_throttles")

    def __init__(self, rewind_us: int | None = None) -> None:
        """`rewind_us`: a capture time this much before the newest seen starts a new
        timeline, with empty windows (None: never)."""
        self._throttles: dict[str, Throttle] = {}
        self._rewind_us = rewind_us
        self._latest_us = 0

    def _throttle(self, name: str, limits: Limits) -> Throttle:
        throttle = self._throttles.get(name)
        if throttle is None:
            throttle = self._throttles[name] = Throttle(limits)
        return throttle

    def admits(self, definition: _HasLimits, at_us: int) -> bool:
        if self._rewind_us is not None and at_us < self._latest_us - self._rewind_us:
            # Windows full of times in this alert's future would refuse it for as
            # long as they hold them: a day, for captures given in the wrong order.
            self._throttles.clear()
            self._latest_us = at_us
        return self._throttle(definition.name, definition.limits).allows(at_us)

    def record(self, definition: _HasLimits, at_us: int) -> None:
        self._throttle(definition.name, definition.limits).record(at_us)
        if at_us > self._latest_us:
            self._latest_us = at_us
