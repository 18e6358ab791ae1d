"""The output bound of `fields` (issue 9): no route multiplies a record by selecting one
field many times or inside another, and the specs real clients send still work."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.http.helpers import define_fast, mine, raise_ok
from tests.server import Server
from tests.test_fields import UI_ALERT_FIELDS

TEXT = "kismet.alert.text"
# 256 renames of the same text: 63 KB of request used to answer each alert 256 times.
RENAMES = [[TEXT, f"copy{i}"] for i in range(256)]
SAME_FIELD = "Invalid request: invalid field specification: entry 2 selects the field of entry 1\n"
OVERLAP = [
    "kismet.alert.location/kismet.common.location.geopoint",
    "kismet.alert.location",
]
INSIDE = "Invalid request: invalid field specification: entry 1 lies inside entry 2\n"


@pytest.fixture(scope="module")
def big_alert(shared_server: Server) -> dict[str, Any]:
    """An alert with a 16 KiB text, the value a multiplying spec would repeat."""
    name = "OUTBOUND"
    define_fast(shared_server, name)
    raise_ok(shared_server, name, "x" * 16384)
    return mine(shared_server, name)[-1]


def routes(alert: dict[str, Any]) -> list[str]:
    """Every read route that takes `fields`, alerts, definitions and messages."""
    return [
        "/alerts/all_alerts.json",
        "/alerts/last-time/0/alerts.json",
        "/alerts/wrapped/last-time/0/alerts.json",
        f"/alerts/by-id/{alert['kismet.alert.hash']}/alert.json",
        "/alerts/alerts_view.json",
        "/alerts/definitions.json",
        "/messagebus/all_messages.json",
        "/messagebus/last-time/0/messages.json",
    ]


@pytest.mark.parametrize("route", range(8))
@pytest.mark.parametrize(
    ("fields", "answer"), [(RENAMES, SAME_FIELD), (OVERLAP, INSIDE)], ids=["renames", "inside"]
)
def test_a_multiplying_spec_answers_400_on_every_route(
    shared_server: Server, big_alert: dict[str, Any], route: int, fields: Any, answer: str
) -> None:
    response = shared_server.command(routes(big_alert)[route], {"fields": fields})
    assert response.status_code == 400
    assert response.text == answer


def test_a_spec_that_passes_answers_near_the_record_size(
    shared_server: Server, big_alert: dict[str, Any]
) -> None:
    # The most a spec may add: 256 missing fields whose names fill the 4 096 characters.
    fields = [TEXT] + [[f"no.such.{i}", f"n{i:012}"] for i in range(255)]
    path = f"/alerts/by-id/{big_alert['kismet.alert.hash']}/alert.json"
    full = shared_server.get(path)
    simplified = shared_server.command(path, {"fields": fields})
    assert simplified.status_code == 200, simplified.text
    assert simplified.json()[TEXT] == "x" * 16384
    assert len(simplified.content) <= len(full.content) + 5 * 1024


def test_the_web_ui_spec_still_works(shared_server: Server, big_alert: dict[str, Any]) -> None:
    response = shared_server.post(
        "/alerts/alerts_view.json",
        data={"json": json.dumps({"fields": UI_ALERT_FIELDS}), "page": 0, "length": 5},
    )
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert rows and all(list(row) == UI_ALERT_FIELDS for row in rows)


def test_renames_of_distinct_fields_still_work(
    shared_server: Server, big_alert: dict[str, Any]
) -> None:
    fields = [["kismet.alert.header", "name"], [TEXT, "text"], ["kismet.alert.hash", "id"]]
    response = shared_server.command("/alerts/all_alerts.json", {"fields": fields})
    assert response.status_code == 200, response.text
    assert {"name": "OUTBOUND", "text": "x" * 16384, "id": big_alert["kismet.alert.hash"]} in (
        response.json()
    )
