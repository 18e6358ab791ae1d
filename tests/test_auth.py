"""Authentication: Basic, query credentials, session cookies and tokens, /session routes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.server import BASE_CONFIG, PASSWORD, USER, Server, wait_for

# (method, path, form body) for a sample of API routes, readonly and admin.
API_ROUTES: list[tuple[str, str, dict[str, str] | None]] = [
    ("GET", "/alerts/definitions.json", None),
    ("GET", "/alerts/all_alerts.json", None),
    ("GET", "/alerts/last-time/0/alerts.itjson", None),
    ("GET", "/alerts/wrapped/last-time/0/alerts.json", None),
    ("POST", "/alerts/alerts_view.json", {"json": "{}"}),
    ("GET", "/alerts/by-id/1/alert.json", None),
    ("GET", "/messagebus/all_messages.json", None),
    ("GET", "/messagebus/last-time/0/messages.json", None),
    ("GET", "/system/timestamp.json", None),
    ("GET", "/session/check_session", None),
    ("GET", "/session/check_login", None),
    (
        "POST",
        "/alerts/definitions/define_alert.cmd",
        {"json": json.dumps({"name": "NOAUTH_DEFINED", "description": "d"})},
    ),
    (
        "POST",
        "/alerts/raise_alerts.cmd",
        {"json": json.dumps({"name": "ROOTUSER", "text": "raised without login"})},
    ),
    (
        "POST",
        "/alerts/raise_alert.cmd",
        {"json": json.dumps({"name": "ROOTUSER", "text": "raised without login"})},
    ),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in API_ROUTES]


def anonymous(
    srv: Server, method: str, path: str, data: dict[str, str] | None = None, **kwargs: Any
) -> requests.Response:
    """A request from a fresh client: no Basic auth, no cookies unless given."""
    return requests.request(method, srv.url + path, data=data, timeout=10, **kwargs)


def kismet_cookie(response: requests.Response) -> dict[str, str] | None:
    """The KISMET Set-Cookie of a response as {name: value, attribute(lower): value}."""
    for header in response.raw.headers.getlist("set-cookie"):
        name, _, _ = header.partition("=")
        if name.strip() != "KISMET":
            continue
        parts = [p.strip() for p in header.split(";")]
        _, _, token = parts[0].partition("=")
        result = {"KISMET": token}
        for attr in parts[1:]:
            key, _, value = attr.partition("=")
            result[key.strip().lower()] = value.strip()
        return result
    return None


def login_cookie(srv: Server) -> str:
    response = anonymous(srv, "GET", "/system/timestamp.json", auth=(USER, PASSWORD))
    assert response.status_code == 200
    cookie = kismet_cookie(response)
    assert cookie is not None, response.headers
    return cookie["KISMET"]


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server for requests that never send a wrong password (failures are rate limited)."""
    with Server(tmp_path_factory.mktemp("auth-server")) as srv:
        yield srv


# Refusals


@pytest.mark.parametrize(("method", "path", "data"), API_ROUTES, ids=ROUTE_IDS)
def test_no_credentials_is_401(
    auth_server: Server, method: str, path: str, data: dict[str, str] | None
) -> None:
    response = anonymous(auth_server, method, path, data)
    assert response.status_code == 401
    assert response.text.strip(), "401 needs a short plain-text body"
    assert response.headers["content-type"].startswith("text/plain")
    assert kismet_cookie(response) is None


def test_refused_commands_change_nothing(auth_server: Server) -> None:
    before = auth_server.alerts()
    for method, path, data in API_ROUTES:
        if path.endswith(".cmd"):
            anonymous(auth_server, method, path, data)
    assert auth_server.alerts() == before
    headers = [
        d["kismet.alert.definition.header"]
        for d in auth_server.get("/alerts/definitions.json").json()
    ]
    assert "NOAUTH_DEFINED" not in headers


def test_wrong_password_is_401(server: Server) -> None:
    for auth in [
        (USER, PASSWORD + "x"),
        (USER, ""),
        ("someone", PASSWORD),
    ]:
        response = anonymous(server, "GET", "/alerts/all_alerts.json", auth=auth)
        assert response.status_code == 401, auth
        assert kismet_cookie(response) is None
    wrong_query = f"/alerts/all_alerts.json?user={USER}&password=nope"
    assert anonymous(server, "GET", wrong_query).status_code == 401


def test_unknown_session_token_is_401(auth_server: Server) -> None:
    bogus = "0123456789ABCDEF0123456789ABCDEF"
    path = "/session/check_session"
    assert anonymous(auth_server, "GET", path, cookies={"KISMET": bogus}).status_code == 401
    assert anonymous(auth_server, "GET", f"{path}?KISMET={bogus}").status_code == 401
    bearer = {"Authorization": f"Bearer {bogus}"}
    assert anonymous(auth_server, "GET", path, headers=bearer).status_code == 401


# Ways in


