"""Turning alerts, messages and definitions into log rows, and back."""

from __future__ import annotations

from typing import Any

import orjson

from kisalert import messages
from kisalert.alert import Alert
from kisalert.definition import Definition
from kisalert.phy import phy_from_u32, phy_log_name
from kisalert.rates import Limits


def alert_row(alert: Alert) -> tuple[Any, ...]:
    record = alert.record
    location = record["kismet.alert.location"]
    lon, lat = location["kismet.common.location.geopoint"]
    if location.get("kismet.common.location.fix", 0) < 2:
        lat = lon = 0
    ts_us = alert.timestamp_us
    return (
        ts_us // 1_000_000,
        ts_us % 1_000_000,
        phy_log_name(phy_from_u32(record["kismet.alert.phy_id"])),
        record["kismet.alert.transmitter_mac"],
        lat,
        lon,
        alert.header,
        alert.json,
    )


def msgtype(flags: int) -> str:
    """The `msgtype` column: the most important flag's name."""
    for flag, name in (
        (messages.FATAL, "FATAL"),
        (messages.ERROR, "ERROR"),
        (messages.ALERT, "ALERT"),
        (messages.INFO, "INFO"),
        (messages.DEBUG, "DEBUG"),
    ):
        if flags & flag:
            return name
    return ""


def message_row(message: messages.Message) -> tuple[Any, ...]:
    return (message.time, 0, 0, msgtype(message.flags), message.text)


def alert_message_row(alert: Alert) -> tuple[Any, ...]:
    """The messages row of an alert: `"<HEADER> <text>"`, msgtype ALERT."""
    text = alert.record["kismet.alert.text"]
    return (alert.timestamp_us // 1_000_000, 0, 0, "ALERT", f"{alert.header} {text}")


def definition_blob(definition: Definition) -> bytes:
    return orjson.dumps(
        {
            "name": definition.name,
            "class": definition.klass,
            "severity": definition.severity,
            "description": definition.description,
            "phy": definition.phy,
            "throttle": str(definition.limits.limit),
            "burst": str(definition.limits.burst),
        }
    )


def definition_from_blob(blob: bytes) -> Definition:
    doc = orjson.loads(blob)
    return Definition(
        doc["name"],
        doc["class"],
        doc["severity"],
        doc["description"],
        doc["phy"],
        Limits.parse(doc["throttle"], doc["burst"]),
    )
