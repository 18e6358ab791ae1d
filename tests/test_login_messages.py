"""What a 401 says (issue 13, item 13), over a real server: why the login failed, in
one line, without telling which keys or users exist. Status codes are unchanged."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websockets
from websockets.exceptions import InvalidStatus

from tests.server import BASE_CONFIG, PASSWORD, TRANSPORTS, USER, Server, via

PATH = "/alerts/all_alerts.json"
TEXT_TYPE = "text/plain; charset=utf-8"
MISSING = (
    "Login required: send HTTP Basic auth, an API key (Authorization: Bearer)"
    " or the KISMET session cookie\n"
)
REFUSED = "Login required: the API key or session is unknown, revoked or expired\n"
UNREADABLE = (
    "Login required: unreadable Authorization header;"
    " send Basic <base64 of user:password> or Bearer <API key>\n"
)
WRONG = "Login failed: wrong user name or password\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    config = BASE_CONFIG + "httpd_session_timeout=1\n"
    with Server(tmp_path_factory.mktemp("login-messages"), config) as server:
        yield server


def refused(server: Server, path: str = PATH, **kwargs: Any) -> str:
    """The body of a 401 for a request without the server's session."""
    response = requests.get(server.url + path, timeout=10, **kwargs)
    assert response.status_code == 401, (response.status_code, response.text)
    assert response.headers["content-type"] == TEXT_TYPE
    assert "www-authenticate" not in response.headers  # as before: no browser prompt
    return response.text


def api_key(server: Server, name: str, duration: int = 0) -> str:
    response = server.command(
        "/auth/apikey/generate.cmd", {"name": name, "role": "readonly", "duration": duration}
    )
    assert response.status_code == 200, response.text
    return response.text.strip()


def test_no_credentials_say_how_to_log_in(server: Server) -> None:
    assert refused(server) == MISSING
    assert refused(server, "/session/check_session") == MISSING


@pytest.mark.parametrize("how", TRANSPORTS)
def test_an_unknown_token_says_so(server: Server, how: str) -> None:
    assert refused(server, **via(how, "0123456789ABCDEF0123456789ABCDEF")) == REFUSED
    assert refused(server, **via(how, "not even hex")) == REFUSED


@pytest.mark.parametrize("how", TRANSPORTS)
def test_a_revoked_key_says_the_same(server: Server, how: str) -> None:
    name = f"revoked-{how}"
    token = api_key(server, name)
    assert requests.get(server.url + PATH, timeout=10, **via(how, token)).status_code == 200
    revoked = server.command("/auth/apikey/revoke.cmd", {"name": name})
    assert revoked.status_code == 200, revoked.text
    assert refused(server, **via(how, token)) == REFUSED


def test_an_expired_session_or_key_says_the_same(server: Server) -> None:
    login = requests.get(server.url + PATH, auth=(USER, PASSWORD), timeout=10)
    session = login.cookies["KISMET"]
    key = api_key(server, "expiring", duration=1)
    time.sleep(1.5)  # both live 1 s
    assert refused(server, cookies={"KISMET": session}) == REFUSED
    assert refused(server, **via("bearer", key)) == REFUSED


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!",
        "Basic dXNlcm5vY29sb24=",
        "Digest username=x",
        "Bearer ",
        "x",
        "Basic \xe9",  # a byte above 0x7F: a 500 and a traceback, without a login
        "Basic YWRt\xffaW46eA==",
    ],
)
def test_an_unreadable_authorization_header_says_so(server: Server, authorization: str) -> None:
    assert refused(server, headers={"Authorization": authorization}) == UNREADABLE
    url = server.url.replace("http://", "ws://") + "/eventbus/events.ws"

    async def handshake() -> int:
        try:
            async with websockets.connect(
                url, open_timeout=10, additional_headers={"Authorization": authorization}
            ):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    if authorization.isascii():  # the websockets client sends ASCII headers only
        assert asyncio.run(handshake()) == 401


def test_a_password_beyond_ascii_works_in_utf8_and_in_latin1(tmp_path: Path) -> None:
    """curl sends UTF-8; python-requests (and kismet-rest) Latin-1."""
    password = "grüße-aus-köln-2026"
    with Server(tmp_path, f"httpd_username={USER}\nhttpd_password={password}\n") as server:
        for encoding in ("utf-8", "latin-1"):
            token = base64.b64encode(f"{USER}:{password}".encode(encoding)).decode()
            response = requests.get(
                server.url + PATH, headers={"Authorization": f"Basic {token}"}, timeout=10
            )
            assert response.status_code == 200, (encoding, response.text)
        assert requests.get(server.url + PATH, auth=(USER, password), timeout=10).ok


def test_wrong_user_and_wrong_password_read_alike(server: Server) -> None:
    wrong_password = refused(server, auth=(USER, "not the password"))
    wrong_user = refused(server, auth=("nobody", PASSWORD))
    wrong_query = refused(server, f"{PATH}?user=nobody&password=x")
    assert wrong_password == wrong_user == wrong_query == WRONG


def test_the_eventbus_handshake_says_the_same(server: Server) -> None:
    async def body(query: str) -> str:
        url = server.url.replace("http://", "ws://") + "/eventbus/events.ws" + query
        try:
            async with websockets.connect(url, open_timeout=10):
                pass
        except InvalidStatus as exc:
            assert exc.response.status_code == 401
            return bytes(exc.response.body or b"").decode()
        raise AssertionError("handshake accepted")

    assert asyncio.run(body("")) == MISSING
    assert asyncio.run(body("?KISMET=0123456789ABCDEF0123456789ABCDEF")) == REFUSED


def test_a_command_refused_for_login_changes_nothing(server: Server) -> None:
    args = {"json": json.dumps({"name": "NEVER_DEFINED", "description": "d"})}
    response = requests.post(
        server.url + "/alerts/definitions/define_alert.cmd", data=args, timeout=10
    )
    assert (response.status_code, response.text) == (401, MISSING)
    names = [
        d["kismet.alert.definition.header"] for d in server.get("/alerts/definitions.json").json()
    ]
    assert "NEVER_DEFINED" not in names
