"""A config `alert=` line wins over the rates of a definition made over the API, also
when the definition comes back from the log at a restart (compatibility.md #19)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.server import BASE_CONFIG, Server, wait_for

NAME = "ROGUEAP"
MINUTE, SECOND = 1, 0  # limit_unit / burst_unit numbers


def definition(server: Server) -> dict[str, Any]:
    response = server.get("/alerts/definitions.json")
    response.raise_for_status()
    found: dict[str, Any] = next(
        d for d in response.json() if d["kismet.alert.definition.header"] == NAME
    )
    return found


def rates(server: Server) -> tuple[int, int, int, int]:
    record = definition(server)
    return (
        record["kismet.alert.definition.limit_rate"],
        record["kismet.alert.definition.limit_unit"],
        record["kismet.alert.definition.limit_burst"],
        record["kismet.alert.definition.burst_unit"],
    )


def raise_after_burst(server: Server) -> int:
    """Raise once the burst window (1/sec) holds no send, so only the throttle decides."""
    wait_for(
        lambda: definition(server)["kismet.alert.definition.burst_sent"] == 0,
        what="the burst window to empty",
    )
    return server.raise_alert(NAME).status_code


def test_config_rates_win_over_a_definition_recovered_from_the_log(tmp_path: Path) -> None:
    with Server(tmp_path) as first:
        assert first.define(NAME).status_code == 200  # default rates: 10/min, 1/sec
        assert rates(first) == (10, MINUTE, 1, SECOND)
        assert first.raise_alert(NAME).status_code == 200

    with Server(tmp_path, BASE_CONFIG + f"alert={NAME},2/min,1/sec\n") as second:
        assert rates(second) == (2, MINUTE, 1, SECOND)
        # The raise before the restart counts against the configured 2/min.
        assert definition(second)["kismet.alert.definition.total_sent"] == 1
        assert raise_after_burst(second) == 200
        assert raise_after_burst(second) == 429
        # Re-defining as a tool does at start-up is the same definition once the
        # config's rates are applied: a no-op, not a conflict.
        assert second.define(NAME).status_code == 200
        assert rates(second) == (2, MINUTE, 1, SECOND)


def unknown_name_warnings(server: Server) -> tuple[list[str], list[str]]:
    """The start's warnings about alert= names: from stderr, from the messagebus."""
    printed = [line for line in server.stderr().splitlines() if "no built-in alert" in line]
    response = server.get("/messagebus/all_messages.json")
    response.raise_for_status()
    texts = [m["kismet.messagebus.message_string"] for m in response.json()]
    return printed, [text for text in texts if "no built-in alert" in text]


def test_a_start_warns_once_about_each_alert_line_for_an_unknown_name(tmp_path: Path) -> None:
    conf = tmp_path / "kisalert.conf"  # where Server writes its config
    line = f"alert={NAME},2/min,1/sec\n"
    with Server(tmp_path, BASE_CONFIG + line) as first:
        warning = (
            f"{conf}:3: alert={NAME}: no built-in alert of that name, and none defined over "
            "the API; it applies once the alert is defined over the API"
        )
        assert unknown_name_warnings(first) == (
            [f"kisalert: warning: {warning}"],
            [f"Config: {warning}"],
        )
        assert first.define(NAME).status_code == 200
        assert rates(first) == (2, MINUTE, 1, SECOND)

    # ROGUEAP now comes back from the log; the typo of a built-in is still warned.
    with Server(tmp_path, BASE_CONFIG + line + "alert=DEAUTHFLOD,5/min,1/sec\n") as second:
        warning = (
            f"{conf}:4: alert=DEAUTHFLOD: no built-in alert of that name (did you mean "
            "DEAUTHFLOOD?), and none defined over the API; "
            "it applies once the alert is defined over the API"
        )
        assert unknown_name_warnings(second) == (
            [f"kisalert: warning: {warning}"],
            [f"Config: {warning}"],
        )
