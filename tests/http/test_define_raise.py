"""define_alert.cmd and raise_alerts.cmd: defaults, validation, conflicts, throttling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.http.helpers import DEFINE, RAISE, define_fast, definition, definitions, mine
from tests.records import ZERO_MAC, rates_of
from tests.server import BASE_CONFIG, Server

THROTTLED = "Invalid request: alert throttle reached, alert not raised.\n"
BAD_MAC = "Invalid request: invalid MAC address\n"


def define_and_raise_once(
    server: Server, name: str, **args: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Define name with args and raise it once: its definition and its one alert."""
    assert server.define(name, **args).status_code == 200
    record = definition(server, name)
    assert record is not None
    assert server.raise_alert(name).status_code == 200
    [alert] = mine(server, name)
    return record, alert


def error_text(response: Any) -> str:
    text: str = response.text
    return text.rstrip("\n")


# define_alert: defaults and normalisation


def test_define_defaults(shared_server: Server, unique_name: str) -> None:
    response = shared_server.command(
        DEFINE, {"name": unique_name.lower(), "description": "Defaults Only"}
    )
    assert response.status_code == 200, response.text
    assert response.text == f"Alert {unique_name} defined\n"
    record = definition(shared_server, unique_name)
    assert record is not None
    assert record["kismet.alert.definition.class"] == "OTHER"
    assert record["kismet.alert.definition.severity"] == 10
    assert record["kismet.alert.definition.description"] == "Defaults Only"
    assert record["kismet.alert.definition.phyid"] == -1
    assert rates_of(record) == (1, 10, 0, 1)


def test_define_upper_cases_name_and_class(shared_server: Server, unique_name: str) -> None:
    response = shared_server.define(unique_name.lower() + "_mixed", **{"class": "Spoof"})
    assert response.status_code == 200, response.text
    record = definition(shared_server, unique_name + "_MIXED")
    assert record is not None
    assert record["kismet.alert.definition.class"] == "SPOOF"
    assert definition(shared_server, unique_name.lower() + "_mixed") is None
    # A raise by the original spelling reaches it.
    raised = shared_server.raise_alert(unique_name.lower() + "_mixed", "hi")
    assert raised.status_code == 200
    [alert] = mine(shared_server, unique_name + "_MIXED")
    assert alert["kismet.alert.class"] == "SPOOF"


@pytest.mark.parametrize("severity", [0, 5, 10, 15, 20])
def test_define_valid_severities(shared_server: Server, unique_name: str, severity: int) -> None:
    record, alert = define_and_raise_once(shared_server, unique_name, severity=severity)
    assert record["kismet.alert.definition.severity"] == severity
    assert alert["kismet.alert.severity"] == severity


@pytest.mark.parametrize("severity", [7, -5, 25, 1, "10", 10.5])
def test_define_invalid_severity_is_400(
    shared_server: Server, unique_name: str, severity: Any
) -> None:
    response = shared_server.define(unique_name, severity=severity)
    assert response.status_code == 400
    assert response.text.startswith("Invalid request: ")
    assert definition(shared_server, unique_name) is None


@pytest.mark.parametrize(
    ("throttle", "burst", "expected"),
    [
        ("5/sec", "2/sec", (0, 5, 0, 2)),
        ("5/second", "2/SEC", (0, 5, 0, 2)),
        ("7", "1/sec", (1, 7, 0, 1)),
        ("3/Minute", "1/min", (1, 3, 1, 1)),
        (" 4 / hr ", "2/min", (2, 4, 1, 2)),
        ("6/hour", "6/hour", (2, 6, 2, 6)),
        ("1/day", "1/hr", (3, 1, 2, 1)),
        ("0/min", "0/sec", (1, 0, 0, 0)),
        ("1000000/day", "1000000/sec", (3, 1000000, 0, 1000000)),
    ],
)
def test_define_rate_forms(
    shared_server: Server,
    unique_name: str,
    throttle: str,
    burst: str,
    expected: tuple[int, int, int, int],
) -> None:
    response = shared_server.define(unique_name, throttle=throttle, burst=burst)
    assert response.status_code == 200, response.text
    record = definition(shared_server, unique_name)
    assert record is not None
    assert rates_of(record) == expected


