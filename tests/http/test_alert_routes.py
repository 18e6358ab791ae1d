"""The /alerts read routes: definitions, all_alerts, last-time, wrapped, by-id,
field simplification, regex filters and the fixed sensor position."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.http.helpers import (
    define_fast,
    definitions,
    mine,
    mine_regex,
    raise_ok,
    raise_pipelined,
)
from tests.records import ALERT_KEYS, DEFINITION_KEYS, ZERO_MAC, only, rates_of
from tests.server import BASE_CONFIG, PASSWORD, USER, Server, wait_for
from tests.slack import slack

# catalog.md, in registration order.
BUILTIN_HEADERS = [
    "KISMET", "DEVICEFOUND", "DEVICELOST", "DHCPCLIENTID", "NETSTUMBLER", "NULLPROBERESP",
    "LUCENTTEST", "MSFBCOMSSID", "MSFDLINKRATE", "MSFNETGEARBEACON", "LONGSSID",
    "DISCONCODEINVALID", "DEAUTHCODEINVALID", "WMMOVERFLOW", "CHANCHANGE", "DHCPCONFLICT",
    "BCASTDISCON", "AIRJACKSSID", "CRYPTODROP", "DHCPNAMECHANGE", "DHCPOSCHANGE",
    "ADHOCCONFLICT", "SSIDCANARY", "APSPOOF", "DOT11D", "BEACONRATE", "ADVCRYPTCHANGE",
    "MALFORMMGMT", "WPSBRUTE", "KARMAOUI", "OVERPOWERED", "NONCEDEGRADE", "NONCEREUSE",
    "WMMTSPEC", "RSNLOOP", "BCOM11KCHAN", "BSSTIMESTAMP", "PROBECHAN", "QCOMEXTENDED",
    "BADFIXLENIE", "RTLWIFIP2P", "DEAUTHFLOOD", "NOCLIENTMFP", "RTL8195VD1406",
    "VDOO202027301", "VDOO202027302", "FORMATSTRING", "FLIPPERZERO", "BLEEDINGTOOTH",
    "SOURCEERROR", "ROOTUSER",
]  # fmt: skip

FIELD_ERROR = "Invalid request: invalid field specification"


# Helpers


def get_json(server: Server, path: str, args: dict[str, Any] | None = None) -> Any:
    response = server.get(path) if args is None else server.command(path, args)
    assert response.status_code == 200, response.text
    return response.json()


def definition(server: Server, name: str) -> dict[str, Any]:
    [record] = [d for d in definitions(server) if d["kismet.alert.definition.header"] == name]
    return record


def ts_text(value: float) -> str:
    return repr(float(value))


# definitions


def test_definitions_list_builtins_first_in_catalog_order(shared_server: Server) -> None:
    headers = [d["kismet.alert.definition.header"] for d in definitions(shared_server)]
    assert headers[: len(BUILTIN_HEADERS)] == BUILTIN_HEADERS


def test_api_definitions_follow_builtins_in_registration_order(
    shared_server: Server, unique_name: str
) -> None:
    first, second = f"{unique_name}_B", f"{unique_name}_A"
    define_fast(shared_server, first)
    define_fast(shared_server, second)
    headers = [d["kismet.alert.definition.header"] for d in definitions(shared_server)]
    assert headers[: len(BUILTIN_HEADERS)] == BUILTIN_HEADERS
    assert headers.index(first) > len(BUILTIN_HEADERS) - 1
    assert headers.index(second) == headers.index(first) + 1


def test_definition_record_has_exact_keys_in_order(shared_server: Server, unique_name: str) -> None:
    response = shared_server.define(
        unique_name,
        description="a door opened",
        severity=15,
        throttle="3/hr",
        burst="2/min",
        phyname="IEEE802.11",
        **{"class": "spoof"},
    )
    assert response.status_code == 200, response.text
    record = definition(shared_server, unique_name)
    assert list(record) == DEFINITION_KEYS
    assert record == {
        "kismet.alert.definition.header": unique_name,
        "kismet.alert.definition.class": "SPOOF",
        "kismet.alert.definition.severity": 15,
        "kismet.alert.definition.description": "a door opened",
        "kismet.alert.definition.phyid": 0,
        "kismet.alert.definition.limit_unit": 2,
        "kismet.alert.definition.limit_rate": 3,
        "kismet.alert.definition.burst_unit": 1,
        "kismet.alert.definition.limit_burst": 2,
        "kismet.alert.definition.burst_sent": 0,
        "kismet.alert.definition.total_sent": 0,
        "kismet.alert.definition.time_last": 0,
    }
    assert all(list(d) == DEFINITION_KEYS for d in definitions(shared_server))


@pytest.mark.parametrize(
    ("header", "klass", "severity", "phyid", "rates"),
    [
        ("KISMET", "SYSTEM", 0, -1, (3, 0, 3, 0)),
        ("NETSTUMBLER", "PROBE", 5, 0, (1, 0, 0, 0)),
        ("DEAUTHFLOOD", "DENIAL", 10, 0, (1, 5, 0, 2)),
        ("FLIPPERZERO", "PROBE", 15, 3, (1, 5, 0, 1)),
        ("BLEEDINGTOOTH", "EXPLOIT", 15, 6, (1, 5, 0, 1)),
        ("SOURCEERROR", "SYSTEM", 15, -2, (0, 1, 0, 10)),
    ],
)
def test_builtin_definition_values(
    shared_server: Server,
    header: str,
    klass: str,
    severity: int,
    phyid: int,
    rates: tuple[int, int, int, int],
) -> None:
    record = definition(shared_server, header)
    assert record["kismet.alert.definition.class"] == klass
    assert record["kismet.alert.definition.severity"] == severity
    assert record["kismet.alert.definition.phyid"] == phyid
    assert rates_of(record) == rates
    assert record["kismet.alert.definition.description"]


def test_definition_counters_follow_raises(shared_server: Server, unique_name: str) -> None:
    assert shared_server.define(unique_name, throttle="50/min", burst="20/min").status_code == 200
    before = definition(shared_server, unique_name)
    assert before["kismet.alert.definition.burst_sent"] == 0
    assert before["kismet.alert.definition.total_sent"] == 0
    assert before["kismet.alert.definition.time_last"] == 0
    for i in range(3):
        raise_ok(shared_server, unique_name, f"raise {i}")
    after = definition(shared_server, unique_name)
    newest = mine(shared_server, unique_name)[-1]
    assert after["kismet.alert.definition.burst_sent"] == 3
    assert after["kismet.alert.definition.total_sent"] == 3
    assert after["kismet.alert.definition.time_last"] == newest["kismet.alert.timestamp"]


# all_alerts


def test_alert_record_exact_shape(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(
        shared_server,
        unique_name,
        "door opened",
        bssid="aa:bb:cc:dd:ee:ff",
        source="0-1-2-a-b-c",
        dest="A1B2C3D4E5F6",
    )
    response = shared_server.get("/alerts/all_alerts.json")
    [record] = only(response.json(), unique_name)
    assert list(record) == ALERT_KEYS
    assert isinstance(record["kismet.alert.hash"], int)
    assert isinstance(record["kismet.alert.timestamp"], int | float)
    assert abs(record["kismet.alert.timestamp"] - time.time()) < 60
    expected = {
        "kismet.alert.device_key": "00_0",
        "kismet.alert.header": unique_name,
        "kismet.alert.class": "OTHER",
        "kismet.alert.hash": record["kismet.alert.hash"],
        "kismet.alert.severity": 10,
        "kismet.alert.phy_id": 4294967295,
        "kismet.alert.timestamp": record["kismet.alert.timestamp"],
        "kismet.alert.transmitter_mac": "AA:BB:CC:DD:EE:FF",
        "kismet.alert.source_mac": "00:01:02:0A:0B:0C",
        "kismet.alert.dest_mac": "A1:B2:C3:D4:E5:F6",
        "kismet.alert.other_mac": ZERO_MAC,
        "kismet.alert.channel": "",
        "kismet.alert.frequency": 0,
        "kismet.alert.text": "door opened",
        "kismet.alert.location": {"kismet.common.location.geopoint": [0, 0]},
    }
    assert record == expected
    # Integral doubles are written as integers, as Kismet does.
    assert '"kismet.alert.frequency":0,' in response.text.replace(" ", "")
    assert '"kismet.common.location.geopoint":[0,0]' in response.text.replace(" ", "")


def test_all_alerts_oldest_first(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    for text in ("first", "second", "third"):
        raise_ok(shared_server, unique_name, text)
    alerts = mine(shared_server, unique_name)
    assert [a["kismet.alert.text"] for a in alerts] == ["first", "second", "third"]
    stamps = [a["kismet.alert.timestamp"] for a in alerts]
    assert stamps[0] < stamps[1] < stamps[2]
    hashes = {a["kismet.alert.hash"] for a in alerts}
    assert len(hashes) == 3


# last-time


def _three_alerts(server: Server, name: str) -> list[dict[str, Any]]:
    define_fast(server, name)
    for text in ("one", "two", "three"):
        raise_ok(server, name, text)
    return mine(server, name)


def test_last_time_is_strictly_greater(shared_server: Server, unique_name: str) -> None:
    one, two, _three = _three_alerts(shared_server, unique_name)
    after_two = get_json(
        shared_server, f"/alerts/last-time/{ts_text(two['kismet.alert.timestamp'])}/alerts.json"
    )
    assert isinstance(after_two, list)
    assert [a["kismet.alert.text"] for a in only(after_two, unique_name)] == ["three"]
    after_one = get_json(
        shared_server, f"/alerts/last-time/{ts_text(one['kismet.alert.timestamp'])}/alerts.json"
    )
    assert [a["kismet.alert.text"] for a in only(after_one, unique_name)] == ["two", "three"]
    from_zero = get_json(shared_server, "/alerts/last-time/0/alerts.json")
    assert [a["kismet.alert.text"] for a in only(from_zero, unique_name)] == [
        "one",
        "two",
        "three",
    ]


def test_last_time_negative_is_relative_to_now(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    window = slack(0.6)  # long enough to raise an alert and ask for it
    path = f"/alerts/last-time/-{window:g}/alerts.json"

    def texts(route: str) -> list[str]:
        return [a["kismet.alert.text"] for a in only(get_json(shared_server, route), unique_name)]

    before = time.monotonic()
    raise_ok(shared_server, unique_name, "old")
    # The window moves with the server's clock: "old" leaves it, and no sooner than
    # it is `window` old ...
    wait_for(lambda: texts(path) == [], timeout=0.6 + 2, what="'old' to leave the window")
    assert time.monotonic() - before >= window
    # ... while an alert raised now is in it; both are in the last minute.
    raise_ok(shared_server, unique_name, "new")
    assert texts(path) == ["new"]
    assert texts("/alerts/last-time/-60/alerts.json") == ["old", "new"]


def test_last_time_reads_the_numeric_prefix_of_the_path(
    shared_server: Server, unique_name: str
) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name)
    [alert] = mine(shared_server, unique_name)
    second = int(alert["kismet.alert.timestamp"])

    def texts(ts: str) -> list[str]:
        return [
            a["kismet.alert.text"]
            for a in only(
                get_json(shared_server, f"/alerts/last-time/{ts}/alerts.json"), unique_name
            )
        ]

    assert texts(f"{second - 1}.5") == ["something happened"]
    assert texts(f"{second - 1}.123456.0") == ["something happened"]
    assert texts(f"{second + 1}.123456.0") == []
    assert texts(f"{second + 1}.5") == []
    assert texts("12abc") == ["something happened"]
    assert texts(f"{second + 5}abc") == []


@pytest.mark.parametrize("ts", ["abc", "nan", "inf", "-inf", "x12"])
@pytest.mark.parametrize(
    "route", ["/alerts/last-time/{}/alerts.json", "/alerts/wrapped/last-time/{}/alerts.json"]
)
def test_unreadable_path_timestamp_is_400_empty_object(
    shared_server: Server, route: str, ts: str
) -> None:
    response = shared_server.get(route.format(ts))
    assert response.status_code == 400
    assert response.text == "{}"


def test_last_time_accepts_regex(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "keep me")
    raise_ok(shared_server, unique_name, "drop me")
    result = get_json(
        shared_server,
        "/alerts/last-time/0/alerts.json",
        {"regex": [["kismet.alert.text", "^keep"]]},
    )
    assert [a["kismet.alert.text"] for a in only(result, unique_name)] == ["keep me"]


# wrapped/last-time


def wrapped(server: Server, ts: Any, args: dict[str, Any] | None = None) -> dict[str, Any]:
    path = f"/alerts/wrapped/last-time/{ts}/alerts.json"
    result: dict[str, Any] = get_json(server, path, args)
    return result


def test_wrapped_answer_shape(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "wrapped one")
    before = time.time()
    body = wrapped(shared_server, 0)
    assert list(body) == ["kismet.alert.list", "kismet.alert.timestamp"]
    [alert] = only(body["kismet.alert.list"], unique_name)
    assert list(alert) == ALERT_KEYS
    assert alert["kismet.alert.text"] == "wrapped one"
    stamp = body["kismet.alert.timestamp"]
    assert isinstance(stamp, int | float)
    assert stamp >= alert["kismet.alert.timestamp"]
    assert abs(stamp - before) < 60


def test_wrapped_polling_never_misses_nor_repeats(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    t = wrapped(shared_server, 0)["kismet.alert.timestamp"]
    seen: list[str] = []
    raised: list[str] = []
    for round_no in range(6):
        for i in range(round_no % 3):
            text = f"round {round_no} alert {i}"
            raise_ok(shared_server, unique_name, text)
            raised.append(text)
        body = wrapped(shared_server, ts_text(t))
        new = only(body["kismet.alert.list"], unique_name)
        assert all(a["kismet.alert.timestamp"] > t for a in new)
        seen += [a["kismet.alert.text"] for a in new]
        assert body["kismet.alert.timestamp"] >= t
        t = body["kismet.alert.timestamp"]
    assert seen == raised
    # An alert raised right after a poll is stamped after the T that poll handed out.
    raise_ok(shared_server, unique_name, "after the last poll")
    [latest] = mine(shared_server, unique_name)[-1:]
    assert latest["kismet.alert.timestamp"] > t
    body = wrapped(shared_server, ts_text(t))
    assert [a["kismet.alert.text"] for a in only(body["kismet.alert.list"], unique_name)] == [
        "after the last poll"
    ]


def test_wrapped_polling_while_raising_concurrently(
    shared_server: Server, unique_name: str
) -> None:
    define_fast(shared_server, unique_name)
    raised = [f"concurrent {i}" for i in range(120)]

    def raiser() -> list[tuple[int, str]]:
        """Each raise's status and answer."""
        answers = []
        with requests.Session() as session:
            session.auth = (USER, PASSWORD)
            for text in raised:
                response = session.post(
                    shared_server.url + "/alerts/raise_alerts.cmd",
                    data={"json": json.dumps({"name": unique_name, "text": text})},
                    timeout=10,
                )
                answers.append((response.status_code, response.text))
        return answers

    t = wrapped(shared_server, 0)["kismet.alert.timestamp"]
    seen: list[str] = []
    with ThreadPoolExecutor(1) as pool:
        raising = pool.submit(raiser)
        while True:
            running = not raising.done()
            body = wrapped(shared_server, ts_text(t))
            seen += [a["kismet.alert.text"] for a in only(body["kismet.alert.list"], unique_name)]
            t = body["kismet.alert.timestamp"]
            if not running:
                break
        answers = raising.result()  # re-raises here whatever failed in the raiser
    refused = [
        (text, answer) for text, answer in zip(raised, answers, strict=True) if answer[0] != 200
    ]
    assert not refused, refused
    assert seen == raised


