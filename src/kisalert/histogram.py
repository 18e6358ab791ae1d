"""Observations counted into fixed buckets, for /metrics to report as a histogram.

Code that observes often (each request, each commit) keeps one of these rather than
a prometheus-client metric: an observation is a list increment and an add, and
nothing else happens until a scrape reads the counts.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# For durations in seconds: requests and commits take from well under a millisecond
# to seconds (a big read, strict mode on a slow disk, a disk that is failing).
SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Histogram:
    """One thread observes; others may read at any time (`buckets` copies the counts).

    `counts[i]` holds observations up to `bounds[i]` and above `bounds[i - 1]`; the
    last slot holds those above every bound.
    """

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(sorted(bounds))
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def buckets(self) -> tuple[list[tuple[str, float]], float]:
        """Cumulative buckets by upper bound, as Prometheus has them (the last, `+Inf`,
        is also the count), and the sum of the observations."""
        counts = list(self.counts)  # one copy, so that the buckets agree with each other
        labels = [*(repr(float(bound)) for bound in self.bounds), "+Inf"]
        cumulative: list[tuple[str, float]] = []
        running = 0
        for label, count in zip(labels, counts, strict=True):
            running += count
            cumulative.append((label, running))
        return cumulative, self.total
