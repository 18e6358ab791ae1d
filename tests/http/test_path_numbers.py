"""Numbers taken from a request (path timestamps, alert ids, paging variables) of any
size or sign get the spec's answer, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.helpers import define_fast, mine, raise_ok
from tests.records import only
from tests.server import Server

LAST_TIME = "/alerts/last-time/{}/alerts.json"
WRAPPED = "/alerts/wrapped/last-time/{}/alerts.json"
MESSAGES = "/messagebus/last-time/{}/messages.json"

FAR_FUTURE = ["1e308", "1.7976931348623157e308", "1e20", "9" * 300 + ".5"]
FAR_PAST = ["-1e308", "-1e303", "-1e20", "-" + "9" * 300]

# Numbers no uint32 alert id can be: just past 2**32-1, past int64 (SQLite), past
# Python's 4 300-digit int() limit.
IMPOSSIBLE_IDS = [
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1" * 4301,
    "9" * 6000,
]


def get_json(server: Server, path: str, **kwargs: Any) -> Any:
    response = server.get(path, **kwargs)
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()


@pytest.fixture(scope="module")
def raised(shared_server: Server) -> str:
    """A name with two alerts in the shared server's backlog."""
    name = "PATHNUMBERS"
    define_fast(shared_server, name)
    raise_ok(shared_server, name, "first")
    raise_ok(shared_server, name, "second")
    return name


# last-time and wrapped/last-time


@pytest.mark.parametrize("ts", FAR_FUTURE)
def test_last_time_far_future_has_no_alerts(shared_server: Server, raised: str, ts: str) -> None:
    assert get_json(shared_server, LAST_TIME.format(ts)) == []


@pytest.mark.parametrize("ts", FAR_PAST)
def test_last_time_far_past_has_every_alert(shared_server: Server, raised: str, ts: str) -> None:
    alerts = only(get_json(shared_server, LAST_TIME.format(ts)), raised)
    assert [a["kismet.alert.text"] for a in alerts] == ["first", "second"]


@pytest.mark.parametrize("ts", FAR_FUTURE)
def test_wrapped_far_future_has_no_alerts(shared_server: Server, raised: str, ts: str) -> None:
    body = get_json(shared_server, WRAPPED.format(ts))
    assert body["kismet.alert.list"] == []
    # T is still the server's time, usable as the next poll's ts.
    newest = mine(shared_server, raised)[-1]["kismet.alert.timestamp"]
    assert newest <= body["kismet.alert.timestamp"] < 1e11


@pytest.mark.parametrize("ts", FAR_PAST)
def test_wrapped_far_past_has_every_alert(shared_server: Server, raised: str, ts: str) -> None:
    body = get_json(shared_server, WRAPPED.format(ts))
    alerts = only(body["kismet.alert.list"], raised)
    assert [a["kismet.alert.text"] for a in alerts] == ["first", "second"]
    following = get_json(shared_server, WRAPPED.format(repr(body["kismet.alert.timestamp"])))
    assert only(following["kismet.alert.list"], raised) == []


@pytest.mark.parametrize("route", [LAST_TIME, WRAPPED, MESSAGES])
@pytest.mark.parametrize("ts", ["1e999", "-1e999"])
def test_timestamp_beyond_a_double_is_400_empty_object(
    shared_server: Server, route: str, ts: str
) -> None:
    # It reads as an infinity, which the spec answers with 400 like `inf`.
    response = shared_server.get(route.format(ts))
    assert response.status_code == 400
    assert response.text == "{}"


@pytest.mark.parametrize("route", [LAST_TIME, WRAPPED, MESSAGES])
def test_timestamp_in_other_digits_is_400(shared_server: Server, route: str) -> None:
    response = shared_server.get(route.format("\u0661\u0662"))  # Arabic-Indic "12"
    assert response.status_code == 400
    assert response.text == "{}"


@pytest.mark.parametrize("ts", FAR_FUTURE)
def test_messagebus_far_future_has_no_messages(shared_server: Server, ts: str) -> None:
    body = get_json(shared_server, MESSAGES.format(ts))
    assert body["kismet.messagebus.list"] == []


@pytest.mark.parametrize("ts", FAR_PAST)
def test_messagebus_far_past_has_every_message(shared_server: Server, ts: str) -> None:
    body = get_json(shared_server, MESSAGES.format(ts))
    everything = get_json(shared_server, "/messagebus/all_messages.json")
    assert body["kismet.messagebus.list"] == everything != []


# by-id


@pytest.mark.parametrize("alert_id", IMPOSSIBLE_IDS)
def test_by_id_beyond_uint32_is_404_empty_object(shared_server: Server, alert_id: str) -> None:
    response = shared_server.get(f"/alerts/by-id/{alert_id}/alert.json")
    assert response.status_code == 404
    assert response.text == "{}"


def test_by_id_with_many_leading_zeros_finds_the_alert(shared_server: Server, raised: str) -> None:
    target = mine(shared_server, raised)[0]
    padded = "0" * 5000 + str(target["kismet.alert.hash"])
    assert get_json(shared_server, f"/alerts/by-id/{padded}/alert.json") == target


@pytest.mark.parametrize("alert_id", ["+5", "\uff11", "\u0661", "1_0", "-" + "9" * 5000])
def test_by_id_not_plain_ascii_digits_is_400(shared_server: Server, alert_id: str) -> None:
    response = shared_server.get(f"/alerts/by-id/{alert_id}/alert.json")
    assert response.status_code == 400


# alerts_view paging variables


def view(server: Server, args: dict[str, Any], **variables: str) -> Any:
    response = server.command("/alerts/alerts_view.json", args, params=variables)
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()


def test_huge_page_is_past_the_end_so_the_first_page(shared_server: Server, raised: str) -> None:
    first = view(shared_server, {}, page="0", length="1")
    assert view(shared_server, {}, page="1" * 5000, length="1") == first
    assert (
        view(shared_server, {}, page="9" * 30, length="9" * 30)["data"]
        == view(shared_server, {}, page="0", length="0")["data"]
    )


def test_datatables_huge_numbers(shared_server: Server, raised: str) -> None:
    table = {"datatable": True}
    everything = view(shared_server, table)["data"]
    assert view(shared_server, table, start="9" * 5000, length="1")["data"] == []
    assert view(shared_server, table, length="-" + "9" * 30)["data"] == everything
    # draw is echoed as a 64-bit number; a larger one is answered with the nearest.
    assert view(shared_server, table, draw="9" * 30)["draw"] == 2**63 - 1
    assert view(shared_server, table, draw="-" + "9" * 30)["draw"] == -(2**63)
    assert view(shared_server, table, draw=" 7 ")["draw"] == 7


@pytest.mark.parametrize("value", ["1_0", "\u0661", "1.5", "x"])
def test_paging_variable_not_ascii_digits_is_400(shared_server: Server, value: str) -> None:
    response = shared_server.command("/alerts/alerts_view.json", {}, params={"page": value})
    assert response.status_code == 400
    assert response.text == "Invalid request: page must be a number\n"
