"""Why a rate's count is refused: a negative count is told apart from one that is no
whole number, however close the text comes to a negative one."""

from __future__ import annotations

import pytest

from kisalert.rates import Limits, Rate, RateError

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


@pytest.mark.parametrize("text", ["x/min", "5/fortnight", "99999999999/sec"])
def test_a_rate_error_carries_the_text_it_refused(text: str) -> None:
    # RateError's documented args: callers name the bad text without parsing it again.
    with pytest.raises(RateError) as info:
        Rate.parse(text)
    assert info.value.args == (text,)


def test_an_order_error_names_the_burst_and_the_part() -> None:
    with pytest.raises(RateError) as info:
        Limits.parse("5/min", "1/hour")
    assert info.value.args == ("1/hour", "order")
