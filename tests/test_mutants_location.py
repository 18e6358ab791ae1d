"""`gps=virtual:` lines: what is accepted (to the edges of the globe, with a `name=`)
and the one-line reason a config check gives for what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from kisalert.alert import Alert, AlertDraft
from kisalert.config import ConfigError, load


def location_of(tmp_path: Path, value: str) -> tuple[float, float, float | None]:
    path = tmp_path / "kismet.conf"
    path.write_text(f"gps={value}\n")
    location = load([path]).location
    return location.lat, location.lon, location.alt


def reason_for(tmp_path: Path, value: str) -> str:
    path = tmp_path / "kismet.conf"
    path.write_text(f"gps={value}\n")
    with pytest.raises(ConfigError) as info:
        load([path])
    prefix = f"{path}:1: "
    message = str(info.value)
    assert message.startswith(prefix)
    return message.removeprefix(prefix)


@pytest.mark.parametrize(
    ("value", "position"),
    [
        ("virtual:lat=90,lon=180", (90.0, 180.0, None)),
        ("virtual:lat=-90,lon=-180,alt=-10", (-90.0, -180.0, -10.0)),
        # Kismet's virtual GPS takes a name; kisalert has no use for it but accepts it,
        # wherever it stands and whatever it holds.
        ("virtual:name=roof,lat=1.5,lon=2.5", (1.5, 2.5, None)),
        ("virtual:lat=1.5,lon=2.5,name=a:b=c", (1.5, 2.5, None)),
        ("Virtual: LAT=1.5, Lon=2.5", (1.5, 2.5, None)),
    ],
)
def test_a_virtual_position_is_accepted(
    tmp_path: Path, value: str, position: tuple[float, float, float | None]
) -> None:
    assert location_of(tmp_path, value) == position


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("serial:device=/dev/ttyACM0", "only gps=virtual:lat=..,lon=.. is supported, not 'serial'"),
        ("virtual:lat=1,lon=2,alt", "bad gps option 'alt'"),
        ("virtual:lat=1,lon=2,speed=3", "bad gps option 'speed=3'"),
        ("virtual:lat==1,lon=2", "bad number in gps option 'lat==1'"),
        ("virtual:lat=north,lon=2", "bad number in gps option 'lat=north'"),
        ("virtual:lat=52.5", "gps=virtual needs lat= and lon="),
        ("virtual:lat=90.5,lon=0", "gps position out of range"),
        ("virtual:lat=-90.5,lon=0", "gps position out of range"),
        ("virtual:lat=0,lon=180.5", "gps position out of range"),
        ("virtual:lat=0,lon=-180.5", "gps position out of range"),
    ],
)
def test_a_bad_gps_line_says_why(tmp_path: Path, value: str, reason: str) -> None:
    assert reason_for(tmp_path, value) == reason


def test_a_position_given_without_altitude_is_at_altitude_zero(tmp_path: Path) -> None:
    path = tmp_path / "kismet.conf"
    path.write_text("gps=virtual:lat=1.5,lon=2.5\n")
    location = load([path]).location
    draft = AlertDraft("FOUND", "SYSTEM", 0, 0, "t", location=location)
    record = Alert.from_draft(draft, 1_700_000_000_250_000, 7).record["kismet.alert.location"]
    assert record == {
        "kismet.common.location.geopoint": [2.5, 1.5],
        "kismet.common.location.alt": 0.0,
        "kismet.common.location.fix": 3,
        "kismet.common.location.time_sec": 1_700_000_000,
        "kismet.common.location.time_usec": 250_000,
    }
