"""The request head (request line and headers) is bounded: an endless URL or header
gets 414 or 431 and the connection is closed, instead of growing the server's memory
(kisalert.http.protocol)."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote

import requests

from kisalert.http.protocol import MAX_HEAD
from tests.http.helpers import define_fast, exchange, mine_regex, raise_ok
from tests.server import PASSWORD, USER, Server

AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def test_an_endless_url_is_414(shared_server: Server) -> None:
    answer = exchange(shared_server, b"GET /alerts/all_alerts.json?pad=", more=8 * MAX_HEAD)
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 414 URI Too Long"
    body = rest.split(b"\r\n\r\n", 1)[1]
    assert body == b"Request URI too long (limit 64 KiB)\n"


def test_an_endless_header_is_431(shared_server: Server) -> None:
    head = b"GET /alerts/all_alerts.json HTTP/1.1\r\nHost: x\r\nX-Pad: "
    answer = exchange(shared_server, head, more=8 * MAX_HEAD)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:80]
    assert answer.endswith(b"Request headers too large (limit 64 KiB)\n")


def server_time(response: requests.Response) -> int:
    """The whole seconds of a /system/timestamp.json answer, checked to be one."""
    assert response.status_code == 200, response.text[:200]
    body = response.json()
    assert list(body) == ["kismet.system.timestamp.sec", "kismet.system.timestamp.usec"]
    assert 0 <= body["kismet.system.timestamp.usec"] < 1_000_000
    seconds: int = body["kismet.system.timestamp.sec"]
    return seconds


def test_the_server_goes_on_serving(shared_server: Server) -> None:
    exchange(shared_server, b"GET /", more=4 * MAX_HEAD)
    before = int(time.time())
    seconds = server_time(shared_server.get("/system/timestamp.json"))
    assert before <= seconds <= time.time()


def test_a_long_url_under_the_limit_is_served(shared_server: Server, unique_name: str) -> None:
    """The command at the end of a long URL is read: the whole URL was."""
    define_fast(shared_server, unique_name)
    raise_ok(shared_server, unique_name, "long url")
    args = {"regex": mine_regex(unique_name), "fields": [["kismet.alert.text", "t"]]}
    pad = "x" * (MAX_HEAD - 2048)
    response = shared_server.get(
        f"/alerts/all_alerts.json?pad={pad}&json=" + quote(json.dumps(args), safe="")
    )
    assert response.status_code == 200, response.text[:200]
    assert response.json() == [{"t": "long url"}]


def test_the_limit_is_per_request_on_a_keep_alive_connection(shared_server: Server) -> None:
    """Many requests on one connection, together far over the limit, each under it."""
    with requests.Session() as session:
        session.headers["X-Pad"] = "p" * 4096
        session.auth = (USER, PASSWORD)
        for _ in range(4 * MAX_HEAD // 4096):
            server_time(session.get(shared_server.url + "/system/timestamp.json", timeout=10))