def test_basic_auth_works(auth_server: Server) -> None:
    response = anonymous(auth_server, "GET", "/alerts/all_alerts.json", auth=(USER, PASSWORD))
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_query_credentials_work(auth_server: Server) -> None:
    path = f"/alerts/definitions.json?user={USER}&password={PASSWORD}"
    response = anonymous(auth_server, "GET", path)
    assert response.status_code == 200
    assert any(d["kismet.alert.definition.header"] == "ROOTUSER" for d in response.json())


def test_password_login_sets_session_cookie(auth_server: Server) -> None:
    response = anonymous(auth_server, "GET", "/system/timestamp.json", auth=(USER, PASSWORD))
    assert response.status_code == 200
    cookie = kismet_cookie(response)
    assert cookie is not None
    assert cookie["KISMET"], cookie
    assert cookie.get("path") == "/"
    assert "httponly" in cookie
    assert cookie.get("samesite", "").lower() == "strict"


def test_query_credentials_also_get_a_session(auth_server: Server) -> None:
    response = anonymous(
        auth_server, "GET", f"/session/check_session?user={USER}&password={PASSWORD}"
    )
    assert response.status_code == 200
    cookie = kismet_cookie(response)
    assert cookie is not None
    cookies = {"KISMET": cookie["KISMET"]}
    check = anonymous(auth_server, "GET", "/session/check_session", cookies=cookies)
    assert check.status_code == 200


def test_session_cookie_alone_works(auth_server: Server, unique_name: str) -> None:
    token = login_cookie(auth_server)
    cookies = {"KISMET": token}
    response = anonymous(auth_server, "GET", "/alerts/all_alerts.json", cookies=cookies)
    assert response.status_code == 200
    assert kismet_cookie(response) is None  # the session is kept, not replaced
    # An admin command works through the session too.
    define = anonymous(
        auth_server,
        "POST",
        "/alerts/definitions/define_alert.cmd",
        {"json": json.dumps({"name": unique_name, "description": "via cookie"})},
        cookies=cookies,
    )
    assert define.status_code == 200, define.text


def test_session_token_in_query_works(auth_server: Server) -> None:
    token = login_cookie(auth_server)
    response = anonymous(auth_server, "GET", f"/messagebus/all_messages.json?KISMET={token}")
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    assert kismet_cookie(response) is None


def test_session_token_as_bearer_works(auth_server: Server) -> None:
    token = login_cookie(auth_server)
    headers = {"Authorization": f"Bearer {token}"}
    response = anonymous(auth_server, "GET", "/session/check_session", headers=headers)
    assert response.status_code == 200
    assert response.text == "Session valid\n"


def test_basic_with_valid_session_gets_no_new_cookie(auth_server: Server) -> None:
    token = login_cookie(auth_server)
    response = anonymous(
        auth_server,
        "GET",
        "/alerts/all_alerts.json",
        auth=(USER, PASSWORD),
        cookies={"KISMET": token},
    )
    assert response.status_code == 200
    assert kismet_cookie(response) is None


def test_basic_on_every_request_reuses_one_session(auth_server: Server) -> None:
    """Like kismet-rest: Basic auth on every request, replaying the cookie it was given."""
    with requests.Session() as client:
        client.auth = (USER, PASSWORD)
        first = client.get(auth_server.url + "/alerts/all_alerts.json", timeout=10)
        assert first.status_code == 200
        issued = kismet_cookie(first)
        assert issued is not None
        for _ in range(5):
            response = client.get(auth_server.url + "/alerts/all_alerts.json", timeout=10)
            assert response.status_code == 200
            assert kismet_cookie(response) is None
        assert client.cookies.get("KISMET") == issued["KISMET"]


def test_wrong_password_with_valid_cookie_is_refused(server: Server) -> None:
    token = login_cookie(server)
    response = anonymous(
        server,
        "GET",
        "/alerts/all_alerts.json",
        auth=(USER, "wrong-password"),
        cookies={"KISMET": token},
    )
    assert response.status_code == 401
    wrong_query = f"/alerts/all_alerts.json?user={USER}&password=wrong&KISMET={token}"
    assert anonymous(server, "GET", wrong_query).status_code == 401
    # The session itself is still good.
    assert anonymous(server, "GET", "/session/check_session", cookies={"KISMET": token}).ok


def test_session_expires(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "httpd_session_timeout=1\n") as srv:
        start = time.monotonic()
        token = login_cookie(srv)
        cookies = {"KISMET": token}

        def check() -> int:
            return anonymous(srv, "GET", "/session/check_session", cookies=cookies).status_code

        assert check() == 200
        # Its second is up by 1.3 s after the login was asked for (more on a slow
        # machine: wait_for stretches its timeout); using it does not prolong it.
        wait_for(
            lambda: check() == 401,
            timeout=max(0.0, start + 1.3 - time.monotonic()),
            what="the 1 s session to expire",
        )
        # The password still works and hands out a new session.
        assert login_cookie(srv) != token


