"""Sliding-window throttling (model.md, "Rates and throttling"), with explicit times in µs."""

from __future__ import annotations

import bisect
import random

import pytest

from kisalert.rates import Limits, Rate
from kisalert.throttle import Throttle, Window

SEC = 1_000_000
MIN = 60 * SEC
HOUR = 3600 * SEC
DAY = 86400 * SEC
T0 = 1_764_420_000 * SEC


def attempt(throttle: Throttle, at_us: int) -> bool:
    """One raise at `at_us`: sent (and counted) only if the throttle allows it."""
    if throttle.allows(at_us):
        throttle.record(at_us)
        return True
    return False


def in_window(sent: list[int], end_us: int, span_us: int) -> int:
    """How many of the sorted `sent` times fall in the window (end - span, end]."""
    return bisect.bisect_right(sent, end_us) - bisect.bisect_right(sent, end_us - span_us)


def test_five_per_minute_one_per_second_under_steady_attempts() -> None:
    throttle = Throttle(Limits.parse("5/min", "1/sec"))
    sent = [t for t in range(T0, T0 + MIN, SEC // 2) if attempt(throttle, t)]
    assert sent == [T0, T0 + SEC, T0 + 2 * SEC, T0 + 3 * SEC, T0 + 4 * SEC]


@pytest.mark.parametrize("seed", range(8))
def test_five_per_minute_one_per_second_under_any_pattern(seed: int) -> None:
    """Exactly the documented meaning: send iff, counting it, no window of one unit
    holds more than the limit; checked against a brute-force model."""
    rng = random.Random(seed)
    throttle = Throttle(Limits.parse("5/min", "1/sec"))
    sent: list[int] = []
    now = T0
    for _ in range(2000):
        # Clumps, exact-second gaps, and long pauses.
        now += rng.choice(
            [0, 1, rng.randrange(SEC), SEC, SEC - 1, SEC + 1, rng.randrange(20 * SEC)]
        )
        would_fit = in_window(sent, now, SEC) < 1 and in_window(sent, now, MIN) < 5
        assert attempt(throttle, now) == would_fit, (seed, now - T0, sent[-6:])
        if would_fit:
            sent.append(now)
    assert len(sent) > 50  # the pattern exercised the throttle
    for t in sent:
        # every window of one unit ending at a send (the fullest ones)
        assert in_window(sent, t, SEC) <= 1
        assert in_window(sent, t, MIN) <= 5


def test_exactly_one_second_apart_is_allowed() -> None:
    throttle = Throttle(Limits.parse("10/min", "1/sec"))
    assert attempt(throttle, T0)
    assert not attempt(throttle, T0 + SEC - 1)
    assert attempt(throttle, T0 + SEC)
    assert attempt(throttle, T0 + 2 * SEC)
    assert not attempt(throttle, T0 + 2 * SEC)


def test_exactly_one_minute_apart_frees_the_minute_window() -> None:
    throttle = Throttle(Limits.parse("2/min", "1/sec"))
    assert attempt(throttle, T0)
    assert attempt(throttle, T0 + 30 * SEC)
    assert not attempt(throttle, T0 + MIN - 1)
    assert attempt(throttle, T0 + MIN)
    assert not attempt(throttle, T0 + MIN + 29 * SEC)
    assert attempt(throttle, T0 + MIN + 30 * SEC)


def test_throttled_attempts_are_not_counted() -> None:
    throttle = Throttle(Limits.parse("10/min", "1/sec"))
    assert attempt(throttle, T0)
    # Refused attempts every 100 ms must not push the next allowed send back.
    for k in range(1, 10):
        assert not attempt(throttle, T0 + k * SEC // 10)
    assert attempt(throttle, T0 + SEC)
    assert throttle.burst.sent(T0 + SEC) == 1
    assert throttle.limit.sent(T0 + SEC) == 2


def test_throttled_attempts_do_not_count_against_the_long_window() -> None:
    throttle = Throttle(Limits.parse("3/min", "3/min"))
    sent = [t for t in range(T0, T0 + MIN, SEC // 10) if attempt(throttle, t)]
    assert len(sent) == 3
    assert throttle.limit.sent(T0 + MIN - 1) == 3
    # the first send leaves the window at T0 + 1 min: exactly one more goes through
    assert attempt(throttle, T0 + MIN)
    assert not attempt(throttle, T0 + MIN + 1)


@pytest.mark.parametrize(
    ("throttle", "burst"),
    [("0/min", "1/sec"), ("10/min", "0/sec"), ("0/min", "0/sec"), ("0/day", "0/day")],
)
def test_zero_disables(throttle: str, burst: str) -> None:
    limits = Throttle(Limits.parse(throttle, burst))
    for t in range(T0, T0 + 3 * DAY, HOUR):
        assert not attempt(limits, t)
    assert limits.last_us == 0


def test_last_sent_time() -> None:
    throttle = Throttle(Limits.parse("10/min", "1/sec"))
    assert throttle.last_us == 0
    attempt(throttle, T0)
    attempt(throttle, T0 + SEC // 2)  # refused
    assert throttle.last_us == T0
    attempt(throttle, T0 + 5 * SEC)
    assert throttle.last_us == T0 + 5 * SEC


def test_window_sent_counts_the_sliding_window() -> None:
    window = Window(Rate.parse("100/min"))
    for k in range(5):
        window.record(T0 + k * 10 * SEC)  # T0, +10, +20, +30, +40 s
    assert window.sent(T0 + 40 * SEC) == 5
    assert window.sent(T0 + MIN - 1) == 5
    assert window.sent(T0 + MIN) == 4
    assert window.sent(T0 + MIN + 25 * SEC) == 2
    assert window.sent(T0 + 2 * MIN) == 0
    assert window.allows(T0 + 2 * MIN)


def test_window_allows_up_to_its_count() -> None:
    window = Window(Rate.parse("3/sec"))
    for _ in range(3):
        assert window.allows(T0)
        window.record(T0)
    assert not window.allows(T0)
    assert not window.allows(T0 + SEC - 1)
    assert window.allows(T0 + SEC)


def test_day_window() -> None:
    throttle = Throttle(Limits.parse("2/day", "1/hr"))
    assert attempt(throttle, T0)
    assert not attempt(throttle, T0 + 30 * MIN)  # burst: one per hour
    assert attempt(throttle, T0 + HOUR)
    assert not attempt(throttle, T0 + 2 * HOUR)  # two per day used up
    assert not attempt(throttle, T0 + DAY - 1)
    assert attempt(throttle, T0 + DAY)  # the first send left the window
    assert not attempt(throttle, T0 + DAY + HOUR - 1)
    assert attempt(throttle, T0 + DAY + HOUR)


def test_exact_window_keeps_at_most_count_entries() -> None:
    throttle = Throttle(Limits.parse("1000/sec", "1000/sec"))
    for t in range(T0, T0 + 3 * SEC, 100):
        attempt(throttle, t)
        assert len(throttle.limit._entries) <= 1000
    assert throttle.limit.sent(T0 + 3 * SEC - 1) == 1000


def test_bucketed_window_stays_within_limit_and_bounded() -> None:
    """2000/sec is kept in 1000 buckets of 1 ms: exact to one bucket."""
    limit, bucket = 2000, SEC // 1000
    throttle = Throttle(Limits.parse(f"{limit}/sec", f"{limit}/sec"))
    sent: list[int] = []
    for t in range(T0, T0 + 3 * SEC, 100):
        if attempt(throttle, t):
            sent.append(t)
        assert len(throttle.limit._entries) <= 1000
        assert len(throttle.burst._entries) <= 1000
    for t in sent:
        assert in_window(sent, t, SEC - bucket) <= limit
        assert in_window(sent, t, SEC + bucket) <= limit + limit // 100
    # not over-restrictive either: about the limit in every second
    assert 3 * limit - limit // 100 <= len(sent) <= 3 * limit + limit // 100


def test_bucketed_day_window_stays_within_limit_and_bounded() -> None:
    """5000/day: 1000 buckets of 86.4 s."""
    rng = random.Random(7)
    limit, bucket = 5000, DAY // 1000
    throttle = Throttle(Limits.parse(f"{limit}/day", "1000000/sec"))
    sent: list[int] = []
    now = T0
    while now < T0 + 3 * DAY:
        now += rng.randrange(2 * SEC, 30 * SEC)
        if attempt(throttle, now):
            sent.append(now)
        assert len(throttle.limit._entries) <= 1000
    for t in sent:
        assert in_window(sent, t, DAY - bucket) <= limit
    assert len(sent) >= 2 * limit


def test_very_high_rate_memory_is_bounded() -> None:
    throttle = Throttle(Limits.parse("1000000/min", "1000000/sec"))
    for t in range(T0, T0 + 2 * MIN, 2000):  # 60 000 sends spread over two minutes
        assert attempt(throttle, t)
    assert len(throttle.limit._entries) <= 1000
    assert len(throttle.burst._entries) <= 1000
    assert throttle.burst.sent(T0 + 2 * MIN) <= 501
    assert abs(throttle.limit.sent(T0 + 2 * MIN) - 30_000) <= 30


# The exact/bucketed boundary: up to 1 000 per unit every send time is kept.


def test_one_thousand_per_unit_is_exact_to_the_microsecond() -> None:
    """1 000 sends late in the first millisecond fill the window; the next send may go
    only once they are a whole second old, not when their millisecond has passed."""
    throttle = Throttle(Limits.parse("1000/sec", "1000/sec"))
    late_in_first_ms = T0 + 999
    for _ in range(1000):
        assert attempt(throttle, late_in_first_ms)
    assert not attempt(throttle, T0 + SEC)
    assert not attempt(throttle, late_in_first_ms + SEC - 1)
    # then all 1 000 have left the window together
    assert all(attempt(throttle, late_in_first_ms + SEC) for _ in range(1000))
    assert not attempt(throttle, late_in_first_ms + SEC)


def test_one_thousand_and_one_per_unit_is_kept_in_1000_buckets() -> None:
    """One over the exact limit, memory is bounded by the buckets, not the count."""
    throttle = Throttle(Limits.parse("1001/sec", "1001/sec"))
    for t in range(T0, T0 + 2 * SEC, 100):  # one attempt every 100 µs
        attempt(throttle, t)
    # 1 001 sends in the last second, in at most 1 000 one-millisecond buckets
    assert throttle.limit.sent(T0 + 2 * SEC - 1) == 1001
    assert len(throttle.limit._entries) <= 1000
    assert len(throttle.burst._entries) <= 1000
