"""`regex_all` on the alert routes: the console's filters, every rule required."""

from __future__ import annotations

import json

from tests.http.helpers import define_fast, raise_ok
from tests.server import Server


def test_regex_all_narrows_alerts_view_and_all_alerts(
    shared_server: Server, unique_name: str
) -> None:
    high, low = unique_name + "_HIGH", unique_name + "_LOW"
    define_fast(shared_server, high, severity=15, **{"class": "DENIAL"})
    define_fast(shared_server, low, severity=5, **{"class": "DENIAL"})
    raise_ok(shared_server, high, "one", channel="6")
    raise_ok(shared_server, high, "two", channel="11")
    raise_ok(shared_server, low, "three", channel="6")
    mine = ["kismet.alert.header", f"^{unique_name}_"]
    every = {
        "regex_all": [mine, ["kismet.alert.severity", "^HIGH$"], ["kismet.alert.channel", "^6$"]]
    }
    fields = ["kismet.alert.text"]

    rows = shared_server.command("/alerts/all_alerts.json", {**every, "fields": fields}).json()
    assert rows == [{"kismet.alert.text": "one"}]

    page = shared_server.post(
        "/alerts/alerts_view.json",
        params={"page": "0", "length": "10", "sort": "kismet.alert.text", "sort_dir": "asc"},
        data={"json": json.dumps({**every, "fields": fields})},
    ).json()
    assert page["data"] == [{"kismet.alert.text": "one"}]
    assert page["last_row"] == 1

    # With `regex` (any of its rules) beside it: both must hold.
    both = {
        "regex_all": [mine, ["kismet.alert.class", "^DENIAL$"]],
        "regex": [["kismet.alert.text", "^two$"], ["kismet.alert.text", "^three$"]],
        "fields": fields,
    }
    rows = shared_server.command("/alerts/all_alerts.json", both).json()
    assert rows == [{"kismet.alert.text": "two"}, {"kismet.alert.text": "three"}]


def test_a_malformed_regex_all_is_400(shared_server: Server) -> None:
    response = shared_server.command("/alerts/alerts_view.json", {"regex_all": "HIGH"})
    assert response.status_code == 400
    assert response.text == "Invalid regex: regex_all must be an array of [field, pattern] pairs\n"
