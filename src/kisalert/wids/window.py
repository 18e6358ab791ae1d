"""The one windowed counter for flood and rate detectors: "more than N within W".

Only the last N+1 event times are kept, so a counter's memory is fixed whatever the
rate. Times are packet times in microseconds.
"""

from __future__ import annotations

from collections import deque


class Burst:
    """Fires when more than `limit` events fall within `window_us`; then starts over."""

    __slots__ = ("_times", "limit", "seen_us", "window_us")

    def __init__(self, limit: int, window_us: int) -> None:
        self.limit = limit
        self.window_us = window_us
        self._times: deque[int] = deque(maxlen=limit + 1)
        self.seen_us = 0

    def hit(self, at_us: int) -> bool:
        """Count an event at `at_us`; True when it makes more than `limit` in the window."""
        times = self._times
        times.append(at_us)
        if len(times) > self.limit and at_us - times[0] < self.window_us:
            times.clear()
            return True
        return False

    def __len__(self) -> int:
        return len(self._times)