def test_wrapped_applies_fields_to_each_alert(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "fielded")
    body = wrapped(
        shared_server,
        0,
        {
            "fields": ["kismet.alert.header", ["kismet.alert.text", "text"]],
            "regex": mine_regex(unique_name),
        },
    )
    assert list(body) == ["kismet.alert.list", "kismet.alert.timestamp"]
    assert isinstance(body["kismet.alert.timestamp"], int | float)
    assert body["kismet.alert.list"] == [{"kismet.alert.header": unique_name, "text": "fielded"}]


def test_wrapped_rejects_malformed_fields(shared_server: Server) -> None:
    response = shared_server.command(
        "/alerts/wrapped/last-time/0/alerts.json", {"fields": [["a", "b", "c"]]}
    )
    assert response.status_code == 400
    assert response.text.rstrip("\n") == FIELD_ERROR


# by-id


def test_by_id_finds_the_alert(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "find me", bssid="01:02:03:04:05:06")
    raise_ok(shared_server, unique_name, "not me")
    target = mine(shared_server, unique_name)[0]
    record = get_json(shared_server, f"/alerts/by-id/{target['kismet.alert.hash']}/alert.json")
    assert record == target
    assert list(record) == ALERT_KEYS


def test_by_id_is_unique_even_when_checksums_collide(
    shared_server: Server, unique_name: str
) -> None:
    # Kismet's checksum collides often for alerts raised microseconds apart; every
    # alert must still get its own id and be found by it.
    define_fast(shared_server, unique_name)
    raise_pipelined(
        shared_server, [{"name": unique_name, "text": f"flood {i}"} for i in range(150)]
    )
    alerts = mine(shared_server, unique_name)
    assert len(alerts) == 150
    everything = shared_server.alerts()
    assert len({a["kismet.alert.hash"] for a in everything}) == len(everything)
    for alert in alerts:
        found = get_json(shared_server, f"/alerts/by-id/{alert['kismet.alert.hash']}/alert.json")
        assert found == alert


