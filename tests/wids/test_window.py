"""Burst: "more than N within W", on packet time, in fixed memory."""

from __future__ import annotations

from kisalert.wids.window import Burst


def test_more_than_the_limit_within_the_window_fires_once_then_starts_over() -> None:
    burst = Burst(10, 1_000_000)
    fired = [burst.hit(i * 90_000) for i in range(22)]
    assert fired.index(True) == 10  # the eleventh event
    assert fired.count(True) == 2  # and again after eleven more
    assert fired[21]


def test_exactly_the_limit_does_not_fire() -> None:
    burst = Burst(10, 1_000_000)
    assert not any(burst.hit(i * 99_000) for i in range(10))


def test_the_window_is_strict() -> None:
    # Eleven events spanning exactly one second are not "within one second".
    burst = Burst(10, 1_000_000)
    assert not any(burst.hit(i * 100_000) for i in range(11))
    burst = Burst(10, 1_000_000)
    assert [burst.hit(i * 99_999) for i in range(11)][-1]


def test_old_events_slide_out() -> None:
    burst = Burst(2, 10)
    assert [burst.hit(t) for t in (0, 100, 200, 201, 202)] == [False, False, False, False, True]


def test_an_event_older_than_the_ring_is_no_burst() -> None:
    burst = Burst(2, 10)
    for t in (1000, 1001):
        burst.hit(t)
    assert not burst.hit(5)  # out of order, far behind


def test_memory_is_fixed() -> None:
    burst = Burst(5, 1_000)
    for t in range(100_000):
        burst.hit(t * 1_000)
    assert len(burst) <= 6
