"""The access log (`--access-log`, `access_log=`): a line per request, in the Common Log
Format or as JSON lines, with no credential in it."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests
from websockets.sync.client import connect

from kisalert.config import check
from kisalert.http.accesslog import MAX_BUFFER, AccessLog
from tests.server import BASE_CONFIG, PASSWORD, USER, Server, free_port, wait_for
from tests.test_eventbus import LOGIN, api_key, ws_url

# host ident authuser [date] "request" status bytes
COMMON = re.compile(
    r"^(?P<host>\S+) - (?P<user>\S+) \[(?P<date>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-)$'
)


def common(line: str) -> dict[str, str]:
    """The fields of a Common Log Format line."""
    match = COMMON.match(line)
    assert match, line
    return match.groupdict()


def lines_of(path: Path, count: int) -> list[str]:
    """The log's lines, once it has at least `count` (it is written every second)."""

    def enough() -> list[str] | None:
        found = path.read_text().splitlines() if path.exists() else []
        return found if len(found) >= count else None

    result: list[str] = wait_for(enough, what=f"{count} access log lines")
    return result


def some_requests(server: Server) -> dict[str, requests.Response]:
    """A few kinds of request, each on its own connection; the answers."""
    answers = {
        "read": requests.get(
            server.url + "/alerts/all_alerts.json", auth=(USER, PASSWORD), timeout=10
        ),
        "missing": requests.get(server.url + "/no/such/page", timeout=10),
        "refused": requests.get(server.url + "/alerts/all_alerts.json", timeout=10),
        "define": requests.post(
            server.url + "/alerts/definitions/define_alert.cmd",
            data={"json": json.dumps({"name": "ACCESSLOG", "description": "d"})},
            auth=(USER, PASSWORD),
            timeout=10,
        ),
    }
    assert [answer.status_code for answer in answers.values()] == [200, 404, 401, 200]
    with connect(ws_url(server, LOGIN)) as websocket:
        websocket.send('{"SUBSCRIBE": "TIMESTAMP"}')
        websocket.recv(timeout=10)
    return answers


def test_common_log_format(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    with Server(tmp_path, extra_args=["--access-log", str(log)]) as server:
        answers = some_requests(server)
        lines = lines_of(log, 5)
    assert len(lines) == 5
    fields = [common(line) for line in lines]
    assert {field["host"] for field in fields} == {"127.0.0.1"}
    read, missing, refused, define, websocket = fields
    assert read["user"] == USER
    assert read["request"] == "GET /alerts/all_alerts.json HTTP/1.1"
    assert (read["status"], read["bytes"]) == ("200", str(len(answers["read"].content)))
    assert (missing["user"], missing["request"]) == ("-", "GET /no/such/page HTTP/1.1")
    assert (missing["status"], missing["bytes"]) == ("404", str(len(answers["missing"].content)))
    assert (refused["user"], refused["status"]) == ("-", "401")
    assert define["request"] == "POST /alerts/definitions/define_alert.cmd HTTP/1.1"
    assert (define["user"], define["status"]) == (USER, "200")
    # Logged when the connection ends; what went through it is not counted.
    assert websocket["request"] == f"GET /eventbus/events.ws?{LOGIN_REDACTED} HTTP/1.1"
    assert (websocket["user"], websocket["status"], websocket["bytes"]) == (USER, "101", "-")


LOGIN_REDACTED = f"user={USER}&password=REDACTED"


def test_sighup_after_a_rotation_starts_a_new_file(tmp_path: Path) -> None:
    """logrotate renames the log, then sends SIGHUP: lines from then on go to a new
    file at the configured path; the renamed one keeps what came before."""
    log = tmp_path / "access.log"
    with Server(tmp_path, extra_args=["--access-log", str(log)]) as server:
        server.get("/before-rotation")
        assert "/before-rotation" in lines_of(log, 1)[-1]
        rotated = log.rename(tmp_path / "access.log.1")
        server.proc.send_signal(signal.SIGHUP)
        # The new file is opened after what was waiting went to the old one.
        wait_for(log.exists, what="the access log opened again")
        server.get("/after-rotation")
        [after] = lines_of(log, 1)
        assert "/after-rotation" in after
        assert server.get("/system/timestamp.json").status_code == 200
    assert "/after-rotation" not in rotated.read_text()
    assert log.stat().st_mode & 0o777 == 0o600


def test_json_lines_to_standard_output(tmp_path: Path) -> None:
    extra = ["--access-log", "-", "--log-format", "json"]
    with Server(tmp_path, extra_args=extra) as server:
        answers = some_requests(server)

        def logged() -> list[dict[str, Any]] | None:
            found = [json.loads(line) for line in server.stdout().splitlines() if line[:1] == "{"]
            return found if len(found) >= 5 else None

        entries: list[dict[str, Any]] = wait_for(logged, what="5 JSON lines on stdout")
    read, missing, refused, define, websocket = entries
    for entry in entries:
        assert set(entry) == {
            "time", "client", "user", "method", "path", "status", "bytes", "duration",
        }  # fmt: skip
        assert entry["client"] == "127.0.0.1"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])
        assert 0 <= entry["duration"] < 10
    assert read == {
        **read,
        "user": USER,
        "method": "GET",
        "path": "/alerts/all_alerts.json",
        "status": 200,
        "bytes": len(answers["read"].content),
    }
    assert (missing["user"], missing["path"], missing["status"]) == (None, "/no/such/page", 404)
    assert (refused["user"], refused["status"]) == (None, 401)
    assert (define["method"], define["user"], define["status"]) == ("POST", USER, 200)
    assert websocket["path"] == f"/eventbus/events.ws?{LOGIN_REDACTED}"
    assert (websocket["status"], websocket["bytes"]) == (101, None)


