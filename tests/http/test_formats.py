"""Output formats, route matching, response headers, path clean-up and the URI prefix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.http.expected import alert_record, assert_records
from tests.http.helpers import define_fast, mine_filter, raise_ok
from tests.server import BASE_CONFIG, PASSWORD, USER, Server

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
LOGIN_REQUIRED = (
    "Login required: send HTTP Basic auth, an API key (Authorization: Bearer) "
    "or the KISMET session cookie"
)


def lines_of(body: str) -> list[str]:
    """The lines of an itjson/ekjson body, checking each ends in a newline."""
    assert body.endswith("\n")
    lines = body[:-1].split("\n")
    assert all(line.strip() for line in lines), "blank line in body"
    return lines


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture
def two_alerts(shared_server: Server, unique_name: str) -> str:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "first.one", bssid="aa:bb:cc:dd:ee:01")
    raise_ok(shared_server, unique_name, "second.one", channel="6")
    return unique_name


def two_records(name: str, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of `two_alerts` as raised; `answer` lends their hashes and times."""
    assert len(answer) == 2, answer
    return [
        alert_record(answer[0], name, "OTHER", 10, "first.one", transmitter="AA:BB:CC:DD:EE:01"),
        alert_record(answer[1], name, "OTHER", 10, "second.one", channel="6"),
    ]


# json


def test_json_array_and_object(shared_server: Server, two_alerts: str) -> None:
    response = shared_server.command("/alerts/all_alerts.json", mine_filter(two_alerts))
    assert response.status_code == 200
    records = response.json()
    assert isinstance(records, list)
    expected = two_records(two_alerts, records)
    assert_records(records, expected)
    one = shared_server.get(f"/alerts/by-id/{records[0]['kismet.alert.hash']}/alert.json")
    assert one.status_code == 200, one.text
    assert one.json() == expected[0]
    assert list(one.json()) == list(expected[0])


# itjson


def test_itjson_one_compact_object_per_line(shared_server: Server, two_alerts: str) -> None:
    response = shared_server.command("/alerts/all_alerts.itjson", mine_filter(two_alerts))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON_TYPE)
    lines = lines_of(response.text)
    records = [json.loads(line) for line in lines]
    expected = two_records(two_alerts, records)
    assert_records(records, expected)
    assert lines == [compact(record) for record in expected]


def test_itjson_empty_array_is_empty_body(shared_server: Server) -> None:
    response = shared_server.command(
        "/alerts/all_alerts.itjson", {"regex": [["kismet.alert.header", "^NO-SUCH-ALERT-X$"]]}
    )
    assert response.status_code == 200
    assert response.content == b""
    later = shared_server.get("/alerts/last-time/4000000000/alerts.itjson")
    assert later.status_code == 200
    assert later.content == b""


def test_itjson_object_is_one_line(shared_server: Server, two_alerts: str) -> None:
    answer = shared_server.command("/alerts/all_alerts.json", mine_filter(two_alerts)).json()
    [first, _] = two_records(two_alerts, answer)
    response = shared_server.get(f"/alerts/by-id/{first['kismet.alert.hash']}/alert.itjson")
    assert response.status_code == 200
    assert lines_of(response.text) == [compact(first)]


def test_itjson_last_time_as_kismet_rest_reads_it(shared_server: Server, two_alerts: str) -> None:
    # kismet-rest: GET /alerts/last-time/{sec}.{usec}/alerts.itjson, line by line.
    response = shared_server.get("/alerts/last-time/0.000000/alerts.itjson")
    records = [json.loads(line) for line in lines_of(response.text)]
    assert [r["kismet.alert.text"] for r in records if r["kismet.alert.header"] == two_alerts] == [
        "first.one",
        "second.one",
    ]


# ekjson


