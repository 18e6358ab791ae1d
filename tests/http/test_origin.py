"""Cross-site requests: a browser page of another origin may not use the login a
browser holds for kisalert (CSRF, and websocket hijacking)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import requests
import websockets
from websockets.exceptions import InvalidStatus

from tests.http.helpers import define_fast
from tests.server import BASE_CONFIG, PASSWORD, USER, Server
from tests.test_cli import printed_password

REFUSED = "Forbidden: cross-site request (this page's origin may not use this server)\n"
EVIL = "http://evil.example"


def _cookie(server: Server) -> dict[str, str]:
    response = requests.post(server.url + "/session/login", auth=(USER, PASSWORD), timeout=10)
    token = response.cookies.get("KISMET")
    assert token, response.headers
    return {"KISMET": str(token)}


def _raise(server: Server, name: str, headers: dict[str, str]) -> requests.Response:
    body = {"json": json.dumps({"name": name, "text": "forged?"})}
    return requests.post(
        server.url + "/alerts/raise_alerts.cmd",
        data=body,
        cookies=_cookie(server),
        headers=headers,
        timeout=10,
    )


def _texts(server: Server, name: str) -> list[str]:
    return [a["kismet.alert.text"] for a in server.alerts() if a["kismet.alert.header"] == name]


def test_a_post_from_another_site_is_refused_and_changes_nothing(
    shared_server: Server, unique_name: str
) -> None:
    define_fast(shared_server, unique_name)
    for headers in (
        {"Origin": EVIL},
        {"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost"},
        {"Origin": "null"},
    ):
        response = _raise(shared_server, unique_name, headers)
        assert (response.status_code, response.text) == (403, REFUSED), headers
    assert _texts(shared_server, unique_name) == []


def test_the_same_origin_and_clients_that_are_not_browsers_pass(
    shared_server: Server, unique_name: str
) -> None:
    define_fast(shared_server, unique_name)
    host = shared_server.url.removeprefix("http://")
    for headers in (
        {"Sec-Fetch-Site": "same-origin", "Origin": shared_server.url},
        {"Origin": shared_server.url, "Host": host},  # an older browser
        {},  # curl, kismet-rest
    ):
        assert _raise(shared_server, unique_name, headers).status_code == 200, headers
    assert len(_texts(shared_server, unique_name)) == 3


def test_basic_credentials_a_browser_cached_are_no_way_around_it(
    shared_server: Server, unique_name: str
) -> None:
    define_fast(shared_server, unique_name)
    response = shared_server.command(
        "/alerts/raise_alerts.cmd",
        {"name": unique_name, "text": "x"},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
    )
    assert response.status_code == 403


def test_an_origin_cors_allows_may_post(tmp_path: Path, unique_name: str) -> None:
    config = BASE_CONFIG + f"httpd_allow_cors=true\nhttpd_allowed_origin={EVIL}\n"
    with Server(tmp_path, config) as server:
        define_fast(server, unique_name)
        allowed = {"Sec-Fetch-Site": "cross-site", "Origin": EVIL}
        assert _raise(server, unique_name, allowed).status_code == 200
        other = {"Sec-Fetch-Site": "cross-site", "Origin": "http://other.example"}
        assert _raise(server, unique_name, other).status_code == 403


def test_set_password_from_another_site_is_refused(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as server:
        password = printed_password(server.stdout())
        response = requests.post(
            server.url + "/session/set_password",
            data={"username": "admin", "password": "hijacked"},
            auth=("admin", password),
            headers={"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
            timeout=10,
        )
        assert (response.status_code, response.text) == (403, REFUSED)
        check = requests.get(
            server.url + "/session/check_login", auth=("admin", password), timeout=10
        )
        assert check.status_code == 200


def _handshake(server: Server, origin: str | None) -> int:
    url = server.url.replace("http://", "ws://") + "/eventbus/events.ws"
    cookie = {"Cookie": f"KISMET={_cookie(server)['KISMET']}"}

    async def main() -> int:
        try:
            async with websockets.connect(
                url,
                origin=origin,  # type: ignore[arg-type]
                additional_headers=cookie,
                open_timeout=10,
            ):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    return asyncio.run(main())


def test_the_eventbus_refuses_a_page_of_another_origin(shared_server: Server) -> None:
    assert _handshake(shared_server, EVIL) == 403
    assert _handshake(shared_server, shared_server.url) == 101
    assert _handshake(shared_server, None) == 101
