"""The output formats (api.md, "Serializers"): json, itjson, ekjson, prettyjson."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kisalert.alert import Alert, AlertDraft
from kisalert.definition import Definition
from kisalert.location import NO_LOCATION, Location
from kisalert.messages import Message
from kisalert.rates import Limits
from kisalert.serializers import FORMATS, array, obj
from kisalert.throttle import Throttle


def make_alert(n: int, text: str = "", location: Location | None = None) -> Alert:
    draft = AlertDraft(
        header="DEAUTHFLOOD",
        klass="DENIAL",
        severity=10,
        phy=0,
        text=text or f"flood {n} on ch. 6.5",
        transmitter="AA:BB:CC:DD:EE:FF",
        channel="5.8",
        location=location or NO_LOCATION,
    )
    return Alert.from_draft(draft, 1_764_420_000_000_000 + n * 500_000, 1000 + n)


ALERTS = [make_alert(1), make_alert(2, location=Location(52.5, 13.25, 34.0, 3)), make_alert(3)]
RECORDS = [a.record for a in ALERTS]


def lines(body: bytes) -> list[bytes]:
    assert body.endswith(b"\n")
    parts = body.split(b"\n")
    assert parts[-1] == b""
    return parts[:-1]


def all_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for key, item in value.items() for k in (key, *all_keys(item))]
    if isinstance(value, list):
        return [k for item in value for k in all_keys(item)]
    return []


def test_formats() -> None:
    assert frozenset({"json", "itjson", "ekjson", "prettyjson"}) == FORMATS


# json


def test_json_array() -> None:
    assert orjson.loads(array(RECORDS, "json")) == RECORDS
    assert orjson.loads(array(RECORDS, "json", raw=[a.json for a in ALERTS])) == RECORDS
    assert orjson.loads(array([], "json")) == []
    assert orjson.loads(array([], "json", raw=[])) == []


def test_json_keeps_key_order() -> None:
    parsed = orjson.loads(array(RECORDS, "json", raw=[a.json for a in ALERTS]))
    assert [list(r) for r in parsed] == [list(r) for r in RECORDS]


def test_json_object() -> None:
    body = {"kismet.alert.list": RECORDS, "kismet.alert.timestamp": 1764420001.5}
    assert orjson.loads(obj(body, "json")) == body


# itjson


@pytest.mark.parametrize("raw", [False, True])
def test_itjson_one_compact_object_per_line(raw: bool) -> None:
    body = array(RECORDS, "itjson", raw=[a.json for a in ALERTS] if raw else None)
    rows = lines(body)
    assert len(rows) == len(RECORDS)
    assert [orjson.loads(row) for row in rows] == RECORDS
    for row in rows:
        assert row.strip() == row
        assert row
        assert b"\n" not in row
    assert b"\n\n" not in body


@pytest.mark.parametrize("raw", [False, True])
def test_itjson_empty_array_is_an_empty_body(raw: bool) -> None:
    assert array([], "itjson", raw=[] if raw else None) == b""


def test_itjson_object_is_one_line() -> None:
    body = obj({"kismet.system.timestamp.sec": 1, "kismet.system.timestamp.usec": 2}, "itjson")
    assert lines(body) == [b'{"kismet.system.timestamp.sec":1,"kismet.system.timestamp.usec":2}']


# ekjson


def test_ekjson_renames_dots_in_keys_only() -> None:
    rows = lines(array(RECORDS, "ekjson"))
    assert len(rows) == len(RECORDS)
    first = orjson.loads(rows[0])
    assert list(first) == [key.replace(".", "_") for key in RECORDS[0]]
    assert first["kismet_alert_header"] == "DEAUTHFLOOD"
    # values keep their dots
    assert first["kismet_alert_text"] == "flood 1 on ch. 6.5"
    assert first["kismet_alert_channel"] == "5.8"
    assert first["kismet_alert_timestamp"] == 1764420000.5
    assert first["kismet_alert_location"] == {"kismet_common_location_geopoint": [0, 0]}
    for row in rows:
        assert all("." not in key for key in all_keys(orjson.loads(row)))


def test_ekjson_nested_location_keys() -> None:
    second = orjson.loads(lines(array(RECORDS, "ekjson"))[1])
    assert second["kismet_alert_location"] == {
        "kismet_common_location_geopoint": [13.25, 52.5],
        "kismet_common_location_alt": 34.0,
        "kismet_common_location_fix": 3,
        "kismet_common_location_time_sec": 1764420001,
        "kismet_common_location_time_usec": 0,
    }


def test_ekjson_empty_array_is_an_empty_body() -> None:
    assert array([], "ekjson") == b""


def test_ekjson_object_renames_wrapper_keys_and_keeps_dotless_keys() -> None:
    wrapped = {"kismet.alert.list": RECORDS[:1], "kismet.alert.timestamp": 1764420001.5}
    (row,) = lines(obj(wrapped, "ekjson"))
    parsed = orjson.loads(row)
    assert list(parsed) == ["kismet_alert_list", "kismet_alert_timestamp"]
    assert parsed["kismet_alert_list"][0]["kismet_alert_text"] == "flood 1 on ch. 6.5"
    view = {"data": [{"renamed.field": "a.b", "plain": 1}], "draw": 3, "last_page": 1}
    (row,) = lines(obj(view, "ekjson"))
    assert orjson.loads(row) == {
        "data": [{"renamed_field": "a.b", "plain": 1}],
        "draw": 3,
        "last_page": 1,
    }


# prettyjson


def assert_described(value: Any) -> None:
    """Every record key k is immediately preceded by a sibling `description.k`."""
    if isinstance(value, list):
        for item in value:
            assert_described(item)
        return
    if not isinstance(value, dict):
        return
    keys = list(value)
    for index, key in enumerate(keys):
        if key.startswith("description."):
            assert index + 1 < len(keys)
            assert keys[index + 1] == key.removeprefix("description.")
            assert isinstance(value[key], str)
            assert value[key]
        else:
            assert index > 0, f"{key} has no description"
            assert keys[index - 1] == "description." + key
            assert_described(value[key])


def plain(value: Any) -> Any:
    """`value` without its description keys."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("description.")}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def test_prettyjson_array_of_alerts() -> None:
    body = array(RECORDS, "prettyjson")
    assert b"\n  " in body  # indented
    parsed = orjson.loads(body)
    assert plain(parsed) == RECORDS
    assert_described(parsed)
    # the nested location record is described too
    location = parsed[1]["kismet.alert.location"]
    assert list(location)[:2] == [
        "description.kismet.common.location.geopoint",
        "kismet.common.location.geopoint",
    ]