def test_by_id_applies_fields(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "simplify me")
    [target] = mine(shared_server, unique_name)
    record = get_json(
        shared_server,
        f"/alerts/by-id/{target['kismet.alert.hash']}/alert.json",
        {"fields": [["kismet.alert.text", "t"], "kismet.alert.hash"]},
    )
    assert record == {"t": "simplify me", "kismet.alert.hash": target["kismet.alert.hash"]}


def test_by_id_unknown_is_404_empty_object(shared_server: Server) -> None:
    held = {a["kismet.alert.hash"] for a in shared_server.alerts()}
    missing = next(i for i in range(1, 1_000_000) if i not in held)
    response = shared_server.get(f"/alerts/by-id/{missing}/alert.json")
    assert response.status_code == 404
    assert response.text == "{}"


@pytest.mark.parametrize("alert_id", ["abc", "12abc", "-5", "1.5"])
def test_by_id_non_numeric_is_400(shared_server: Server, alert_id: str) -> None:
    response = shared_server.get(f"/alerts/by-id/{alert_id}/alert.json")
    assert response.status_code == 400


# fields


def test_fields_pick_rename_and_order(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "fields text", bssid="aa:bb:cc:00:00:01", channel="11")
    response = shared_server.command(
        "/alerts/all_alerts.json",
        {
            "fields": [
                "kismet.alert.channel",
                ["kismet.alert.header", "name"],
                "kismet.alert.location/kismet.common.location.geopoint",
                # One field twice, under two names, is refused (the output bound).
                ["kismet.alert.location/kismet.common.location.alt", "where"],
                "kismet.alert.no_such_field",
                ["kismet.alert.transmitter_mac", "bssid"],
            ],
            "regex": mine_regex(unique_name),
        },
    )
    assert response.status_code == 200, response.text
    [record] = response.json()
    assert list(record) == [
        "kismet.alert.channel",
        "name",
        "kismet.common.location.geopoint",
        "where",
        "kismet.alert.no_such_field",
        "bssid",
    ]
    assert record == {
        "kismet.alert.channel": "11",
        "name": unique_name,
        "kismet.common.location.geopoint": [0, 0],
        "where": 0,
        "kismet.alert.no_such_field": 0,
        "bssid": "AA:BB:CC:00:00:01",
    }