@pytest.mark.parametrize(
    ("throttle", "burst", "reason"),
    [
        ("10x/min", "1/sec", "could not parse throttle limits"),
        ("-1/min", "1/sec", "could not parse throttle limits"),
        ("1.5/min", "1/sec", "could not parse throttle limits"),
        ("5/fortnight", "1/sec", "could not parse throttle limits"),
        ("1000001/min", "1/sec", "could not parse throttle limits"),
        ("10/min", "x/sec", "could not parse burst limits"),
        ("10/min", "2/parsec", "could not parse burst limits"),
        ("10/min", "1.5/sec", "could not parse burst limits"),
    ],
)
def test_define_unparsable_rates_are_400(
    shared_server: Server, unique_name: str, throttle: str, burst: str, reason: str
) -> None:
    response = shared_server.define(unique_name, throttle=throttle, burst=burst)
    assert response.status_code == 400
    assert error_text(response) == f"Invalid request: {reason}"
    assert definition(shared_server, unique_name) is None


@pytest.mark.parametrize(
    ("throttle", "burst"), [("5/sec", "1/min"), ("5/min", "1/hr"), ("5/hr", "1/day"), ("5", "1/hr")]
)
def test_define_burst_unit_longer_than_throttle_is_400(
    shared_server: Server, unique_name: str, throttle: str, burst: str
) -> None:
    response = shared_server.define(unique_name, throttle=throttle, burst=burst)
    assert response.status_code == 400
    assert response.text.startswith("Invalid request: ")
    assert definition(shared_server, unique_name) is None


@pytest.mark.parametrize(
    ("phyname", "phyid", "phy_u32"),
    [("", -1, 4294967295), ("any", -1, 4294967295), ("IEEE802.11", 0, 0), ("BTLE", 6, 6)],
)
def test_define_phyname(
    shared_server: Server, unique_name: str, phyname: str, phyid: int, phy_u32: int
) -> None:
    record, alert = define_and_raise_once(shared_server, unique_name, phyname=phyname)
    assert record["kismet.alert.definition.phyid"] == phyid
    assert alert["kismet.alert.phy_id"] == phy_u32


@pytest.mark.parametrize("phyname", ["nosuchphy", "ieee802.11", "ANY", "IEEE802.11 "])
def test_define_unknown_phy_is_400(shared_server: Server, unique_name: str, phyname: str) -> None:
    response = shared_server.define(unique_name, phyname=phyname)
    assert response.status_code == 400
    assert error_text(response) == "Invalid request: could not find phy"
    assert definition(shared_server, unique_name) is None


# define_alert: re-definition and conflicts


def test_identical_redefine_is_a_noop(shared_server: Server, unique_name: str) -> None:
    first = shared_server.command(
        DEFINE, {"name": unique_name, "description": "same", "class": "OTHER", "severity": 10}
    )
    assert first.status_code == 200
    assert shared_server.raise_alert(unique_name, "before").status_code == 200
    # Same settings once upper-casing and defaults are applied.
    again = shared_server.command(
        DEFINE,
        {
            "name": unique_name.lower(),
            "description": "same",
            "class": "other",
            "throttle": "10/min",
            "burst": "1/sec",
            "phyname": "any",
        },
    )
    assert again.status_code == 200, again.text
    assert [d["kismet.alert.definition.header"] for d in definitions(shared_server)].count(
        unique_name
    ) == 1
    record = definition(shared_server, unique_name)
    assert record is not None
    # The no-op keeps the throttle state.
    assert record["kismet.alert.definition.total_sent"] == 1


@pytest.mark.parametrize(
    "change",
    [
        {"description": "different"},
        {"severity": 20},
        {"class": "SPOOF"},
        {"throttle": "11/min"},
        {"burst": "2/sec"},
        {"phyname": "IEEE802.11"},
    ],
)
def test_different_redefine_is_409(
    shared_server: Server, unique_name: str, change: dict[str, Any]
) -> None:
    base = {"name": unique_name, "description": "original"}
    assert shared_server.command(DEFINE, base).status_code == 200
    response = shared_server.command(DEFINE, {**base, **change, "name": unique_name.lower()})
    assert response.status_code == 409
    assert error_text(response) == f"Could not define alert: {unique_name} already exists"
    record = definition(shared_server, unique_name)
    assert record is not None
    assert record["kismet.alert.definition.description"] == "original"
    assert record["kismet.alert.definition.severity"] == 10


