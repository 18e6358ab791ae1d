"""What Kismet's alert and definition records look like, shared by the tests that check them."""

from __future__ import annotations

from typing import Any

# An alert record's keys, in Kismet's order.
ALERT_KEYS = [
    "kismet.alert.device_key",
    "kismet.alert.header",
    "kismet.alert.class",
    "kismet.alert.hash",
    "kismet.alert.severity",
    "kismet.alert.phy_id",
    "kismet.alert.timestamp",
    "kismet.alert.transmitter_mac",
    "kismet.alert.source_mac",
    "kismet.alert.dest_mac",
    "kismet.alert.other_mac",
    "kismet.alert.channel",
    "kismet.alert.frequency",
    "kismet.alert.text",
    "kismet.alert.location",
]

# A definition record's keys, in Kismet's order.
DEFINITION_KEYS = [
    "kismet.alert.definition.header",
    "kismet.alert.definition.class",
    "kismet.alert.definition.severity",
    "kismet.alert.definition.description",
    "kismet.alert.definition.phyid",
    "kismet.alert.definition.limit_unit",
    "kismet.alert.definition.limit_rate",
    "kismet.alert.definition.burst_unit",
    "kismet.alert.definition.limit_burst",
    "kismet.alert.definition.burst_sent",
    "kismet.alert.definition.total_sent",
    "kismet.alert.definition.time_last",
]

ZERO_MAC = "00:00:00:00:00:00"


def only(records: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """The alert records whose header is one of names, in their order."""
    return [r for r in records if r["kismet.alert.header"] in names]


def rates_of(definition: dict[str, Any]) -> tuple[int, int, int, int]:
    """A definition's (limit_unit, limit_rate, burst_unit, limit_burst)."""
    return (
        definition["kismet.alert.definition.limit_unit"],
        definition["kismet.alert.definition.limit_rate"],
        definition["kismet.alert.definition.burst_unit"],
        definition["kismet.alert.definition.limit_burst"],
    )