def test_ekjson_replaces_dots_in_keys(shared_server: Server, two_alerts: str) -> None:
    response = shared_server.command("/alerts/all_alerts.ekjson", mine_filter(two_alerts))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON_TYPE)
    records = [json.loads(line) for line in lines_of(response.text)]
    assert len(records) == 2
    first = records[0]
    assert list(first)[:3] == [
        "kismet_alert_device_key",
        "kismet_alert_header",
        "kismet_alert_class",
    ]
    assert all("." not in key for record in records for key in record)
    # Values keep their dots; nested keys are renamed too.
    assert first["kismet_alert_text"] == "first.one"
    assert first["kismet_alert_transmitter_mac"] == "AA:BB:CC:DD:EE:01"
    assert first["kismet_alert_location"] == {"kismet_common_location_geopoint": [0, 0]}


def test_ekjson_renames_wrapper_and_renamed_field_keys(
    shared_server: Server, two_alerts: str
) -> None:
    args = {
        **mine_filter(two_alerts),
        "fields": [["kismet.alert.text", "my.text"], "kismet.alert.hash"],
    }
    response = shared_server.command("/alerts/wrapped/last-time/0/alerts.ekjson", args)
    assert response.status_code == 200
    [line] = lines_of(response.text)
    body = json.loads(line)
    assert list(body) == ["kismet_alert_list", "kismet_alert_timestamp"]
    assert [list(r) for r in body["kismet_alert_list"]] == [["my_text", "kismet_alert_hash"]] * 2
    assert [r["my_text"] for r in body["kismet_alert_list"]] == ["first.one", "second.one"]


def test_ekjson_keeps_keys_without_dots(shared_server: Server, two_alerts: str) -> None:
    response = shared_server.command(
        "/alerts/alerts_view.ekjson",
        {**mine_filter(two_alerts), "datatable": True, "fields": ["kismet.alert.text"]},
        params={"draw": "3", "start": "0", "length": "10"},
    )
    assert response.status_code == 200
    [line] = lines_of(response.text)
    body = json.loads(line)
    assert set(body) == {"draw", "data", "recordsTotal", "recordsFiltered"}
    assert body["draw"] == 3
    assert body["data"] == [{"kismet_alert_text": "first.one"}, {"kismet_alert_text": "second.one"}]


# prettyjson


def check_described(record: dict[str, Any]) -> None:
    """Each key k is immediately preceded by a string "description.k"."""
    keys = list(record)
    plain = [k for k in keys if not k.startswith("description.")]
    assert plain
    for key in plain:
        index = keys.index(key)
        assert index > 0 and keys[index - 1] == f"description.{key}", key
        assert isinstance(record[f"description.{key}"], str)
        assert record[f"description.{key}"]


def test_prettyjson_describes_each_key(shared_server: Server, two_alerts: str) -> None:
    response = shared_server.command("/alerts/all_alerts.prettyjson", mine_filter(two_alerts))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON_TYPE)
    assert "\n " in response.text  # indented
    records = response.json()
    assert len(records) == 2
    plain = [k for k in records[0] if not k.startswith("description.")]
    assert plain[0] == "kismet.alert.device_key"
    assert len(plain) == 15
    for record in records:
        check_described(record)
        check_described(record["kismet.alert.location"])
        assert record["kismet.alert.text"] in ("first.one", "second.one")
        assert record["kismet.alert.location"]["kismet.common.location.geopoint"] == [0, 0]


def test_prettyjson_definitions_and_wrapper(shared_server: Server, two_alerts: str) -> None:
    definitions = shared_server.get("/alerts/definitions.prettyjson").json()
    for record in definitions:
        check_described(record)
    body = shared_server.command(
        "/alerts/wrapped/last-time/0/alerts.prettyjson", mine_filter(two_alerts)
    )
    wrapper = body.json()
    check_described(wrapper)
    assert [r["kismet.alert.text"] for r in wrapper["kismet.alert.list"]] == [
        "first.one",
        "second.one",
    ]


# routing


