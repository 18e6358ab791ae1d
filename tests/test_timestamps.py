"""Timestamps (model.md, "Timestamps"; api.md, path timestamps)."""

from __future__ import annotations

import pytest

from kisalert.clock import ManualClock
from kisalert.timestamps import (
    Stamper,
    format_timestamp,
    from_micros,
    json_number,
    parse_path_timestamp,
    resolve,
    to_micros,
)

START = 1_764_420_000.0
START_US = 1_764_420_000_000_000


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1764420000.5, "1764420000.5"),
        (1764420000.123456, "1764420000.123456"),
        (1764420000.0, "1764420000"),
        (1764420000.000001, "1764420000.000001"),
        (1700000000.1, "1700000000.1"),
        (0.0, "0"),
        (12.25, "12.25"),
    ],
)
def test_format_timestamp_is_shortest_round_trip_without_trailing_zero(
    seconds: float, text: str
) -> None:
    assert format_timestamp(seconds) == text
    assert float(text) == seconds


def test_format_timestamp_round_trips_every_microsecond_stamp() -> None:
    for micros in range(START_US, START_US + 2000, 7):
        text = format_timestamp(from_micros(micros))
        assert not text.endswith(".0")
        assert to_micros(float(text)) == micros


def test_micros_conversion() -> None:
    assert to_micros(1764420000.123456) == 1_764_420_000_123_456
    assert to_micros(1764420000.5) == 1_764_420_000_500_000
    assert from_micros(1_764_420_000_123_456) == 1764420000.123456


def test_json_number_writes_integral_doubles_as_integers() -> None:
    assert json_number(1764420000.0) == 1764420000
    assert isinstance(json_number(1764420000.0), int)
    assert isinstance(json_number(0.0), int)
    assert json_number(1764420000.5) == 1764420000.5
    assert isinstance(json_number(1764420000.5), float)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1764420000", 1764420000.0),
        ("1764420000.5", 1764420000.5),
        ("1764420000.123456", 1764420000.123456),
        ("1764420000.123456.0", 1764420000.123456),
        ("12abc", 12.0),
        ("0", 0.0),
        ("-60", -60.0),
        ("-60abc", -60.0),
        ("1764420000.", 1764420000.0),
    ],
)
def test_path_timestamp_is_longest_numeric_prefix(text: str, value: float) -> None:
    assert parse_path_timestamp(text) == value


@pytest.mark.parametrize(
    "text", ["abc", "", "nan", "NaN", "inf", "-inf", "Infinity", ".", "-", "+", "x12", "1e999"]
)
def test_path_timestamp_without_finite_numeric_prefix_is_rejected(text: str) -> None:
    assert parse_path_timestamp(text) is None


def test_resolve_absolute_and_relative() -> None:
    now = START + 0.25
    assert resolve(-60.0, now) == now - 60
    assert resolve(-0.5, now) == now - 0.5
    assert resolve(1764000000.0, now) == 1764000000.0
    assert resolve(0.0, now) == 0.0


def test_stamper_follows_a_moving_clock() -> None:
    clock = ManualClock(START)
    stamper = Stamper(clock)
    assert stamper.take() == START_US
    clock.advance(1.5)
    assert stamper.take() == START_US + 1_500_000
    clock.set(START + 10.000001)
    assert stamper.take() == START_US + 10_000_001


def test_stamper_strictly_increases_when_the_clock_stands_still() -> None:
    stamper = Stamper(ManualClock(START))
    stamps = [stamper.take() for _ in range(1000)]
    assert stamps == list(range(START_US, START_US + 1000))


def test_stamper_strictly_increases_when_the_clock_goes_backwards() -> None:
    clock = ManualClock(START)
    stamper = Stamper(clock)
    first = stamper.take()
    clock.set(START - 3600)
    second = stamper.take()
    third = stamper.take()
    assert first < second < third
    assert second == first + 1
    # once the clock passes the last stamp again, stamps follow it
    clock.set(START + 5)
    assert stamper.take() == START_US + 5_000_000


def test_stamper_peek_does_not_consume() -> None:
    stamper = Stamper(ManualClock(START))
    assert stamper.peek() == START_US
    assert stamper.peek() == START_US
    assert stamper.take() == START_US
    assert stamper.peek() == START_US + 1
    assert stamper.take() == START_US + 1


def test_reserve_makes_later_stamps_greater() -> None:
    clock = ManualClock(START)
    stamper = Stamper(clock)
    mark = START_US + 2_000_000  # a poll timestamp ahead of the clock
    stamper.reserve(mark)
    assert stamper.take() == mark + 1
    assert stamper.take() == mark + 2


def test_reserve_of_the_current_time_excludes_it() -> None:
    clock = ManualClock(START)
    stamper = Stamper(clock)
    stamper.reserve(START_US)
    assert stamper.take() > START_US


def test_reserve_below_the_last_stamp_changes_nothing() -> None:
    clock = ManualClock(START)
    stamper = Stamper(clock)
    last = stamper.take()
    stamper.reserve(last - 1_000_000)
    assert stamper.take() == last + 1
    clock.advance(1)
    assert stamper.take() == START_US + 1_000_000
