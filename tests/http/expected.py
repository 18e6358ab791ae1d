"""Alert records written out as the server must answer them, so that a test compares
an answer with what was raised instead of with another of the server's own answers."""

from __future__ import annotations

from typing import Any

from tests.records import ZERO_MAC

ANY_PHY = 4294967295  # a definition for every phy, as Kismet writes it


def alert_record(
    answer: dict[str, Any],
    header: str,
    klass: str,
    severity: int,
    text: str,
    *,
    transmitter: str = ZERO_MAC,
    channel: str = "",
    phy_id: int = ANY_PHY,
) -> dict[str, Any]:
    """The record of an alert raised with these values, every key in Kismet's order.

    Only the hash and the timestamp cannot be known before the raise: they are taken
    from `answer`, the server's record of that alert, once checked to be numbers.
    """
    alert_hash = answer["kismet.alert.hash"]
    timestamp = answer["kismet.alert.timestamp"]
    assert isinstance(alert_hash, int) and 0 <= alert_hash <= 0xFFFFFFFF, alert_hash
    assert isinstance(timestamp, float | int) and timestamp > 1_700_000_000, timestamp
    return {
        "kismet.alert.device_key": "00_0",
        "kismet.alert.header": header,
        "kismet.alert.class": klass,
        "kismet.alert.hash": alert_hash,
        "kismet.alert.severity": severity,
        "kismet.alert.phy_id": phy_id,
        "kismet.alert.timestamp": timestamp,
        "kismet.alert.transmitter_mac": transmitter,
        "kismet.alert.source_mac": ZERO_MAC,
        "kismet.alert.dest_mac": ZERO_MAC,
        "kismet.alert.other_mac": ZERO_MAC,
        "kismet.alert.channel": channel,
        "kismet.alert.frequency": 0,
        "kismet.alert.text": text,
        "kismet.alert.location": {"kismet.common.location.geopoint": [0, 0]},
    }


def assert_records(answer: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """`answer` is `expected`, key order included, and its alerts are in time order."""
    assert answer == expected
    assert [list(record) for record in answer] == [list(record) for record in expected]
    stamps = [record["kismet.alert.timestamp"] for record in answer]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), stamps