FORMATS = "{fmt} = json, itjson, ekjson or prettyjson"


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/alerts/all_alerts.xml", "/alerts/all_alerts"),
        ("/alerts/definitions.html", "/alerts/definitions"),
        ("/alerts/last-time/0/alerts.txt", "/alerts/last-time/{ts}/alerts"),
        ("/alerts/alerts_view.JSON", "/alerts/alerts_view"),
    ],
)
def test_unknown_extension_is_404(shared_server: Server, path: str, route: str) -> None:
    response = shared_server.get(path)
    assert response.status_code == 404
    assert response.text == (
        f"Not Found: unknown format; {route}.{{fmt}} takes {FORMATS}, e.g. {route}.json\n"
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/alerts/all_alerts.json", "GET, POST, HEAD"),
        ("PUT", "/alerts/definitions.json", "GET, POST, HEAD"),
        ("GET", "/alerts/raise_alerts.cmd", "POST"),
        ("GET", "/alerts/raise_alert.cmd", "POST"),
        ("GET", "/alerts/definitions/define_alert.cmd", "POST"),
        ("DELETE", "/alerts/raise_alerts.cmd", "POST"),
    ],
)
def test_wrong_method_is_405(shared_server: Server, method: str, path: str, allowed: str) -> None:
    response = shared_server.session.request(method, shared_server.url + path, timeout=10)
    assert response.status_code == 405
    assert response.text == "Method Not Allowed\n"
    assert sorted(response.headers["allow"].split(", ")) == sorted(allowed.split(", "))


API_LIVES = (
    "Not Found; the API lives under /alerts/, /messagebus/, /system/, /eventbus/events.ws; "
    "see /alerts/definitions.json, /alerts/all_alerts.json (log in with HTTP Basic)"
)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/alerts/nothing.json", API_LIVES),
        ("/nothing", API_LIVES),
        (
            "/alerts/by-id/1/other.json",
            "Not Found; did you mean /alerts/by-id/{id}/alert.{fmt}? "
            "({fmt} is json, itjson, ekjson or prettyjson)",
        ),
        ("/alerts", API_LIVES),
    ],
)
def test_unknown_path_is_404(shared_server: Server, path: str, reason: str) -> None:
    response = shared_server.get(path)
    assert response.status_code == 404
    assert response.text == reason + "\n"


# headers


def test_success_is_json_and_not_cached(shared_server: Server) -> None:
    for path in ("/alerts/all_alerts.json", "/alerts/definitions.itjson", "/system/timestamp.json"):
        response = shared_server.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0].strip() == JSON_TYPE
        assert response.headers["cache-control"] == "no-cache"


