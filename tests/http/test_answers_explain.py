"""Answers that explain themselves (issue 13, items 8-11): a disabled alert, the
definitions' state, an unknown severity, a JSON body read as a form, define's
confirmation and the pointer after an unknown alert name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kismet_rest
import pytest
import requests
from kismet_rest.exceptions import KismetRequestException

from tests.http.helpers import DEFINE, RAISE, definitions, mine
from tests.records import DEFINITION_KEYS
from tests.server import BASE_CONFIG, PASSWORD, USER, Server

STATE = "/alerts/definitions/state"
STATE_KEYS = [
    "kisalert.definition.header",
    "kisalert.definition.enabled",
    "kisalert.definition.throttle",
    "kisalert.definition.burst",
    "kisalert.definition.class",
    "kisalert.definition.severity",
    "kisalert.definition.severity_name",
    "kisalert.definition.origin",
]
TEXT = "text/plain; charset=utf-8"
THROTTLED = "Invalid request: alert throttle reached, alert not raised.\n"
LOOKS_LIKE_JSON = (
    "Invalid request: the body looks like JSON but was read as a form; send it with "
    "Content-Type: application/json, or as the form field json=...\n"
)
SEVERITIES = "severity is a number: 0 INFO, 5 LOW, 10 MEDIUM, 15 HIGH or 20 CRITICAL"
POINTER = "; the defined alerts are listed at /alerts/definitions.json"


def disabled(name: str, part: str = "rate") -> str:
    return (
        f"Invalid request: alert {name} is disabled (its {part} is 0); give it a rate with "
        f"a config line such as alert={name},10/min,1/sec and restart\n"
    )


def states(server: Server) -> list[dict[str, Any]]:
    response = server.get(STATE + ".json")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def state_of(server: Server, name: str) -> dict[str, Any]:
    [found] = [s for s in states(server) if s["kisalert.definition.header"] == name]
    return found


# 8. A disabled alert says so, and how to enable it


@pytest.mark.parametrize("name", ["NETSTUMBLER", "netstumbler", "KISMET"])
def test_raising_a_disabled_builtin_says_it_is_disabled(shared_server: Server, name: str) -> None:
    response = shared_server.raise_alert(name, "never sent")
    assert response.status_code == 429
    assert response.headers["content-type"] == TEXT
    assert response.text == disabled(name.upper())
    assert mine(shared_server, name.upper()) == []


def test_an_alert_defined_with_burst_zero_says_its_burst_is_0(
    shared_server: Server, unique_name: str
) -> None:
    assert shared_server.define(unique_name, throttle="5/min", burst="0/sec").status_code == 200
    response = shared_server.raise_alert(unique_name)
    assert response.status_code == 429
    assert response.text == disabled(unique_name, "burst")


def test_a_throttled_alert_keeps_the_spec_text(shared_server: Server, unique_name: str) -> None:
    assert shared_server.define(unique_name, throttle="1/min", burst="1/min").status_code == 200
    assert shared_server.raise_alert(unique_name).status_code == 200
    response = shared_server.raise_alert(unique_name)
    assert response.status_code == 429
    assert response.text == THROTTLED


def test_a_config_rate_enables_a_disabled_builtin(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "alert=NETSTUMBLER,10/min,1/sec\n") as server:
        assert server.raise_alert("NETSTUMBLER", "now enabled").status_code == 200
        state = state_of(server, "NETSTUMBLER")
        assert state["kisalert.definition.enabled"] is True
        assert state["kisalert.definition.throttle"] == "10/min"


# 8. /alerts/definitions/state.{fmt}


def test_state_lists_every_definition_in_registration_order(
    shared_server: Server, unique_name: str
) -> None:
    assert shared_server.define(unique_name, severity=20, **{"class": "spoof"}).status_code == 200
    found = states(shared_server)
    assert [s["kisalert.definition.header"] for s in found] == [
        d["kismet.alert.definition.header"] for d in definitions(shared_server)
    ]
    assert all(list(s) == STATE_KEYS for s in found)
    by_name = {s["kisalert.definition.header"]: s for s in found}
    assert by_name["NETSTUMBLER"] == {
        "kisalert.definition.header": "NETSTUMBLER",
        "kisalert.definition.enabled": False,
        "kisalert.definition.throttle": "0/min",
        "kisalert.definition.burst": "0/sec",
        "kisalert.definition.class": "PROBE",
        "kisalert.definition.severity": 5,
        "kisalert.definition.severity_name": "LOW",
        "kisalert.definition.origin": "builtin",
    }
    assert by_name["DEAUTHFLOOD"]["kisalert.definition.enabled"] is True
    assert by_name["DEAUTHFLOOD"]["kisalert.definition.throttle"] == "5/min"
    assert by_name["DEAUTHFLOOD"]["kisalert.definition.burst"] == "2/sec"
    assert by_name[unique_name] == {
        "kisalert.definition.header": unique_name,
        "kisalert.definition.enabled": True,
        "kisalert.definition.throttle": "10/min",
        "kisalert.definition.burst": "1/sec",
        "kisalert.definition.class": "SPOOF",
        "kisalert.definition.severity": 20,
        "kisalert.definition.severity_name": "CRITICAL",
        "kisalert.definition.origin": "api",
    }


def test_state_in_every_format(shared_server: Server) -> None:
    expected = states(shared_server)
    itjson = shared_server.get(STATE + ".itjson")
    assert itjson.headers["content-type"].startswith("application/json")
    assert [json.loads(line) for line in itjson.text.splitlines()] == expected
    ekjson = shared_server.get(STATE + ".ekjson").text.splitlines()
    assert [json.loads(line) for line in ekjson] == [
        {key.replace(".", "_"): value for key, value in record.items()} for record in expected
    ]
    pretty = shared_server.get(STATE + ".prettyjson").json()
    for record in pretty:
        keys = list(record)
        for key in STATE_KEYS:
            assert keys[keys.index(key) - 1] == f"description.{key}"
            assert record[f"description.{key}"]
    assert shared_server.get(STATE + ".xml").status_code == 404


def test_state_takes_fields_and_regex(shared_server: Server) -> None:
    response = shared_server.command(
        STATE + ".json",
        {
            "fields": ["kisalert.definition.header", ["kisalert.definition.enabled", "on"]],
            "regex": [["kisalert.definition.header", "^(NETSTUMBLER|DEAUTHFLOOD)$"]],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"kisalert.definition.header": "NETSTUMBLER", "on": False},
        {"kisalert.definition.header": "DEAUTHFLOOD", "on": True},
    ]
    bad = shared_server.command(STATE + ".json", {"regex": [["x", "("]]})
    assert bad.status_code == 400


def test_state_needs_a_readonly_login(shared_server: Server) -> None:
    assert requests.get(shared_server.url + STATE + ".json", timeout=10).status_code == 401
    keys: dict[str, str] = {}
    for role in ("readonly", "sensor"):
        made = shared_server.command(
            "/auth/apikey/generate.cmd",
            {"name": f"state-{role}-{id(keys)}", "role": role, "duration": 0},
        )
        assert made.status_code == 200, made.text
        keys[role] = made.text.strip()
    for role, status in (("readonly", 200), ("sensor", 403)):
        answer = requests.get(
            shared_server.url + STATE + ".json",
            headers={"Authorization": f"Bearer {keys[role]}"},
            timeout=10,
        )
        assert answer.status_code == status, role


@pytest.mark.parametrize("fmt", ["json", "itjson", "ekjson", "prettyjson"])
def test_definition_records_keep_kismets_shape(
    shared_server: Server, unique_name: str, fmt: str
) -> None:
    """The state lives on its own route: Kismet's definition record has exactly
    model.md's keys (tests.records), in its order, and nothing of kisalert's, for a
    built-in, a disabled one and one defined over the API alike."""
    assert shared_server.define(unique_name, throttle="0/min", burst="0/sec").status_code == 200
    response = shared_server.get(f"/alerts/definitions.{fmt}")
    assert response.status_code == 200
    if fmt in ("itjson", "ekjson"):
        records = [json.loads(line) for line in response.text.splitlines()]
    else:
        records = response.json()
    keys = DEFINITION_KEYS
    if fmt == "ekjson":
        keys = [key.replace(".", "_") for key in keys]
    if fmt == "prettyjson":
        records = [
            {k: v for k, v in r.items() if not k.startswith("description.")} for r in records
        ]
    headers = [record[keys[0]] for record in records]
    assert "NETSTUMBLER" in headers and unique_name in headers
    assert all(list(record) == keys for record in records)


# 9. An unknown severity lists the valid ones


@pytest.mark.parametrize(
    ("severity", "shown"),
    [(7, "7"), (-5, "-5"), ("HIGH", '"HIGH"'), (10.5, "10.5"), (True, "true")],
)
def test_unknown_severity_lists_the_valid_ones(
    shared_server: Server, unique_name: str, severity: Any, shown: str
) -> None:
    response = shared_server.define(unique_name, severity=severity)
    assert response.status_code == 400
    assert response.text == f"Invalid request: unknown severity {shown} ({SEVERITIES})\n"


def test_a_long_unknown_severity_is_cut_short(shared_server: Server, unique_name: str) -> None:
    response = shared_server.define(unique_name, severity="x" * 10_000)
    assert response.status_code == 400
    assert response.text.endswith(f"({SEVERITIES})\n")
    assert len(response.text) < 200


# 10. A JSON body sent as a form


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "text/plain"},
    ],
    ids=["no-type", "form", "text"],
)
@pytest.mark.parametrize("route", [RAISE, DEFINE])
def test_a_json_body_read_as_a_form_says_so(
    shared_server: Server, unique_name: str, headers: dict[str, str], route: str
) -> None:
    body = {"name": unique_name, "text": "a=b&c", "description": "d"}
    response = shared_server.post(route, data=" \n" + json.dumps(body), headers=headers)
    assert response.status_code == 400
    assert response.text == LOOKS_LIKE_JSON
    assert mine(shared_server, unique_name) == []


def test_a_form_without_the_name_still_says_missing(shared_server: Server) -> None:
    response = shared_server.post(RAISE, data={"text": "no name"})
    assert response.status_code == 400
    assert response.text == "Invalid request: missing 'name'\n"
    # With the dictionary in json=, the key is really missing.
    response = shared_server.command(RAISE, {"text": "no name"})
    assert response.text == "Invalid request: missing 'name'\n"


# 11. Define confirms; an unknown name points to the definitions


def test_define_answers_a_confirmation(shared_server: Server, unique_name: str) -> None:
    args = {"name": unique_name.lower(), "description": "confirmed", "severity": 15}
    response = shared_server.command(DEFINE, args)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == f"Alert {unique_name} defined\n"
    again = shared_server.command(DEFINE, {**args, "name": unique_name})
    assert again.status_code == 200
    assert again.headers["content-type"] == "application/json"
    assert again.text == f"Alert {unique_name} already defined with these settings\n"


def test_unknown_alert_points_to_the_definitions(shared_server: Server) -> None:
    response = shared_server.raise_alert("NO_SUCH_ALERT_Q", "never")
    assert response.status_code == 400
    assert response.headers["content-type"] == TEXT
    assert response.text == f"Invalid request:  Unknown alert type 'NO_SUCH_ALERT_Q'{POINTER}\n"


def test_unknown_alert_pointer_carries_the_uri_prefix(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "httpd_uri_prefix=/kis/\n") as server:
        response = server.command("/kis/alerts/raise_alerts.cmd", {"name": "nope", "text": "t"})
        assert response.status_code == 400
        assert response.text == (
            "Invalid request:  Unknown alert type 'nope'; "
            "the defined alerts are listed at /kis/alerts/definitions.json\n"
        )


def test_kismet_rest_reads_the_new_answers(
    shared_server: Server, tmp_path: Path, unique_name: str
) -> None:
    alerts = kismet_rest.Alerts(
        host_uri=shared_server.url,
        sessioncache_path=str(tmp_path / "session"),
        username=USER,
        password=PASSWORD,
    )
    assert alerts.define(unique_name, "from a script") is True
    assert alerts.define(unique_name, "from a script") is True
    assert alerts.raise_alert(unique_name, "seen") is True
    with pytest.raises(KismetRequestException) as info:
        alerts.raise_alert("NO_SUCH_ALERT_R", "never")
    assert "Unknown alert type 'NO_SUCH_ALERT_R'; the defined alerts" in str(info.value)
    with pytest.raises(KismetRequestException) as info:
        alerts.raise_alert("NETSTUMBLER", "never")
    assert "429" in str(info.value)
