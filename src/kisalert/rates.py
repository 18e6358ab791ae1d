"""Rate strings (`5/min`, `2/sec`, `10`) and the units of a throttle."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Unit(IntEnum):
    SECOND = 0
    MINUTE = 1
    HOUR = 2
    DAY = 3

    @property
    def seconds(self) -> int:
        return _UNIT_SECONDS[self]


_UNIT_SECONDS = {Unit.SECOND: 1, Unit.MINUTE: 60, Unit.HOUR: 3600, Unit.DAY: 86400}
_UNIT_NAMES = {
    "sec": Unit.SECOND,
    "second": Unit.SECOND,
    "min": Unit.MINUTE,
    "minute": Unit.MINUTE,
    "hr": Unit.HOUR,
    "hour": Unit.HOUR,
    "day": Unit.DAY,
}
_SHORT = {Unit.SECOND: "sec", Unit.MINUTE: "min", Unit.HOUR: "hr", Unit.DAY: "day"}
MAX_COUNT = 1_000_000


_EXAMPLE = "e.g. 5/min"
_UNITS = "sec, min, hr or day"


class RateError(ValueError):
    """Text that is not a rate, or limits that do not fit together.

    args: the text, and from Limits.parse the part that failed: 'throttle', 'burst'
    or 'order'. str() says in one line what is wrong, with a valid example.
    """

    def __init__(self, text: str, part: str | None = None, reason: str = "") -> None:
        if part is None:
            super().__init__(text)
        else:
            super().__init__(text, part)
        self.reason = reason or f"bad rate {text!r}"

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Rate:
        number, slash, unit_text = text.partition("/")
        number = number.strip()
        unit_text = unit_text.strip()
        unit = _UNIT_NAMES.get(unit_text.lower()) if slash else Unit.MINUTE
        if not number.isascii() or not number.isdigit():
            raise RateError(text, reason=_count_problem(text, number))
        if unit is None:
            what = f"unknown unit {unit_text!r}" if unit_text else "no unit after '/'"
            raise RateError(text, reason=f"{what}; use {_UNITS}, {_EXAMPLE}")
        count = int(number)
        if count > MAX_COUNT:
            reason = f"the count {count} is over the maximum of {MAX_COUNT}, {_EXAMPLE}"
            raise RateError(text, reason=reason)
        return cls(count, unit)

    def __str__(self) -> str:
        return f"{self.count}/{_SHORT[self.unit]}"


@dataclass(frozen=True, slots=True)
class Limits:
    """A definition's throttle (`limit`) and burst."""

    limit: Rate
    burst: Rate

    @classmethod
    def parse(cls, throttle: str, burst: str) -> Limits:
        """Raises RateError naming which part failed: 'throttle' or 'burst' in args[1]."""
        try:
            limit_rate = Rate.parse(throttle)
        except RateError as exc:
            raise RateError(throttle, "throttle", exc.reason) from exc
        try:
            burst_rate = Rate.parse(burst)
        except RateError as exc:
            raise RateError(burst, "burst", exc.reason) from exc
        limits = cls(limit_rate, burst_rate)
        if burst_rate.unit > limit_rate.unit:
            longer, shorter = _SHORT[burst_rate.unit], _SHORT[limit_rate.unit]
            # A rate written without a unit is per minute; say so, or "(min)" puzzles.
            implied = "" if "/" in burst else f" ({burst.strip()!r} is per min)"
            reason = (
                f"burst unit ({longer}) is longer than the throttle unit ({shorter}){implied}; "
                f"give the burst per {shorter} or shorter, "
                f"e.g. {limit_rate},{burst_rate.count}/{_SHORT[Unit.SECOND]}"
            )
            raise RateError(burst, "order", reason)
        return limits

    def __str__(self) -> str:
        return f"{self.limit},{self.burst}"


def _count_problem(text: str, number: str) -> str:
    """Why `number`, the part of rate `text` before any '/', is not a count."""
    if not text.strip():
        return f"the rate is empty; write COUNT/UNIT, {_EXAMPLE}"
    if not number:
        return f"no count before '/'; write COUNT/UNIT, {_EXAMPLE}"
    if number.startswith("-") and number[1:].isascii() and number[1:].isdigit():
        return f"the count may not be negative (0 turns the alert off), {_EXAMPLE}"
    return f"the count {number!r} is not a whole number; write COUNT/UNIT, {_EXAMPLE}"