def test_fields_missing_nested_field_is_zero(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name)
    result = get_json(
        shared_server,
        "/alerts/all_alerts.json",
        {
            "fields": [["kismet.alert.location/kismet.common.location.alt", "alt"]],
            "regex": mine_regex(unique_name),
        },
    )
    assert result == [{"alt": 0}]


@pytest.mark.parametrize(
    "fields",
    [
        [123],
        [["kismet.alert.text", "a", "b"]],
        [{"kismet.alert.text": "t"}],
        [[]],
        [["kismet.alert.text", 5]],
        [None],
        "kismet.alert.text",
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/alerts/all_alerts.json",
        "/alerts/last-time/0/alerts.json",
        "/alerts/alerts_view.json",
        "/alerts/definitions.json",
    ],
)
def test_malformed_fields_is_400(shared_server: Server, path: str, fields: Any) -> None:
    response = shared_server.command(path, {"fields": fields})
    assert response.status_code == 400
    assert response.text.rstrip("\n") == FIELD_ERROR


def test_fields_apply_to_definitions(shared_server: Server) -> None:
    result = get_json(
        shared_server,
        "/alerts/definitions.json",
        {"fields": [["kismet.alert.definition.header", "h"]]},
    )
    assert result[: len(BUILTIN_HEADERS)] == [{"h": h} for h in BUILTIN_HEADERS]


