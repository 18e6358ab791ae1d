"""Why a rate's count is refused: a negative count is told apart from one that is no
whole number, however close the text comes to a negative one."""

from __future__ import annotations

import pytest

from kisalert.rates import Limits, RateError

NEGATIVE = "the count may not be negative (0 turns the alert off), e.g. 5/min"


def reason(throttle: str) -> str:
    with pytest.raises(RateError) as info:
        Limits.parse(throttle, "1/sec")
    return str(info.value)


def test_a_minus_before_digits_is_a_negative_count() -> None:
    assert reason("-5/min") == NEGATIVE


@pytest.mark.parametrize(
    "count",
    [
        "-1.5",  # a minus, but no whole number after it
        "x5",  # digits after the first character, but no minus
        "-５",  # a fullwidth digit: int() would take it, a rate may not
    ],
)
def test_a_count_that_is_no_whole_number_is_not_called_negative(count: str) -> None:
    expected = f"the count {count!r} is not a whole number; write COUNT/UNIT, e.g. 5/min"
    assert reason(f"{count}/min") == expected
