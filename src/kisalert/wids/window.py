"""The one windowed counter for flood and rate detectors: "more than N within W".

Only the last N+1 event times are kept, in a fixed ring of 64-bit integers, so a
counter costs about 200 bytes whatever the rate (a deque would cost 600 and more;
a flood of random MACs makes tens of thousands of counters). Times are packet times
in microseconds.
"""

from __future__ import annotations

from array import array


class Burst:
    """Fires when more than `limit` events fall within `window_us`; then starts over."""

    __slots__ = ("_count", "_next", "_times", "limit", "seen_us", "window_us")

    def __init__(self, limit: int, window_us: int) -> None:
        self.limit = limit
        self.window_us = window_us
        self._times = array("q", bytes(8 * (limit + 1)))
        self._next = 0  # the ring slot the next event goes to
        self._count = 0  # events in the ring, up to limit + 1
        self.seen_us = 0

    def hit(self, at_us: int) -> bool:
        """Count an event at `at_us`; True when it makes more than `limit` in the window."""
        times = self._times
        slot = self._next
        times[slot] = at_us
        slot += 1
        if slot == len(times):
            slot = 0
        self._next = slot
        if self._count <= self.limit:
            self._count += 1
            if self._count <= self.limit:
                return False
        # The ring is full: `slot` now holds the oldest of the last limit + 1 events.
        # (A frame older than the ring's oldest, from a capture slightly out of
        # order, is no evidence of a burst.)
        if 0 <= at_us - times[slot] < self.window_us:
            self._count = 0
            return True
        return False

    def __len__(self) -> int:
        return self._count