# regex


def by_regex(server: Server, *rules: list[str]) -> list[dict[str, Any]]:
    """all_alerts.json, filtered by these regex rules."""
    result: list[dict[str, Any]] = get_json(
        server, "/alerts/all_alerts.json", {"regex": list(rules)}
    )
    return result


def test_regex_keeps_records_matching_any_pattern(shared_server: Server, unique_name: str) -> None:
    names = [f"{unique_name}_{suffix}" for suffix in ("A", "B", "C")]
    for name in names:
        define_fast(shared_server, name)
        raise_ok(shared_server, name, f"text of {name.lower()}")
    rules = [
        ["kismet.alert.header", f"^{names[0]}$"],
        ["kismet.alert.text", f"{names[2][-9:].lower()}$"],
    ]
    result = by_regex(shared_server, *rules)
    assert [a["kismet.alert.header"] for a in only(result, *names)] == [names[0], names[2]]
    assert all(a["kismet.alert.header"] in names for a in result)


def test_regex_is_a_search_and_supports_case_flag(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "The Rogue AP appeared")
    substring = by_regex(shared_server, ["kismet.alert.text", "Rogue AP"])
    assert len(only(substring, unique_name)) == 1
    wrong_case = by_regex(shared_server, ["kismet.alert.text", "rogue ap"])
    assert only(wrong_case, unique_name) == []
    insensitive = by_regex(shared_server, ["kismet.alert.text", "(?i)rogue ap"])
    assert len(only(insensitive, unique_name)) == 1
    anchored = by_regex(shared_server, ["kismet.alert.text", "^Rogue"])
    assert only(anchored, unique_name) == []