def test_error_text_is_plain_utf8_and_not_cached(shared_server: Server) -> None:
    for fmt in ("json", "itjson", "prettyjson"):
        response = shared_server.command(
            f"/alerts/all_alerts.{fmt}", {"regex": [["kismet.alert.text", "("]]}
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == TEXT_TYPE
        assert response.headers["cache-control"] == "no-cache"
        assert response.text == "Invalid regex: missing ): (\n"
    raised = shared_server.raise_alert("NO_SUCH_ALERT_FOR_FORMATS")
    assert raised.status_code == 400
    assert raised.headers["content-type"] == TEXT_TYPE
    assert raised.headers["cache-control"] == "no-cache"
    assert raised.text == (
        "Invalid request:  Unknown alert type 'NO_SUCH_ALERT_FOR_FORMATS'; "
        "the defined alerts are listed at /alerts/definitions.json\n"
    )


def test_unauthenticated_error_is_not_cached(shared_server: Server) -> None:
    response = requests.get(shared_server.url + "/alerts/all_alerts.json", timeout=10)
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == LOGIN_REQUIRED + "\n"


# path clean-up and prefix


def test_runs_of_slashes_collapse(shared_server: Server, two_alerts: str) -> None:
    doubled = shared_server.command("//alerts///all_alerts.json", mine_filter(two_alerts))
    assert doubled.status_code == 200
    expected = two_records(two_alerts, doubled.json())
    assert_records(doubled.json(), expected)
    first = expected[0]
    by_id = shared_server.get(f"/alerts//by-id//{first['kismet.alert.hash']}///alert.json")
    assert by_id.status_code == 200
    assert by_id.json() == first
    raised = shared_server.raise_alert(two_alerts.lower(), "third.one")
    assert raised.status_code == 200
    slashed = shared_server.command(
        "/alerts//raise_alerts.cmd", {"name": two_alerts, "text": "fourth.one"}
    )
    assert slashed.status_code == 200, slashed.text
    records = shared_server.command("/alerts/all_alerts.json", mine_filter(two_alerts)).json()
    texts = [r["kismet.alert.text"] for r in records]
    assert texts == ["first.one", "second.one", "third.one", "fourth.one"]


def test_uri_prefix_serves_under_prefix_only(tmp_path: Path) -> None:
    def outside_prefix(route: str) -> str:
        return (
            f"Not Found (this server's API is under /p/); did you mean {route}? "
            "({fmt} is json, itjson, ekjson or prettyjson)\n"
        )

    def prefixed_texts(response: requests.Response) -> list[str]:
        assert response.status_code == 200, response.text
        alerts = response.json()
        return [a["kismet.alert.text"] for a in alerts if a["kismet.alert.header"] == "PREFIXED"]

    with Server(tmp_path, BASE_CONFIG + "httpd_uri_prefix=/p\n") as server:
        for path, route in [
            ("/alerts/all_alerts.json", "/p/alerts/all_alerts.{fmt}"),
            ("/alerts/definitions.json", "/p/alerts/definitions.{fmt}"),
            ("/pp/alerts/all_alerts.json", "/p/alerts/all_alerts.{fmt}"),
        ]:
            outside = server.get(path)
            assert outside.status_code == 404
            assert outside.text == outside_prefix(route)
        definitions = server.get("/p/alerts/definitions.json")
        assert definitions.status_code == 200
        assert definitions.json()[0]["kismet.alert.definition.header"] == "KISMET"
        defined = server.command(
            "/p/alerts/definitions/define_alert.cmd",
            {"name": "PREFIXED", "description": "under a prefix"},
        )
        assert defined.status_code == 200, defined.text
        raised = server.command("/p/alerts/raise_alerts.cmd", {"name": "PREFIXED", "text": "hi"})
        assert raised.status_code == 200
        assert raised.text == "Alert raised\n"
        unprefixed = server.command("/alerts/raise_alerts.cmd", {"name": "PREFIXED", "text": "x"})
        assert unprefixed.status_code == 404
        assert unprefixed.text == (
            "Not Found (this server's API is under /p/); "
            "did you mean /p/alerts/raise_alerts.cmd or /p/alerts/raise_alert.cmd?\n"
        )
        assert prefixed_texts(server.get("/p/alerts/all_alerts.json")) == ["hi"]
        assert prefixed_texts(server.get("//p//alerts/all_alerts.json")) == ["hi"]
        anonymous = requests.get(server.url + "/p/alerts/all_alerts.json", timeout=10)
        assert anonymous.status_code == 401
        assert anonymous.text == LOGIN_REQUIRED + "\n"
        basic = requests.get(
            server.url + "/p/alerts/all_alerts.json", auth=(USER, PASSWORD), timeout=10
        )
        assert prefixed_texts(basic) == ["hi"]


def test_every_list_route_takes_fields(shared_server: Server, unique_name: str) -> None:
    """API keys, silences and the outputs' status answered whole records whatever
    `fields` asked for (api.md: fields applies to each record of an array result)."""
    made = shared_server.command(
        "/auth/apikey/generate.cmd", {"name": unique_name, "role": "readonly", "duration": 0}
    )
    assert made.status_code == 200, made.text
    silenced = shared_server.command(
        "/forward/silences/create.cmd",
        {"header": unique_name, "comment": "fields", "duration": "1h"},
    )
    assert silenced.status_code == 200, silenced.text
    for path, field, name in (
        ("/auth/apikey/list.json", "kismet.httpd.auth.name", unique_name),
        ("/forward/silences/all_silences.json", "kisalert.silence.comment", "fields"),
    ):
        answer = shared_server.command(path, {"fields": [[field, "only"]]})
        assert answer.status_code == 200, answer.text
        records = answer.json()
        assert {"only": name} in records, records
        assert all(list(record) == ["only"] for record in records), records
    query = quote(json.dumps({"fields": ["kisalert.forward.name"]}))
    status = shared_server.get(f"/forward/status.json?json={query}")
    assert status.status_code == 200 and status.json() == []
