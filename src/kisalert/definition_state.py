"""Whether an alert definition is enabled, with its rates in words: kisalert's own
record of a definition's state. It has a route of its own, beside Kismet's
definition record, whose shape clients know and which must not change."""

from __future__ import annotations

from typing import Any

from kisalert.catalog import BUILTIN_ALERTS
from kisalert.definition import Definition
from kisalert.rates import Limits
from kisalert.severity import SEVERITY_NAMES

BUILTIN = "builtin"
API = "api"
_BUILTIN_NAMES = frozenset(builtin.name for builtin in BUILTIN_ALERTS)


def enabled(limits: Limits) -> bool:
    """A rate or a burst of 0 lets nothing through: the alert is disabled."""
    return limits.limit.count > 0 and limits.burst.count > 0


def zero_part(limits: Limits) -> str:
    """Which limit disables a disabled alert, as its refusal names it."""
    return "rate" if limits.limit.count == 0 else "burst"


def origin(name: str) -> str:
    """Where a definition came from. A server holds built-ins and definitions made
    over the API only, and the API cannot take a built-in's name."""
    return BUILTIN if name in _BUILTIN_NAMES else API


def state_record(definition: Definition) -> dict[str, Any]:
    limits = definition.limits
    return {
        "kisalert.definition.header": definition.name,
        "kisalert.definition.enabled": enabled(limits),
        "kisalert.definition.throttle": str(limits.limit),
        "kisalert.definition.burst": str(limits.burst),
        "kisalert.definition.class": definition.klass,
        "kisalert.definition.severity": definition.severity,
        "kisalert.definition.severity_name": SEVERITY_NAMES.get(
            definition.severity, str(definition.severity)
        ),
        "kisalert.definition.origin": origin(definition.name),
    }
