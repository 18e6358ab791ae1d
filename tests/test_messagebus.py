"""The messagebus: message records, formats, last-time, the 50 kept, what gets posted."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.server import BASE_CONFIG, Server
from tests.slack import slack

DEBUG, INFO, ERROR, ALERT, FATAL = 1, 2, 4, 8, 16
MESSAGE_KEYS = [
    "kismet.messagebus.message_string",
    "kismet.messagebus.message_flags",
    "kismet.messagebus.message_time",
]


def messages(srv: Server) -> list[dict[str, Any]]:
    response = srv.get("/messagebus/all_messages.json")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def texts(records: list[dict[str, Any]]) -> list[str]:
    return [m["kismet.messagebus.message_string"] for m in records]


def test_startup_messages_are_well_formed(tmp_path: Path) -> None:
    started = time.time()
    with Server(tmp_path) as srv:
        records = messages(srv)
        now = time.time()
    assert records, "a fresh server has posted no start-up message"
    for record in records:
        assert list(record) == MESSAGE_KEYS
        assert isinstance(record["kismet.messagebus.message_string"], str)
        flags = record["kismet.messagebus.message_flags"]
        assert isinstance(flags, int)
        assert 0 < flags < 32
        when = record["kismet.messagebus.message_time"]
        assert isinstance(when, int | float)
        assert started - 2 <= when <= now + 2
    assert any(r["kismet.messagebus.message_flags"] & INFO for r in records)
    times = [r["kismet.messagebus.message_time"] for r in records]
    assert times == sorted(times), "messages must be oldest first"


def test_message_formats(server: Server, unique_name: str) -> None:
    assert server.define(unique_name).status_code == 200
    assert server.raise_alert(unique_name, "in every format").status_code == 200
    records = messages(server)
    when = records[-1]["kismet.messagebus.message_time"]
    assert isinstance(when, int)
    text = f"{unique_name} in every format"

    it = server.get("/messagebus/all_messages.itjson")
    assert it.status_code == 200
    assert it.headers["content-type"].startswith("application/json")
    assert it.text.endswith("\n")
    lines = it.text.split("\n")[:-1]
    assert [json.loads(line) for line in lines] == records
    assert lines[-1] == (
        f'{{"kismet.messagebus.message_string":"{text}",'
        f'"kismet.messagebus.message_flags":8,"kismet.messagebus.message_time":{when}}}'
    )

    ek = server.get("/messagebus/all_messages.ekjson")
    ek_lines = ek.text.split("\n")[:-1]
    assert [list(json.loads(line)) for line in ek_lines] == [
        [k.replace(".", "_") for k in MESSAGE_KEYS]
    ] * len(records)
    assert json.loads(ek_lines[-1]) == {
        "kismet_messagebus_message_string": text,
        "kismet_messagebus_message_flags": 8,
        "kismet_messagebus_message_time": when,
    }

    pretty = server.get("/messagebus/all_messages.prettyjson").json()
    assert len(pretty) == len(records)
    for record in pretty:
        for key in MESSAGE_KEYS:
            assert f"description.{key}" in record
            assert list(record).index(f"description.{key}") < list(record).index(key)
    assert [pretty[-1][key] for key in MESSAGE_KEYS] == [text, 8, when]

    by_post = server.post("/messagebus/all_messages.json")
    assert by_post.status_code == 200
    assert by_post.json() == records
    assert by_post.json()[-1] == {
        "kismet.messagebus.message_string": text,
        "kismet.messagebus.message_flags": 8,
        "kismet.messagebus.message_time": when,
    }


def test_defining_an_alert_posts_info(server: Server, unique_name: str) -> None:
    before = len(messages(server))
    assert server.define(unique_name.lower()).status_code == 200
    new = messages(server)[before:]
    assert any(
        m["kismet.messagebus.message_flags"] == INFO
        and unique_name in m["kismet.messagebus.message_string"].upper()
        for m in new
    ), new


def test_raising_an_alert_posts_alert_message(server: Server, unique_name: str) -> None:
    assert server.define(unique_name).status_code == 200
    raised = server.raise_alert(unique_name.lower(), "intruder at the gate")
    assert raised.status_code == 200, raised.text
    last = messages(server)[-1]
    assert last["kismet.messagebus.message_string"] == f"{unique_name} intruder at the gate"
    assert last["kismet.messagebus.message_flags"] & ALERT
    assert abs(last["kismet.messagebus.message_time"] - time.time()) < 5


def test_throttled_raise_posts_no_message(server: Server, unique_name: str) -> None:
    assert server.define(unique_name, throttle="1/min", burst="1/min").status_code == 200
    assert server.raise_alert(unique_name, "first").status_code == 200
    count = len(messages(server))
    assert server.raise_alert(unique_name, "second").status_code == 429
    assert len(messages(server)) == count
    assert texts(messages(server))[-1] == f"{unique_name} first"


def test_keeps_the_last_50(server: Server, unique_name: str) -> None:
    defined = server.define(unique_name, throttle="1000000/sec", burst="1000000/sec")
    assert defined.status_code == 200, defined.text
    for i in range(60):
        assert server.raise_alert(unique_name, f"number {i}").status_code == 200
    records = messages(server)
    assert len(records) == 50
    assert texts(records) == [f"{unique_name} number {i}" for i in range(10, 60)]
    wrapped = server.get("/messagebus/last-time/0/messages.json").json()
    assert wrapped["kismet.messagebus.list"] == records


def test_last_time_wrapper(server: Server) -> None:
    records = messages(server)
    response = server.get("/messagebus/last-time/0/messages.json")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["kismet.messagebus.list", "kismet.messagebus.timestamp"]
    assert body["kismet.messagebus.list"] == records
    assert abs(body["kismet.messagebus.timestamp"] - time.time()) < 3

    first = records[0]["kismet.messagebus.message_time"]
    for ts in [first - 0.5, first, first + 0.5, time.time() + 100]:
        listed = server.get(f"/messagebus/last-time/{ts}/messages.json").json()
        expected = [r for r in records if r["kismet.messagebus.message_time"] > ts]
        assert listed["kismet.messagebus.list"] == expected, ts
    future = server.get(f"/messagebus/last-time/{int(time.time()) + 100}/messages.json")
    assert future.json()["kismet.messagebus.list"] == []


def test_last_time_relative(server: Server, unique_name: str) -> None:
    """A negative last-time counts back from now: a window shorter than the older
    messages' age leaves them out and keeps the one posted within it."""
    # Message times are whole seconds, so a message just posted may read up to 1 s old.
    window = slack(2.0)
    assert server.define(unique_name).status_code == 200
    older = messages(server)
    # The window must be shorter than every older message's age: let them age past it.
    time.sleep(max(0.0, older[-1]["kismet.messagebus.message_time"] + window + 0.1 - time.time()))
    assert server.raise_alert(unique_name, "within the window").status_code == 200
    recent = server.get(f"/messagebus/last-time/-{window}/messages.json").json()
    assert [m["kismet.messagebus.message_string"] for m in recent["kismet.messagebus.list"]] == [
        f"{unique_name} within the window"
    ]
    assert messages(server)[: len(older)] == older


