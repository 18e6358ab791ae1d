"""Sensor positions carried by alerts (a fixed `gps=virtual:` position for now)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kisalert.timestamps import json_number

# The location record of every alert raised without a position: one object shared by
# all of them (~250 bytes saved per backlog alert). Records are never changed in place.
NO_FIX: dict[str, Any] = {"kismet.common.location.geopoint": [0, 0]}


class LocationError(ValueError):
    """A `gps=` line kisalert cannot use."""


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float
    alt: float | None = None
    fix: int = 0  # 0: no position; 2: 2D; 3: 3D

    def record(self, timestamp_us: int) -> dict[str, Any]:
        if self.fix < 2:
            return NO_FIX
        return {
            "kismet.common.location.geopoint": [json_number(self.lon), json_number(self.lat)],
            "kismet.common.location.alt": float(self.alt or 0.0),
            "kismet.common.location.fix": self.fix,
            "kismet.common.location.time_sec": timestamp_us // 1_000_000,
            "kismet.common.location.time_usec": timestamp_us % 1_000_000,
        }

    @classmethod
    def parse_gps(cls, value: str) -> Location:
        """`virtual:lat=<deg>,lon=<deg>[,alt=<m>]` — a stationary sensor's position."""
        kind, _, options = value.partition(":")
        if kind.strip().lower() != "virtual":
            raise LocationError(f"only gps=virtual:lat=..,lon=.. is supported, not {kind!r}")
        parts: dict[str, float] = {}
        for item in options.split(","):
            key, eq, number = item.partition("=")
            key = key.strip().lower()
            if not eq or key not in ("lat", "lon", "alt", "name"):
                raise LocationError(f"bad gps option {item.strip()!r}")
            if key == "name":
                continue
            try:
                parts[key] = float(number)
            except ValueError:
                raise LocationError(f"bad number in gps option {item.strip()!r}") from None
        if "lat" not in parts or "lon" not in parts:
            raise LocationError("gps=virtual needs lat= and lon=")
        if not -90 <= parts["lat"] <= 90 or not -180 <= parts["lon"] <= 180:
            raise LocationError("gps position out of range")
        return cls(parts["lat"], parts["lon"], parts.get("alt"), 3)


NO_LOCATION = Location(0.0, 0.0)