def test_prettyjson_does_not_touch_values() -> None:
    parsed = orjson.loads(array(RECORDS, "prettyjson"))
    assert parsed[0]["kismet.alert.text"] == "flood 1 on ch. 6.5"
    assert parsed[0]["kismet.alert.timestamp"] == 1764420000.5


def test_prettyjson_wrapped_object() -> None:
    body = {"kismet.alert.list": RECORDS, "kismet.alert.timestamp": 1764420001.5}
    parsed = orjson.loads(obj(body, "prettyjson"))
    assert plain(parsed) == body
    assert_described(parsed)


def test_prettyjson_definition_record() -> None:
    definition = Definition(
        "DEAUTHFLOOD", "DENIAL", 10, "floods", 0, Limits.parse("5/min", "2/sec")
    )
    record = definition.record(Throttle(definition.limits), 1_764_420_000_000_000)
    parsed = orjson.loads(array([record], "prettyjson"))
    assert plain(parsed) == [record]
    assert_described(parsed)


def test_prettyjson_message_record() -> None:
    record = Message("hello", 2, 1764420000).record
    parsed = orjson.loads(obj(record, "prettyjson"))
    assert plain(parsed) == record
    assert_described(parsed)


def test_prettyjson_empty_array() -> None:
    assert orjson.loads(array([], "prettyjson")) == []
