"""Login sessions kept in the data directory (store/sessionfile.py): a browser's
cookie outlives a restart, and nothing else than before does."""

from __future__ import annotations

import stat
from pathlib import Path

import requests

from kisalert.auth import Principal
from kisalert.credentials import Session
from kisalert.store.sessionfile import SESSIONS_FILE, SessionFile
from tests.server import BASE_CONFIG, PASSWORD, USER, Server
from tests.test_cli import kisalert, printed_password


def _login(server: Server, user: str = USER, password: str = PASSWORD) -> str:
    response = requests.post(server.url + "/session/login", auth=(user, password), timeout=10)
    assert response.status_code == 200, response.text
    token = response.cookies.get("KISMET")
    assert token
    return str(token)


def _whoami(server: Server, token: str) -> int:
    response = requests.get(
        server.url + "/session/whoami.json", cookies={"KISMET": token}, timeout=10
    )
    return response.status_code


def test_a_session_outlives_a_restart_and_a_logout_stays_out(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG) as server:
        kept, ended = _login(server), _login(server, USER, PASSWORD)
        # The same login gets its one session back: make a second one by logging out.
        requests.post(server.url + "/session/logout", cookies={"KISMET": ended}, timeout=10)
        kept = _login(server)
        assert kept != ended
        port = server.port
    saved = (tmp_path / "data" / SESSIONS_FILE).read_text()
    assert kept not in saved and ended not in saved  # digests only
    assert stat.S_IMODE((tmp_path / "data" / SESSIONS_FILE).stat().st_mode) == 0o600
    with Server(tmp_path, BASE_CONFIG, port=port) as server:
        assert _whoami(server, kept) == 200
        assert _whoami(server, ended) == 401


def test_a_new_password_in_the_config_file_ends_the_old_sessions(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG) as server:
        token = _login(server)
    changed = f"httpd_username={USER}\nhttpd_password=another-password-entirely\n"
    with Server(tmp_path, changed) as server:
        assert _whoami(server, token) == 401
    with Server(tmp_path, BASE_CONFIG) as server:
        # Refused once, it was forgotten: the old password does not bring it back.
        assert _whoami(server, token) == 401
        assert _whoami(server, _login(server)) == 200


def test_kisalert_passwd_while_stopped_ends_the_old_sessions(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as server:
        password = printed_password(server.stdout())
        token = _login(server, "admin", password)
    data = str(tmp_path / "data")
    done = kisalert("passwd", "--data-dir", data, stdin="a-brand-new-password\n")
    assert done.returncode == 0, done.stderr
    with Server(tmp_path, config=None) as server:
        assert _whoami(server, token) == 401
        assert _whoami(server, _login(server, "admin", "a-brand-new-password")) == 200


def test_an_unreadable_session_file_costs_the_sessions_not_the_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / SESSIONS_FILE).write_text("{not json")
    with Server(tmp_path, BASE_CONFIG) as server:
        assert "cannot read the login sessions" in server.stderr()
        assert _whoami(server, _login(server)) == 200


def test_expired_sessions_are_neither_loaded_nor_saved(tmp_path: Path) -> None:
    path = tmp_path / SESSIONS_FILE
    live = (b"\x01" * 32, Session(Principal("admin", "admin"), 2000.0, b"\xaa" * 32))
    dead = (b"\x02" * 32, Session(Principal("key", "readonly"), 1000.0, None))
    SessionFile(path).save([dead, live], now=500.0)
    assert SessionFile(path).load(now=1500.0) == [live]
    SessionFile(path).save([dead, live], now=1500.0)
    assert SessionFile(path).load(now=0.0) == [live]