def test_no_credential_reaches_the_log(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    with Server(tmp_path, extra_args=["--access-log", str(log)]) as server:
        url = server.url + "/system/timestamp.json"
        # Basic auth; its answer sets a session cookie.
        basic = requests.get(url, auth=(USER, PASSWORD), timeout=10)
        assert basic.status_code == 200
        session = basic.cookies.get("KISMET")
        assert session
        # user= and password= in the query string, and a wrong password too.
        assert requests.get(url, params={"user": USER, "password": PASSWORD}, timeout=10).ok
        wrong = "not-the-pass-Wrd-42"
        query = {"user": USER, "password": wrong}
        assert requests.get(url, params=query, timeout=10).status_code == 401
        # The session as a cookie and as ?KISMET=; an API key as a bearer token and
        # as ?KISMET= too.
        assert requests.get(url, cookies={"KISMET": session}, timeout=10).ok
        assert requests.get(url, params={"KISMET": session}, timeout=10).ok
        key_name, key = api_key(server, role="readonly")
        assert requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10).ok
        assert requests.get(url + f"?KISMET={key}&x=1", timeout=10).ok
        # A password change whose command dictionary travels in the query string
        # (refused, 403, as the login is fixed in the config file).
        change = json.dumps({"username": USER, "password": "new-Secret-99"})
        requests.post(
            server.url + "/session/set_password",
            params={"json": change},
            auth=(USER, PASSWORD),
            timeout=10,
        )
        text = "\n".join(lines_of(log, 9))
    basic_header = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for secret in (PASSWORD, wrong, session, key, basic_header, "new-Secret-99"):
        assert secret not in text
    assert f"user={USER}&password=REDACTED" in text
    assert "KISMET=REDACTED&x=1" in text
    users = [common(line)["user"] for line in text.splitlines()]
    assert users.count(key_name) == 2  # the API key by its name
    assert users.count("-") == 2  # the wrong password, and the password change


def test_config_keys(tmp_path: Path) -> None:
    """access_log= (relative to the config file) and access_log_format=json; behind a
    trusted proxy, the client X-Forwarded-For names."""
    config = (
        BASE_CONFIG
        + "access_log=logs/access.json\naccess_log_format=json\nhttpd_trusted_proxies=127.0.0.1\n"
    )
    (tmp_path / "logs").mkdir()
    with Server(tmp_path, config) as server:
        forwarded = {"X-Forwarded-For": "203.0.113.7"}
        assert requests.get(server.url + "/healthz", headers=forwarded, timeout=10).ok
        (line,) = lines_of(tmp_path / "logs" / "access.json", 1)
    entry = json.loads(line)
    assert (entry["path"], entry["client"]) == ("/healthz", "203.0.113.7")
    assert (tmp_path / "logs" / "access.json").stat().st_mode & 0o777 == 0o600


def test_config_problems_are_reported_with_their_line(tmp_path: Path) -> None:
    config = tmp_path / "kisalert.conf"
    config.write_text("access_log=\naccess_log_format=xml\nmetrics_public=maybe\n")
    errors, _ = check([config])
    assert errors == [
        f"{config}:1: access_log needs a file name, or - for standard output",
        f"{config}:2: access_log_format must be common or json",
        f"{config}:3: metrics_public needs true or false, not 'maybe'",
    ]


def _serve_fails(tmp_path: Path, *flags: str) -> str:
    """Start a server with `flags`, which must stop it: its one line of stderr."""
    data, listen = str(tmp_path / "data"), f"127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "kisalert", "serve", "--data-dir", data, "--listen", listen, *flags],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "listening" not in result.stdout
    return result.stderr


def test_an_access_log_that_cannot_be_opened_stops_the_start(tmp_path: Path) -> None:
    stderr = _serve_fails(tmp_path, "--access-log", str(tmp_path / "missing" / "access.log"))
    assert stderr.startswith("kisalert: cannot open the access log")


def test_a_log_format_without_an_access_log_stops_the_start(tmp_path: Path) -> None:
    """It would do nothing: a user who asked for JSON lines would get no log at all."""
    stderr = _serve_fails(tmp_path, "--log-format", "json")
    assert "--access-log" in stderr


def test_a_log_that_is_not_written_drops_lines_instead_of_growing() -> None:
    """A reader that stops reading (a full pipe) blocks the log's writer thread, never
    the caller; past the buffer's limit lines are dropped and counted, and once the
    reader reads again the log says how many."""
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "wb", buffering=0)
    log = AccessLog(stream)
    scope = {"type": "http", "method": "GET", "path": "/x", "raw_path": b"/x" + b"y" * 1000,
             "query_string": b"", "client": ("127.0.0.1", 5), "http_version": "1.1"}  # fmt: skip
    line_size = 1100
    count = 2 * MAX_BUFFER // line_size
    for _ in range(count):
        log.record(scope, 200, 10, 0.001, time.time())
    assert MAX_BUFFER // line_size // 2 < log.dropped < count
    received = bytearray()

    def read_all() -> None:
        while chunk := os.read(read_end, 1 << 16):
            received.extend(chunk)

    reader = threading.Thread(target=read_all)
    reader.start()
    log.close()
    stream.close()
    reader.join(10)
    lines = bytes(received).splitlines()
    note = b"kisalert: %d access log lines dropped: the log was not written fast enough"
    assert lines[-1] == note % log.dropped
    assert len(lines) == count - log.dropped + 1
