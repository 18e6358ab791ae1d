"""An empty `regex` list filters nothing (api.md, "Regex filters"): over HTTP, the
alerts come back as if no `regex` had been given, not as an empty list."""

from __future__ import annotations

import pytest

from tests.http.helpers import define_fast, raise_ok
from tests.server import Server

TEXTS = ["first of three", "second of three", "third of three"]


@pytest.mark.parametrize("body", ["form", "json"])
def test_all_alerts_with_an_empty_regex_returns_every_alert(server: Server, body: str) -> None:
    define_fast(server, "EMPTYREGEX")
    for text in TEXTS:
        raise_ok(server, "EMPTYREGEX", text)
    path = "/alerts/all_alerts.json"
    if body == "form":
        response = server.command(path, {"regex": []})
    else:
        response = server.post(path, json={"regex": []})
    assert response.status_code == 200, response.text
    records = response.json()
    # Every alert the server holds: ours, and ROOTUSER when the server runs as root.
    assert {r["kismet.alert.header"] for r in records} <= {"EMPTYREGEX", "ROOTUSER"}
    assert [
        (r["kismet.alert.header"], r["kismet.alert.text"])
        for r in records
        if r["kismet.alert.header"] == "EMPTYREGEX"
    ] == [("EMPTYREGEX", text) for text in TEXTS]
    assert records == server.alerts()
