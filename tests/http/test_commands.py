"""How command dictionaries reach the server: form field, JSON body, query string."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.http.helpers import DEFINE, RAISE, define_fast, definition, mine, mine_regex
from tests.server import Server

NOT_AN_OBJECT = "Invalid request: command must be a JSON object"
MISSING_NAME = "Invalid request: missing 'name'"
TOO_LARGE = "Request body too large (limit 1 MiB)"
MIB = 1 << 20


def texts(server: Server, name: str) -> list[str]:
    return [a["kismet.alert.text"] for a in mine(server, name)]


def test_form_field_json(shared_server: Server, unique_name: str) -> None:
    body = {"name": unique_name, "description": "by form", "severity": 5}
    response = shared_server.post(DEFINE, data={"json": json.dumps(body)})
    assert response.status_code == 200, response.text
    record = definition(shared_server, unique_name)
    assert record is not None
    assert record["kismet.alert.definition.severity"] == 5
    # The curl way from Kismet's docs: a raw, unencoded body.
    raw = f'json={{"name":"{unique_name}","text":"by curl"}}'
    raised = shared_server.post(
        RAISE, data=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert raised.status_code == 200, raised.text
    assert texts(shared_server, unique_name) == ["by curl"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"],
)
def test_json_body(shared_server: Server, unique_name: str, content_type: str) -> None:
    body = {"name": unique_name, "description": "by json body", "class": "spoof"}
    response = shared_server.post(
        DEFINE, data=json.dumps(body).encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 200, response.text
    record = definition(shared_server, unique_name)
    assert record is not None
    assert record["kismet.alert.definition.class"] == "SPOOF"
    raised = shared_server.post(
        RAISE,
        data=json.dumps({"name": unique_name, "text": "ünïcode body"}).encode(),
        headers={"Content-Type": content_type},
    )
    assert raised.status_code == 200, raised.text
    assert texts(shared_server, unique_name) == ["ünïcode body"]


def test_get_with_json_query_parameter(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    for text in ("keep", "drop"):
        assert shared_server.raise_alert(unique_name, text).status_code == 200
    args = {
        "regex": mine_regex(unique_name),
        "fields": [["kismet.alert.text", "t"]],
    }
    response = shared_server.get("/alerts/all_alerts.json", params={"json": json.dumps(args)})
    assert response.status_code == 200, response.text
    assert response.json() == [{"t": "keep"}, {"t": "drop"}]


@pytest.mark.parametrize("text", ["a&b=c+d e", "x=1&y=2", "++==&&", "100% + 5 = ok&"])
def test_form_encoded_special_characters_survive(
    shared_server: Server, unique_name: str, text: str
) -> None:
    define_fast(shared_server, unique_name)
    response = shared_server.command(RAISE, {"name": unique_name, "text": text})
    assert response.status_code == 200, response.text
    assert texts(shared_server, unique_name) == [text]


def test_query_encoded_special_characters_survive(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    assert shared_server.raise_alert(unique_name, "a+b").status_code == 200
    assert shared_server.raise_alert(unique_name, "a b").status_code == 200
    args = {
        "regex": [["kismet.alert.text", "^a\\+b$"]],
        "fields": [["kismet.alert.text", "x&y=z+w"], ["kismet.alert.header", "h"]],
    }
    url = "/alerts/last-time/0/alerts.json?json=" + quote(json.dumps(args), safe="")
    response = shared_server.get(url)
    assert response.status_code == 200, response.text
    rows = [row for row in response.json() if row["h"] == unique_name]
    assert rows == [{"x&y=z+w": "a+b", "h": unique_name}]


@pytest.mark.parametrize(
    "send",
    [
        {"data": {"json": "{not json"}},
        {"data": {"json": "[1, 2]"}},
        {"data": {"json": '"a string"'}},
        {"data": {"json": "null"}},
        {"data": {"json": ""}},
        {"data": b"{oops", "headers": {"Content-Type": "application/json"}},
        {"data": b'["name", "text"]', "headers": {"Content-Type": "application/json"}},
        {"data": b"42", "headers": {"Content-Type": "application/json; charset=utf-8"}},
    ],
)
def test_body_that_is_not_a_json_object_is_400(shared_server: Server, send: dict[str, Any]) -> None:
    response = shared_server.post(RAISE, **send)
    assert response.status_code == 400
    assert response.text.rstrip("\n") == NOT_AN_OBJECT


@pytest.mark.parametrize("value", ["[1]", "{bad", "3"])
def test_query_json_that_is_not_an_object_is_400(shared_server: Server, value: str) -> None:
    response = shared_server.get("/alerts/all_alerts.json", params={"json": value})
    assert response.status_code == 400
    assert response.text.rstrip("\n") == NOT_AN_OBJECT


def test_invalid_json_leaves_nothing_behind(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    bad = '{"name": "' + unique_name + '", "text": "half'
    response = shared_server.post(RAISE, data={"json": bad})
    assert response.status_code == 400
    assert response.text == NOT_AN_OBJECT + "\n"
    assert texts(shared_server, unique_name) == []


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_body_over_one_mib_is_413(
    shared_server: Server, unique_name: str, content_type: str
) -> None:
    define_fast(shared_server, unique_name)
    padding = "x" * MIB
    if content_type == "application/json":
        body = json.dumps({"name": unique_name, "text": "big", "pad": padding}).encode()
    else:
        command = quote(json.dumps({"name": unique_name, "text": "big"}))
        body = f"json={command}&pad={padding}".encode()
    assert len(body) > MIB
    response = shared_server.post(RAISE, data=body, headers={"Content-Type": content_type})
    assert response.status_code == 413
    assert response.text == TOO_LARGE + "\n"
    assert texts(shared_server, unique_name) == []


def test_body_just_under_one_mib_is_read(shared_server: Server, unique_name: str) -> None:
    template = json.dumps({"name": unique_name, "description": "big body", "pad": ""}).encode()
    padding = "x" * (MIB - len(template))
    body = json.dumps({"name": unique_name, "description": "big body", "pad": padding}).encode()
    assert len(body) == MIB
    response = shared_server.post(DEFINE, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    record = definition(shared_server, unique_name)
    assert record is not None
    assert record["kismet.alert.definition.description"] == "big body"


def test_unknown_keys_are_ignored(shared_server: Server, unique_name: str) -> None:
    response = shared_server.define(
        unique_name, future_option={"nested": [1, 2]}, another=None, throttle="100/min"
    )
    assert response.status_code == 200, response.text
    raised = shared_server.raise_alert(unique_name, "with extras", frequency=2412000, extra="x")
    assert raised.status_code == 200, raised.text
    [alert] = mine(shared_server, unique_name)
    assert alert["kismet.alert.text"] == "with extras"
    assert "extra" not in alert


def test_keys_are_case_sensitive(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    response = shared_server.command(RAISE, {"NAME": unique_name, "Text": "wrong case"})
    assert response.status_code == 400
    assert response.text == MISSING_NAME + "\n"
    assert texts(shared_server, unique_name) == []


def test_no_dictionary_at_all_is_400_for_commands(shared_server: Server) -> None:
    response = shared_server.post(RAISE)
    assert response.status_code == 400
    assert response.text == MISSING_NAME + "\n"
    response = shared_server.post(DEFINE, data={"other": "field"})
    assert response.status_code == 400
    assert response.text == MISSING_NAME + "\n"
