"""/system/timestamp: the server clock clients compute relative times from."""

from __future__ import annotations

import json
import time

import requests

from tests.server import Server

SEC = "kismet.system.timestamp.sec"
USEC = "kismet.system.timestamp.usec"


def test_timestamp_is_the_server_clock(shared_server: Server) -> None:
    before = time.time()
    response = shared_server.get("/system/timestamp.json")
    after = time.time()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == [SEC, USEC]
    assert isinstance(body[SEC], int)
    assert isinstance(body[USEC], int)
    assert 0 <= body[USEC] < 1_000_000
    server_time = body[SEC] + body[USEC] / 1e6
    assert before - 1 <= server_time <= after + 1


def test_timestamp_advances(shared_server: Server) -> None:
    first = shared_server.get("/system/timestamp.json").json()
    time.sleep(0.05)
    second = shared_server.get("/system/timestamp.json").json()
    assert (second[SEC], second[USEC]) > (first[SEC], first[USEC])


def test_timestamp_formats(shared_server: Server) -> None:
    it = shared_server.get("/system/timestamp.itjson")
    assert it.status_code == 200
    assert it.text.endswith("\n") and it.text.count("\n") == 1
    assert list(json.loads(it.text)) == [SEC, USEC]

    ek = shared_server.get("/system/timestamp.ekjson")
    assert list(json.loads(ek.text)) == [SEC.replace(".", "_"), USEC.replace(".", "_")]

    pretty = shared_server.get("/system/timestamp.prettyjson").json()
    assert f"description.{SEC}" in pretty and f"description.{USEC}" in pretty
    assert abs(pretty[SEC] - time.time()) < 3


def test_timestamp_fields(shared_server: Server) -> None:
    response = shared_server.get(
        "/system/timestamp.json", params={"json": json.dumps({"fields": [[SEC, "now"]]})}
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["now"]
    assert abs(body["now"] - time.time()) < 3


def test_timestamp_needs_login_and_get(shared_server: Server) -> None:
    anonymous = requests.get(shared_server.url + "/system/timestamp.json", timeout=10)
    assert anonymous.status_code == 401
    assert shared_server.post("/system/timestamp.json").status_code == 405
    assert shared_server.get("/system/timestamp.xml").status_code == 404