@pytest.mark.parametrize("name", ["DEAUTHFLOOD", "deauthflood", "ROOTUSER", "NETSTUMBLER"])
def test_builtin_name_conflict_is_409(shared_server: Server, name: str) -> None:
    response = shared_server.define(name, description="mine now")
    assert response.status_code == 409
    assert error_text(response) == f"Could not define alert: {name.upper()} already exists"
    record = definition(shared_server, name.upper())
    assert record is not None
    assert record["kismet.alert.definition.description"] != "mine now"


def test_config_alert_line_rates_win(tmp_path: Path) -> None:
    config = BASE_CONFIG + "alert=CONFIGURED,3/hr,2/min\n"
    with Server(tmp_path, config) as server:
        response = server.define(
            "configured", description="from config", throttle="100/sec", burst="50/sec"
        )
        assert response.status_code == 200, response.text
        record = definition(server, "CONFIGURED")
        assert record is not None
        assert rates_of(record) == (2, 3, 1, 2)
        # Re-defining with other requested rates is identical once config rates apply.
        again = server.define("CONFIGURED", description="from config", throttle="9/min")
        assert again.status_code == 200, again.text
        # The config rates are enforced: 2 per minute.
        assert server.raise_alert("CONFIGURED", "one").status_code == 200
        assert server.raise_alert("CONFIGURED", "two").status_code == 200
        third = server.raise_alert("CONFIGURED", "three")
        assert third.status_code == 429
        assert [a["kismet.alert.text"] for a in mine(server, "CONFIGURED")] == ["one", "two"]


def test_name_length_limit_is_64(shared_server: Server, unique_name: str) -> None:
    longest = (unique_name + "_" + "X" * 64)[:64]
    assert shared_server.define(longest).status_code == 200
    assert definition(shared_server, longest) is not None
    too_long = longest + "Y"
    response = shared_server.define(too_long)
    assert response.status_code == 400
    assert definition(shared_server, too_long) is None


@pytest.mark.parametrize(
    "name",
    ["N" * 65, "HAS SPACE", "", "SLASH/NAME", "QUOTE'NAME", "ÜMLAUT", "TAB\tNAME", "A<B>"],
)
def test_invalid_names_are_400(shared_server: Server, name: str) -> None:
    response = shared_server.define(name)
    assert response.status_code == 400
    assert response.text.startswith("Invalid request: ")
    assert definition(shared_server, name.upper()) is None


def test_name_allows_letters_digits_underscore_dash_dot(
    shared_server: Server, unique_name: str
) -> None:
    name = f"{unique_name}-a.b_9"
    assert shared_server.define(name).status_code == 200
    assert definition(shared_server, name.upper()) is not None


@pytest.mark.parametrize(
    "args",
    [
        {"description": "no name"},
        {"name": "NODESC"},
        {"name": 5, "description": "x"},
        {"name": "BADDESC", "description": 5},
        {"name": "BADCLASS", "description": "x", "class": 5},
        {"name": "BADRATE", "description": "x", "throttle": 10},
        {"name": "BADPHY", "description": "x", "phyname": 0},
    ],
)
def test_define_missing_or_mistyped_key_is_400(shared_server: Server, args: dict[str, Any]) -> None:
    response = shared_server.command(DEFINE, args)
    assert response.status_code == 400
    assert response.text.startswith("Invalid request: ")
    if isinstance(args.get("name"), str):
        assert definition(shared_server, args["name"]) is None


def test_define_posts_an_info_message(shared_server: Server, unique_name: str) -> None:
    assert shared_server.define(unique_name).status_code == 200
    messages = shared_server.get("/messagebus/all_messages.json").json()
    mentioning = [m for m in messages if unique_name in m["kismet.messagebus.message_string"]]
    assert len(mentioning) == 1
    assert mentioning[0]["kismet.messagebus.message_flags"] == 2


# raise_alerts


def test_raise_success_body(shared_server: Server, unique_name: str) -> None:
    assert shared_server.define(unique_name).status_code == 200
    response = shared_server.raise_alert(unique_name, "raised once")
    assert response.status_code == 200
    assert response.text == "Alert raised\n"
    [alert] = mine(shared_server, unique_name)
    assert alert["kismet.alert.text"] == "raised once"


