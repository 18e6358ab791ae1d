"""`rate=N/unit`: the most alerts an output is sent, as a token bucket.

The bucket holds up to N tokens and refills at N per unit, so a quiet output may
send a burst of N at once and then N per unit. An alert that finds the bucket empty
is held back: counted, and not sent (a cap that queued instead would let a flood
grow the backlog without end, and deliver it late).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kisalert.rates import Rate


class RateCap:
    def __init__(self, rate: Rate, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._now = now
        self._capacity = float(rate.count)
        self._per_second = rate.count / rate.unit.seconds
        self._tokens = self._capacity
        self._at = now()
        self.held_back = 0

    def take(self) -> bool:
        """Whether one more alert may go now; if not, it is counted as held back."""
        now = self._now()
        # max(): a clock that stepped back refills nothing, and never drains.
        elapsed = max(0.0, now - self._at)
        self._at = now
        self._tokens = min(self._capacity, self._tokens + elapsed * self._per_second)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.held_back += 1
        return False
