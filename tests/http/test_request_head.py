"""The request head (request line and headers) is bounded: an endless URL or header
gets 414 or 431 and the connection is closed, instead of growing the server's memory
(kisalert.http.protocol)."""

from __future__ import annotations

import base64

import requests

from kisalert.http.protocol import MAX_HEAD
from tests.http.helpers import exchange
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


def test_the_server_goes_on_serving(shared_server: Server) -> None:
    exchange(shared_server, b"GET /", more=4 * MAX_HEAD)
    assert shared_server.get("/system/timestamp.json").status_code == 200


def test_a_long_url_under_the_limit_is_served(shared_server: Server) -> None:
    pad = "x" * (MAX_HEAD - 2048)
    response = shared_server.get(f"/alerts/all_alerts.json?pad={pad}")
    assert response.status_code == 200, response.text[:200]


def test_the_limit_is_per_request_on_a_keep_alive_connection(shared_server: Server) -> None:
    """Many requests on one connection, together far over the limit, each under it."""
    with requests.Session() as session:
        session.headers["X-Pad"] = "p" * 4096
        session.auth = (USER, PASSWORD)
        for _ in range(4 * MAX_HEAD // 4096):
            response = session.get(shared_server.url + "/system/timestamp.json", timeout=10)
            assert response.status_code == 200
