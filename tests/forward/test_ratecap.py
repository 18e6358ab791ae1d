"""rate=N/unit: a token bucket of N, refilled at N per unit; what finds it empty is
held back and counted."""

from __future__ import annotations

from kisalert.forward.ratecap import RateCap
from kisalert.rates import Rate, Unit


class Now:
    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


def test_a_burst_of_n_then_n_per_unit() -> None:
    now = Now()
    cap = RateCap(Rate(3, Unit.MINUTE), now)
    assert [cap.take() for _ in range(5)] == [True, True, True, False, False]
    assert cap.held_back == 2
    now.value += 19.9  # not yet one token (20 s each)
    assert not cap.take()
    now.value += 0.2
    assert cap.take()
    assert not cap.take()
    assert cap.held_back == 4


def test_a_quiet_output_saves_up_no_more_than_n() -> None:
    now = Now()
    cap = RateCap(Rate(2, Unit.SECOND), now)
    now.value += 3600
    assert [cap.take() for _ in range(3)] == [True, True, False]


def test_a_clock_stepping_back_neither_refills_nor_breaks() -> None:
    now = Now()
    cap = RateCap(Rate(1, Unit.SECOND), now)
    assert cap.take()
    now.value -= 50
    assert not cap.take()
    now.value += 1.0
    assert cap.take()
