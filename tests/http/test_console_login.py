"""The console's login, logout and whoami routes."""

from __future__ import annotations

import itertools
import os

import orjson
import requests

from tests.server import PASSWORD, USER, Server

_keys = itertools.count()


def _key(server: Server, role: str) -> tuple[str, str]:
    name = f"console-key-{next(_keys)}-{os.getpid()}"
    response = server.command(
        "/auth/apikey/generate.cmd", {"name": name, "role": role, "duration": 0}
    )
    assert response.status_code == 200, response.text
    return name, response.text.strip()


def _login(server: Server, **kwargs: object) -> requests.Response:
    return requests.post(server.url + "/session/login", timeout=10, **kwargs)  # type: ignore[arg-type]


def _token(response: requests.Response) -> str:
    token = response.cookies.get("KISMET")
    assert token, response.headers
    return str(token)


def _whoami(server: Server, cookie: str) -> requests.Response:
    return requests.get(server.url + "/session/whoami.json", cookies={"KISMET": cookie}, timeout=10)


def test_a_password_login_gets_a_session_cookie(shared_server: Server) -> None:
    response = _login(shared_server, auth=(USER, PASSWORD))
    assert response.status_code == 200
    assert response.json() == {"name": USER, "role": "admin"}
    cookies = response.headers["set-cookie"]
    assert "HttpOnly" in cookies and "SameSite=strict" in cookies and "Path=/" in cookies
    assert cookies.count("KISMET=") == 1
    token = _token(response)
    assert _whoami(shared_server, token).json() == {"name": USER, "role": "admin"}


def test_an_api_key_login_puts_the_key_in_the_cookie(shared_server: Server) -> None:
    name, token = _key(shared_server, "readonly")
    response = _login(shared_server, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"name": name, "role": "readonly"}
    assert _token(response) == token
    assert _whoami(shared_server, token).json()["role"] == "readonly"


def test_a_login_replaces_the_cookie_the_browser_held(shared_server: Server) -> None:
    _, readonly = _key(shared_server, "readonly")
    response = _login(shared_server, auth=(USER, PASSWORD), cookies={"KISMET": readonly})
    assert response.json()["role"] == "admin"
    assert _token(response) != readonly
    assert _whoami(shared_server, _token(response)).json()["role"] == "admin"


def test_wrong_credentials_are_refused_with_a_reason(shared_server: Server) -> None:
    response = _login(shared_server, auth=(USER, "wrong"))
    assert response.status_code == 401
    assert response.text == "Login failed: wrong user name or password\n"
    assert "set-cookie" not in response.headers
    response = _login(shared_server, headers={"Authorization": "Bearer " + "0" * 32})
    assert response.status_code == 401
    assert _login(shared_server).status_code == 401


def test_whoami_without_a_login_is_401(shared_server: Server) -> None:
    assert requests.get(shared_server.url + "/session/whoami.json", timeout=10).status_code == 401
    assert _whoami(shared_server, "F" * 32).status_code == 401


def test_logout_ends_the_session_and_clears_the_cookie(shared_server: Server) -> None:
    token = _token(_login(shared_server, auth=(USER, PASSWORD)))
    response = requests.post(
        shared_server.url + "/session/logout", cookies={"KISMET": token}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["set-cookie"].startswith("KISMET=;")
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert _whoami(shared_server, token).status_code == 401
    # A new login is a new session, not the one that ended.
    again = _token(_login(shared_server, auth=(USER, PASSWORD)))
    assert again != token
    assert _whoami(shared_server, again).status_code == 200


def test_logout_of_an_api_key_does_not_revoke_the_key(shared_server: Server) -> None:
    _, token = _key(shared_server, "readonly")
    response = requests.post(
        shared_server.url + "/session/logout", cookies={"KISMET": token}, timeout=10
    )
    assert response.status_code == 200
    assert _whoami(shared_server, token).status_code == 200


def test_whoami_answers_in_the_paths_format(shared_server: Server) -> None:
    """Like every `{fmt}` route: the line formats end their line, `prettyjson` is
    indented."""
    url = shared_server.url + "/session/whoami."
    auth = (USER, PASSWORD)
    for fmt in ("ekjson", "itjson"):
        answer = requests.get(url + fmt, auth=auth, timeout=10)
        assert answer.status_code == 200
        assert answer.text.endswith("\n") and answer.text.count("\n") == 1
        assert orjson.loads(answer.text) == {"name": USER, "role": "admin"}
    pretty = requests.get(url + "prettyjson", auth=auth, timeout=10)
    assert pretty.json() == {"name": USER, "role": "admin"} and "\n  " in pretty.text


def test_each_password_login_has_a_session_of_its_own(shared_server: Server) -> None:
    """Two browsers logged in with the password, and a script with Basic auth: a
    logout in one browser ends that browser's session only."""
    script = requests.get(
        shared_server.url + "/system/timestamp.json", auth=(USER, PASSWORD), timeout=10
    )
    script_token = _token(script)
    first = _token(_login(shared_server, auth=(USER, PASSWORD)))
    second = _token(_login(shared_server, auth=(USER, PASSWORD)))
    assert len({first, second, script_token}) == 3
    out = requests.post(
        shared_server.url + "/session/logout", cookies={"KISMET": first}, timeout=10
    )
    assert out.status_code == 200
    assert _whoami(shared_server, first).status_code == 401
    assert _whoami(shared_server, second).status_code == 200
    assert _whoami(shared_server, script_token).status_code == 200
