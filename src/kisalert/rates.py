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


class RateError(ValueError):
    """Text that is not a rate."""


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Rate:
        number, slash, unit_text = text.partition("/")
        number = number.strip()
        unit = _UNIT_NAMES.get(unit_text.strip().lower()) if slash else Unit.MINUTE
        if unit is None or not number.isascii() or not number.isdigit():
            raise RateError(text)
        count = int(number)
        if count > MAX_COUNT:
            raise RateError(text)
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
            raise RateError(throttle, "throttle") from exc
        try:
            burst_rate = Rate.parse(burst)
        except RateError as exc:
            raise RateError(burst, "burst") from exc
        limits = cls(limit_rate, burst_rate)
        if burst_rate.unit > limit_rate.unit:
            raise RateError(burst, "order")
        return limits

    def __str__(self) -> str:
        return f"{self.limit},{self.burst}"