def test_last_time_ekjson(server: Server) -> None:
    response = server.get("/messagebus/last-time/0/messages.ekjson")
    assert response.status_code == 200
    assert response.text.endswith("\n") and response.text.count("\n") == 1
    body = json.loads(response.text)
    assert list(body) == ["kismet_messagebus_list", "kismet_messagebus_timestamp"]
    for record in body["kismet_messagebus_list"]:
        assert list(record) == [k.replace(".", "_") for k in MESSAGE_KEYS]


@pytest.mark.parametrize("ts", ["abc", "nan", "inf"])
def test_last_time_bad_timestamp(server: Server, ts: str) -> None:
    response = server.get(f"/messagebus/last-time/{ts}/messages.json")
    assert response.status_code == 400
    assert response.json() == {}


def test_unknown_config_keys_warn_once_each(tmp_path: Path) -> None:
    config = BASE_CONFIG + "frobnicate=1\nalertbacklog=20\nfrobnicate=2\nwibble_level=high\n"
    with Server(tmp_path, config) as srv:
        # Known keys still work (the backlog keeps 20, not 50), unknown ones are only reported.
        name = "BACKLOG_OF_20"
        defined = srv.define(name, throttle="1000/sec", burst="1000/sec")
        assert defined.status_code == 200, defined.text
        for i in range(25):
            assert srv.raise_alert(name, f"number {i}").status_code == 200
        assert [a["kismet.alert.text"] for a in srv.alerts()] == [
            f"number {i}" for i in range(5, 25)
        ]
        records = messages(srv)
        stderr = srv.stderr()
    for key in ["frobnicate", "wibble_level"]:
        warnings = [line for line in stderr.splitlines() if key in line]
        assert len(warnings) == 1, stderr
        assert "warning" in warnings[0].lower()
        errors = [r for r in records if key in r["kismet.messagebus.message_string"]]
        assert len(errors) == 1, records
        assert errors[0]["kismet.messagebus.message_flags"] == ERROR
    for known in ["httpd_username", "httpd_password", "alertbacklog"]:
        assert known not in stderr
        assert not any(known in text for text in texts(records))
    assert "Traceback" not in stderr


def test_known_config_gives_no_error_message(server: Server) -> None:
    records = messages(server)
    assert not [r for r in records if r["kismet.messagebus.message_flags"] & (ERROR | FATAL)]
    assert "warning" not in server.stderr().lower()
