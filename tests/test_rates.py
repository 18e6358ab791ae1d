"""Rate strings and throttle units (model.md, "Rates and throttling")."""

from __future__ import annotations

import pytest

from kisalert.rates import Limits, Rate, RateError, Unit


@pytest.mark.parametrize(
    ("text", "count", "unit"),
    [
        ("5/sec", 5, Unit.SECOND),
        ("5/second", 5, Unit.SECOND),
        ("5/min", 5, Unit.MINUTE),
        ("5/minute", 5, Unit.MINUTE),
        ("5/hr", 5, Unit.HOUR),
        ("5/hour", 5, Unit.HOUR),
        ("5/day", 5, Unit.DAY),
        ("5/SEC", 5, Unit.SECOND),
        ("5/Second", 5, Unit.SECOND),
        ("5/MIN", 5, Unit.MINUTE),
        ("5/MiNuTe", 5, Unit.MINUTE),
        ("5/HR", 5, Unit.HOUR),
        ("5/Hour", 5, Unit.HOUR),
        ("5/DAY", 5, Unit.DAY),
        ("10", 10, Unit.MINUTE),
        (" 10 ", 10, Unit.MINUTE),
        (" 5 / min ", 5, Unit.MINUTE),
        ("5 /sec", 5, Unit.SECOND),
        ("5/ day", 5, Unit.DAY),
        ("0/min", 0, Unit.MINUTE),
        ("0", 0, Unit.MINUTE),
        ("1000000/sec", 1_000_000, Unit.SECOND),
        ("1000000", 1_000_000, Unit.MINUTE),
        ("007/min", 7, Unit.MINUTE),
    ],
)
def test_valid_rates(text: str, count: int, unit: Unit) -> None:
    assert Rate.parse(text) == Rate(count, unit)


@pytest.mark.parametrize(
    "text",
    [
        "10x/min",
        "-1/min",
        "-1",
        "+5/min",
        "1.5/min",
        "1.0/min",
        "1e3/min",
        "0x10/min",
        "1000001/min",
        "1000001",
        "99999999999999999999/sec",
        "5/week",
        "5/s",
        "5/secs",
        "5/mins",
        "5/minutes",
        "5/",
        "/min",
        "",
        "   ",
        "min",
        "5/min/sec",
        "5 5/min",
        "1_000/min",
        "５/min",
        "5/mín",
    ],
)
def test_invalid_rates(text: str) -> None:
    with pytest.raises(RateError):
        Rate.parse(text)


def test_unit_lengths() -> None:
    assert [int(u) for u in (Unit.SECOND, Unit.MINUTE, Unit.HOUR, Unit.DAY)] == [0, 1, 2, 3]
    assert Unit.SECOND.seconds == 1
    assert Unit.MINUTE.seconds == 60
    assert Unit.HOUR.seconds == 3600
    assert Unit.DAY.seconds == 86400


def test_rate_text_round_trips() -> None:
    for text in ("5/sec", "5/min", "5/hr", "5/day", "0/min", "1000000/sec"):
        rate = Rate.parse(text)
        assert Rate.parse(str(rate)) == rate


def test_limits_parse() -> None:
    limits = Limits.parse("5/min", "2/sec")
    assert limits.limit == Rate(5, Unit.MINUTE)
    assert limits.burst == Rate(2, Unit.SECOND)
    assert Limits.parse(str(limits.limit), str(limits.burst)) == limits


S, M, H, D = Unit.SECOND, Unit.MINUTE, Unit.HOUR, Unit.DAY


@pytest.mark.parametrize(
    ("throttle", "burst", "expected"),
    [
        ("1/sec", "2/sec", Limits(Rate(1, S), Rate(2, S))),
        ("3/min", "1/sec", Limits(Rate(3, M), Rate(1, S))),
        ("4/min", "5/min", Limits(Rate(4, M), Rate(5, M))),
        ("1/hr", "6/min", Limits(Rate(1, H), Rate(6, M))),
        ("7/day", "1/hr", Limits(Rate(7, D), Rate(1, H))),
        ("1/day", "8/day", Limits(Rate(1, D), Rate(8, D))),
        ("10", "1/min", Limits(Rate(10, M), Rate(1, M))),
        ("10", "9/sec", Limits(Rate(10, M), Rate(9, S))),
        ("1/min", "10", Limits(Rate(1, M), Rate(10, M))),
    ],
)
def test_burst_unit_not_longer_than_throttle_unit_is_accepted(
    throttle: str, burst: str, expected: Limits
) -> None:
    assert Limits.parse(throttle, burst) == expected


@pytest.mark.parametrize(
    ("throttle", "burst"),
    [
        ("1/sec", "1/min"),
        ("1/sec", "10"),
        ("1/min", "1/hr"),
        ("1/hr", "1/day"),
        ("1/sec", "1/day"),
    ],
)
def test_burst_unit_longer_than_throttle_unit_is_an_error(throttle: str, burst: str) -> None:
    with pytest.raises(RateError) as info:
        Limits.parse(throttle, burst)
    assert info.value.args[1] == "order"


def test_limits_error_names_the_failing_part() -> None:
    with pytest.raises(RateError) as info:
        Limits.parse("10x/min", "1/sec")
    assert info.value.args[1] == "throttle"
    with pytest.raises(RateError) as info:
        Limits.parse("10/min", "1.5/sec")
    assert info.value.args[1] == "burst"