def test_failed_logins_are_rate_limited(server: Server) -> None:
    token = login_cookie(server)
    path = "/alerts/all_alerts.json"
    for _ in range(10):
        assert anonymous(server, "GET", path, auth=(USER, "guess")).status_code == 401
    limited = anonymous(server, "GET", path, auth=(USER, "guess"))
    assert limited.status_code == 429
    assert limited.text == "Too many failed logins\n"
    assert "retry-after" in limited.headers
    # Even the right password is held off for now ...
    assert anonymous(server, "GET", path, auth=(USER, PASSWORD)).status_code == 429
    # ... but an existing session keeps working.
    assert anonymous(server, "GET", path, cookies={"KISMET": token}).status_code == 200


# /session routes


def test_check_session_and_check_login(auth_server: Server) -> None:
    session = anonymous(auth_server, "GET", "/session/check_session", auth=(USER, PASSWORD))
    assert (session.status_code, session.text) == (200, "Session valid\n")
    login = anonymous(auth_server, "GET", "/session/check_login", auth=(USER, PASSWORD))
    assert (login.status_code, login.text) == (200, "Login valid\n")
    token = login_cookie(auth_server)
    by_cookie = anonymous(auth_server, "GET", "/session/check_session", cookies={"KISMET": token})
    assert (by_cookie.status_code, by_cookie.text) == (200, "Session valid\n")


def test_check_setup_ok_with_config_login(auth_server: Server) -> None:
    response = anonymous(auth_server, "GET", "/session/check_setup_ok")
    assert response.status_code == 406


def test_check_setup_ok_with_data_dir_login(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        response = anonymous(srv, "GET", "/session/check_setup_ok")
        assert response.status_code == 200


def test_set_password_refused_when_config_fixes_login(server: Server) -> None:
    form = {"username": "admin", "password": "another-password"}
    response = anonymous(server, "POST", "/session/set_password", form, auth=(USER, PASSWORD))
    assert response.status_code == 403
    assert anonymous(server, "GET", "/session/check_login", auth=(USER, PASSWORD)).ok
    refused = anonymous(server, "GET", "/session/check_login", auth=("admin", "another-password"))
    assert refused.status_code == 401


def _generated_login(srv: Server) -> tuple[str, str]:
    match = re.search(r"password[\s:'\"=]*([A-Za-z0-9_\-]{8,})", srv.stdout())
    assert match, srv.stdout()
    return "admin", match.group(1)


def test_set_password_needs_admin_login(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        form = {"username": "admin", "password": "brand-new-password"}
        response = anonymous(srv, "POST", "/session/set_password", form)
        assert response.status_code == 401
        # Nothing changed: the generated password still works, the new one does not.
        login = _generated_login(srv)
        assert anonymous(srv, "GET", "/session/check_login", auth=login).status_code == 200
        other = ("admin", "brand-new-password")
        assert anonymous(srv, "GET", "/session/check_login", auth=other).status_code == 401


@pytest.mark.parametrize(
    "form",
    [{"username": "admin"}, {"password": "pw-only-123"}, {}],
    ids=["no-pw", "no-user", "none"],
)
def test_set_password_missing_field_is_400(tmp_path: Path, form: dict[str, str]) -> None:
    with Server(tmp_path, config=None) as srv:
        login = _generated_login(srv)
        response = anonymous(srv, "POST", "/session/set_password", form, auth=login)
        assert response.status_code == 400
        assert anonymous(srv, "GET", "/session/check_login", auth=login).status_code == 200


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"username": "ad:min", "password": "brand-new-password"}, "without ':'"),
        ({"username": "admin", "password": "short"}, "at least 12 characters"),
        ({"username": "admin", "password": "p" * 2000}, "at most 1024 characters"),
    ],
    ids=["colon", "short", "huge"],
)
def test_set_password_refuses_a_login_no_one_could_use(
    tmp_path: Path, form: dict[str, str], reason: str
) -> None:
    with Server(tmp_path, config=None) as srv:
        login = _generated_login(srv)
        response = anonymous(srv, "POST", "/session/set_password", form, auth=login)
        assert response.status_code == 400
        assert reason in response.text and response.text.count("\n") == 1
        assert anonymous(srv, "GET", "/session/check_login", auth=login).status_code == 200


def test_set_password_changes_the_login(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        old = _generated_login(srv)
        form = {"username": "operator", "password": "brand-new-password"}
        response = anonymous(srv, "POST", "/session/set_password", form, auth=old)
        assert response.status_code == 200
        assert response.text == "Login configured\n"
        new = ("operator", "brand-new-password")
        check = anonymous(srv, "GET", "/session/check_login", auth=new)
        assert (check.status_code, check.text) == (200, "Login valid\n")
        assert anonymous(srv, "GET", "/session/check_setup_ok").status_code == 200
    # The change is kept in the data directory: a restarted server (nothing cached) agrees.
    with Server(tmp_path, config=None) as again:
        assert anonymous(again, "GET", "/session/check_login", auth=new).status_code == 200
        assert anonymous(again, "GET", "/session/check_login", auth=old).status_code == 401
        assert "brand-new-password" not in again.stdout()