def test_raise_alias_route(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    response = shared_server.command(
        "/alerts/raise_alert.cmd", {"name": unique_name, "text": "via alias"}
    )
    assert response.status_code == 200
    assert response.text == "Alert raised\n"
    assert [a["kismet.alert.text"] for a in mine(shared_server, unique_name)] == ["via alias"]


def test_raise_name_is_case_insensitive(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    mixed = unique_name.lower().capitalize()
    assert shared_server.raise_alert(unique_name.lower(), "lower").status_code == 200
    assert shared_server.raise_alert(mixed, "mixed").status_code == 200
    alerts = mine(shared_server, unique_name)
    assert [a["kismet.alert.text"] for a in alerts] == ["lower", "mixed"]
    assert all(a["kismet.alert.header"] == unique_name for a in alerts)


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("NO_SUCH_ALERT_XYZ", "NO_SUCH_ALERT_XYZ"),
        ("nope<b>bold", "nope&lt;b&gt;bold"),
        ("a<script>&x", "a&lt;script&gt;&amp;x"),
    ],
)
def test_raise_unknown_name(shared_server: Server, name: str, escaped: str) -> None:
    response = shared_server.raise_alert(name, "never")
    assert response.status_code == 400
    assert response.text == (
        f"Invalid request:  Unknown alert type '{escaped}'; "
        "the defined alerts are listed at /alerts/definitions.json\n"
    )


@pytest.mark.parametrize("key", ["bssid", "source", "dest", "other"])
@pytest.mark.parametrize(
    "mac",
    [
        "zz:zz:zz:zz:zz:zz",
        "00:11:22:33:44",
        "00:11:22:33:44:55:66",
        "001:11:22:33:44:55",
        "0011223344",
        "00112233445566",
        "00:11:22:33:44:",
        "garbage",
        "00 11 22 33 44 55",
    ],
)
def test_raise_invalid_mac_is_400(
    shared_server: Server, unique_name: str, key: str, mac: str
) -> None:
    define_fast(shared_server, unique_name)
    response = shared_server.raise_alert(unique_name, "bad mac", **{key: mac})
    assert response.status_code == 400
    assert response.text == BAD_MAC
    assert mine(shared_server, unique_name) == []