def test_regex_matches_severity_name_not_number(shared_server: Server, unique_name: str) -> None:
    high, low = f"{unique_name}_HI", f"{unique_name}_LO"
    define_fast(shared_server, high, severity=15)
    define_fast(shared_server, low, severity=5)
    raise_ok(shared_server, high)
    raise_ok(shared_server, low)
    by_name = by_regex(shared_server, ["kismet.alert.severity", "^HIGH$"])
    assert [a["kismet.alert.header"] for a in only(by_name, high, low)] == [high]
    assert all(a["kismet.alert.severity"] == 15 for a in by_name)
    by_number = by_regex(shared_server, ["kismet.alert.severity", "15"])
    assert only(by_number, high, low) == []


def test_regex_matches_mac_output_form(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, bssid="de-ad-be-ef-0-1")
    result = by_regex(shared_server, ["kismet.alert.transmitter_mac", "^DE:AD:BE:EF:00:01$"])
    assert len(only(result, unique_name)) == 1


def test_regex_through_nested_path(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name)
    result = by_regex(
        shared_server,
        ["kismet.alert.location/kismet.common.location.geopoint", "."],
        ["kismet.alert.header", f"^{unique_name}$"],
    )
    # Numbers never match, so only the header rule can keep the alert.
    assert len(only(result, unique_name)) == 1
    nested_only = by_regex(
        shared_server, ["kismet.alert.location/kismet.common.location.geopoint", "."]
    )
    assert only(nested_only, unique_name) == []


