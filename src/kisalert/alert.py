"""The alert record: what a raise asks for (a draft) and what the server holds (an alert).

An alert is serialized once, when it is made; every read reuses those bytes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from kisalert.alert_id import checksum, hashed_text
from kisalert.jsonbytes import kept_json, line_safe
from kisalert.location import NO_LOCATION, Location
from kisalert.mac import ZERO_MAC
from kisalert.phy import phy_u32
from kisalert.timestamps import format_timestamp, from_micros, json_number

DEVICE_KEY = "00_0"


class AlertDraft(NamedTuple):
    """An alert before the server has stamped it and given it an id.

    A named tuple: as immutable as a frozen dataclass, and made in a tenth of the
    time (a frozen dataclass sets each of its fields through object.__setattr__,
    ~6 µs a raise here).
    """

    header: str
    klass: str
    severity: int
    phy: int
    text: str
    transmitter: str = ZERO_MAC
    source: str = ZERO_MAC
    dest: str = ZERO_MAC
    other: str = ZERO_MAC
    channel: str = ""
    frequency: float = 0.0
    location: Location = NO_LOCATION

    def checksum(self, timestamp_us: int) -> int:
        """Kismet's hash of this alert raised at `timestamp_us`."""
        text = hashed_text(
            self.header,
            self.severity,
            phy_u32(self.phy),
            format_timestamp(from_micros(timestamp_us)),
            self.transmitter,
            self.source,
            self.dest,
            self.other,
            self.channel,
        )
        return checksum(text.encode())


class Alert:
    """A raised alert: its id, timestamp, record (a dict in Kismet's key order) and JSON."""

    __slots__ = ("alert_id", "header", "json", "record", "timestamp_us")

    def __init__(
        self,
        record: dict[str, Any],
        json: bytes | None = None,
        timestamp_us: int | None = None,
    ) -> None:
        self.record = record
        self.json = kept_json(record) if json is None else json
        self.alert_id: int = record["kismet.alert.hash"]
        self.header: str = record["kismet.alert.header"]
        self.timestamp_us = (
            round(record["kismet.alert.timestamp"] * 1_000_000)
            if timestamp_us is None
            else timestamp_us
        )

    @classmethod
    def from_draft(cls, draft: AlertDraft, timestamp_us: int, alert_id: int) -> Alert:
        timestamp = from_micros(timestamp_us)
        record = {
            "kismet.alert.device_key": DEVICE_KEY,
            "kismet.alert.header": draft.header,
            "kismet.alert.class": draft.klass,
            "kismet.alert.hash": alert_id,
            "kismet.alert.severity": draft.severity,
            "kismet.alert.phy_id": phy_u32(draft.phy),
            "kismet.alert.timestamp": json_number(timestamp),
            "kismet.alert.transmitter_mac": draft.transmitter,
            "kismet.alert.source_mac": draft.source,
            "kismet.alert.dest_mac": draft.dest,
            "kismet.alert.other_mac": draft.other,
            "kismet.alert.channel": draft.channel,
            "kismet.alert.frequency": json_number(draft.frequency),
            "kismet.alert.text": draft.text,
            "kismet.alert.location": draft.location.record(timestamp_us),
        }
        return cls(record, None, timestamp_us)

    @classmethod
    def from_json(cls, data: bytes, timestamp_us: int | None = None) -> Alert | None:
        """An alert as stored (the log's `json` column), or None for a row no server
        wrote and none can serve (an import once let such rows in). One written
        before its line breaks were escaped gets them escaped now."""
        try:
            return cls(orjson.loads(data), line_safe(bytes(data)), timestamp_us)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