def test_raise_non_string_mac_is_400(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    response = shared_server.raise_alert(unique_name, "bad mac", bssid=1234)
    assert response.status_code == 400
    assert mine(shared_server, unique_name) == []


def test_raise_normalises_mac_forms(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    response = shared_server.raise_alert(
        unique_name,
        "macs",
        bssid="0:11:22:3:44:55",
        source="aa-bb-cc-dd-ee-ff",
        dest="  a1b2C3d4e5F6  ",
        other="",
    )
    assert response.status_code == 200, response.text
    [alert] = mine(shared_server, unique_name)
    assert alert["kismet.alert.transmitter_mac"] == "00:11:22:03:44:55"
    assert alert["kismet.alert.source_mac"] == "AA:BB:CC:DD:EE:FF"
    assert alert["kismet.alert.dest_mac"] == "A1:B2:C3:D4:E5:F6"
    assert alert["kismet.alert.other_mac"] == ZERO_MAC


def test_raise_absent_macs_are_zero(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    assert shared_server.raise_alert(unique_name, "no macs", channel="11").status_code == 200
    [alert] = mine(shared_server, unique_name)
    for key in ("transmitter_mac", "source_mac", "dest_mac", "other_mac"):
        assert alert[f"kismet.alert.{key}"] == ZERO_MAC
    assert alert["kismet.alert.channel"] == "11"


@pytest.mark.parametrize(
    "args",
    [
        {"text": "no name"},
        {"name": "{name}"},
        {"name": "{name}", "text": 5},
        {"name": 5, "text": "x"},
    ],
)
def test_raise_missing_or_mistyped_key_is_400(
    shared_server: Server, unique_name: str, args: dict[str, Any]
) -> None:
    define_fast(shared_server, unique_name)
    body = {k: (unique_name if v == "{name}" else v) for k, v in args.items()}
    response = shared_server.command(RAISE, body)
    assert response.status_code == 400
    assert response.text.startswith("Invalid request: ")
    assert mine(shared_server, unique_name) == []


def test_raise_text_limit_is_16_kib(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    longest = "t" * 16384
    assert shared_server.raise_alert(unique_name, longest).status_code == 200
    too_long = shared_server.raise_alert(unique_name, "t" * 16385)
    assert too_long.status_code == 400
    assert too_long.text.startswith("Invalid request: ")
    assert [a["kismet.alert.text"] for a in mine(shared_server, unique_name)] == [longest]


def test_raise_channel_limit_is_64(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    assert shared_server.raise_alert(unique_name, "ok", channel="c" * 64).status_code == 200
    too_long = shared_server.raise_alert(unique_name, "too long", channel="c" * 65)
    assert too_long.status_code == 400
    assert too_long.text.startswith("Invalid request: ")
    assert [a["kismet.alert.channel"] for a in mine(shared_server, unique_name)] == ["c" * 64]


def test_raise_throttled_is_429(shared_server: Server, unique_name: str) -> None:
    assert shared_server.define(unique_name, throttle="1/min", burst="1/min").status_code == 200
    assert shared_server.raise_alert(unique_name, "first").status_code == 200
    second = shared_server.raise_alert(unique_name, "second")
    assert second.status_code == 429
    assert second.text == THROTTLED
    assert second.headers["content-type"] == "text/plain; charset=utf-8"
    assert [a["kismet.alert.text"] for a in mine(shared_server, unique_name)] == ["first"]
    record = definition(shared_server, unique_name)
    assert record is not None
    assert record["kismet.alert.definition.total_sent"] == 1
    messages = shared_server.get("/messagebus/all_messages.json").json()
    assert not any(
        m["kismet.messagebus.message_string"] == f"{unique_name} second" for m in messages
    )


def test_raise_disabled_builtin_is_429(shared_server: Server) -> None:
    before = mine(shared_server, "NETSTUMBLER")
    response = shared_server.raise_alert("NETSTUMBLER", "stumbled")
    assert response.status_code == 429
    assert response.text.startswith(
        "Invalid request: alert NETSTUMBLER is disabled (its rate is 0)"
    )
    after = mine(shared_server, "NETSTUMBLER")
    assert after == before


def test_raise_zero_rate_definition_is_429(shared_server: Server, unique_name: str) -> None:
    assert shared_server.define(unique_name, throttle="0/min", burst="1/sec").status_code == 200
    response = shared_server.raise_alert(unique_name)
    assert response.status_code == 429
    assert response.text.startswith(f"Invalid request: alert {unique_name} is disabled")
    assert mine(shared_server, unique_name) == []


def test_raise_posts_alert_message(shared_server: Server, unique_name: str) -> None:
    define_fast(shared_server, unique_name)
    assert shared_server.raise_alert(unique_name.lower(), "door is open").status_code == 200
    messages = shared_server.get("/messagebus/all_messages.json").json()
    matching = [
        m
        for m in messages
        if m["kismet.messagebus.message_string"] == f"{unique_name} door is open"
    ]
    assert len(matching) == 1
    assert matching[0]["kismet.messagebus.message_flags"] == 8


def test_load_alert_raises_one_shot_system_alert(tmp_path: Path) -> None:
    config = BASE_CONFIG + "load_alert=BOOTNOTE:sensor restarted after power loss\n"
    with Server(tmp_path, config) as server:
        [alert] = mine(server, "BOOTNOTE")
        assert alert["kismet.alert.class"] == "SYSTEM"
        assert alert["kismet.alert.severity"] == 20
        assert alert["kismet.alert.phy_id"] == 4294967295
        assert alert["kismet.alert.text"] == "sensor restarted after power loss"
        assert alert["kismet.alert.channel"] == ""
        for key in ("transmitter_mac", "source_mac", "dest_mac", "other_mac"):
            assert alert[f"kismet.alert.{key}"] == ZERO_MAC
        messages = server.get("/messagebus/all_messages.json").json()
        matching = [
            m
            for m in messages
            if m["kismet.messagebus.message_string"] == "BOOTNOTE sensor restarted after power loss"
        ]
        assert [m["kismet.messagebus.message_flags"] for m in matching] == [8]