@pytest.mark.parametrize(
    "regex",
    [
        [["kismet.alert.text", "("]],
        [["kismet.alert.text", "(a)\\1"]],
        [["kismet.alert.text", "a(?=b)"]],
        [["kismet.alert.text"]],
        [["kismet.alert.text", 5]],
        ["kismet.alert.text"],
        "kismet.alert.text",
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/alerts/all_alerts.json",
        "/alerts/last-time/0/alerts.json",
        "/alerts/wrapped/last-time/0/alerts.json",
        "/alerts/alerts_view.json",
    ],
)
def test_malformed_regex_is_400(shared_server: Server, path: str, regex: Any) -> None:
    response = shared_server.command(path, {"regex": regex})
    assert response.status_code == 400
    assert response.text.startswith("Invalid regex:")


# gps=virtual


def test_virtual_gps_position_in_every_alert(tmp_path: Path) -> None:
    config = BASE_CONFIG + "gps=virtual:lat=51.5,lon=-0.25,alt=30\n"
    with Server(tmp_path, config) as server:
        define_fast(server, "GPSTEST")
        raise_ok(server, "GPSTEST", "positioned")
        [alert] = mine(server, "GPSTEST")
        assert list(alert) == ALERT_KEYS
        location = alert["kismet.alert.location"]
        assert location["kismet.common.location.geopoint"] == [-0.25, 51.5]
        assert location["kismet.common.location.alt"] == 30
        assert location["kismet.common.location.fix"] == 3
        assert list(location)[:3] == [
            "kismet.common.location.geopoint",
            "kismet.common.location.alt",
            "kismet.common.location.fix",
        ]
        assert "kismet.common.location.time_sec" in location
        assert "kismet.common.location.time_usec" in location
        lat_lon = get_json(
            server,
            "/alerts/all_alerts.json",
            {
                "fields": [["kismet.alert.location/kismet.common.location.fix", "fix"]],
                "regex": mine_regex("GPSTEST"),
            },
        )
        assert lat_lon == [{"fix": 3}]


def test_text_with_json_special_characters_round_trips(
    shared_server: Server, unique_name: str
) -> None:
    text = 'quote " backslash \\ newline \n tab \t ünïcode </script>'
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, text)
    [alert] = mine(shared_server, unique_name)
    assert alert["kismet.alert.text"] == text
    itjson = shared_server.get("/alerts/all_alerts.itjson").text
    lines = [json.loads(line) for line in itjson.splitlines()]
    assert [a["kismet.alert.text"] for a in only(lines, unique_name)] == [text]
