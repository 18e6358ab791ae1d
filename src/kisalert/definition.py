"""Alert definitions: what a raise of a named alert becomes, and how often it may happen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kisalert.rates import Limits
from kisalert.throttle import Throttle
from kisalert.timestamps import from_micros, json_number

NAME_RULE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
MAX_TEXT_BYTES = 16 * 1024
MAX_CHANNEL = 64


def valid_name(name: str) -> bool:
    """Whether `name` is an alert name as given: 1-64 ASCII letters, digits, '_', '-'
    or '.'. Check it before upper-casing, never after: str.upper maps some non-ASCII
    letters to ASCII ('ſ' to 'S', 'ı' to 'I', 'ﬃ' to 'FFI', the Kelvin sign to 'K'),
    so an upper-cased name can pass that was not a name."""
    return name.isascii() and NAME_RULE.fullmatch(name) is not None


def canonical_name(name: str) -> str | None:
    """The name under which an alert named `name` is kept (upper case), or None if
    `name` is not an alert name. Every name from outside goes through here, so that
    the check always comes before the upper-casing."""
    return name.upper() if valid_name(name) else None


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    klass: str
    severity: int
    description: str
    phy: int
    limits: Limits

    def record(self, throttle: Throttle | None, now_us: int) -> dict[str, Any]:
        """The definition record, with the window counters computed at `now_us`."""
        limits = self.limits
        return {
            "kismet.alert.definition.header": self.name,
            "kismet.alert.definition.class": self.klass,
            "kismet.alert.definition.severity": self.severity,
            "kismet.alert.definition.description": self.description,
            "kismet.alert.definition.phyid": self.phy,
            "kismet.alert.definition.limit_unit": int(limits.limit.unit),
            "kismet.alert.definition.limit_rate": limits.limit.count,
            "kismet.alert.definition.burst_unit": int(limits.burst.unit),
            "kismet.alert.definition.limit_burst": limits.burst.count,
            "kismet.alert.definition.burst_sent": throttle.burst.sent(now_us) if throttle else 0,
            "kismet.alert.definition.total_sent": throttle.limit.sent(now_us) if throttle else 0,
            "kismet.alert.definition.time_last": (
                json_number(from_micros(throttle.last_us)) if throttle else 0
            ),
        }
