"""`kisalert tail`, `raise`, `define` and `alerts` run as a user runs them, against a
real kisalert server."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import Any, ClassVar

import pytest

from kisalert.client.show import alert_line
from tests.server import PASSWORD, USER, Server, free_port, wait_for
from tests.slack import slack
from tests.test_eventbus import api_key


def client_env(home: Path, server: Server | None = None, **extra: str) -> dict[str, str]:
    """A user's environment: a home of its own (no client config), the server and
    the admin login in the environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KISALERT_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), NO_COLOR="")
    if server is not None:
        env.update(KISALERT_SERVER=server.url, KISALERT_USER=USER, KISALERT_PASSWORD=PASSWORD)
    env.update(extra)
    return env


def kisalert(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kisalert", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=slack(60),
    )


def test_define_raise_and_list(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        env = client_env(tmp_path, server)
        defined = kisalert(
            env, "define", "clienttest", "Raised by the client", "--severity", "high",
            "--throttle", "10/sec", "--burst", "10/sec",
        )  # fmt: skip
        assert (defined.returncode, defined.stdout, defined.stderr) == (
            0,
            "Alert CLIENTTEST defined\n",
            "",
        )
        raised = kisalert(
            env, "raise", "CLIENTTEST", "rogue beacon\x1b[2J", "--bssid", "00:11:22:33:44:55",
            "--channel", "6",
        )  # fmt: skip
        assert (raised.returncode, raised.stdout, raised.stderr) == (0, "", "")

        listed = kisalert(env, "alerts", "--json")
        assert listed.returncode == 0, listed.stderr
        [record] = [
            r
            for r in map(json.loads, listed.stdout.splitlines())
            if r["kismet.alert.header"] == "CLIENTTEST"
        ]
        assert record["kismet.alert.text"] == "rogue beacon\x1b[2J"
        assert record["kismet.alert.severity"] == 15
        assert record["kismet.alert.channel"] == "6"
        assert record in [r for r in server.alerts() if r["kismet.alert.header"] == "CLIENTTEST"]

        # On a terminal (or told so): one coloured line, the text's escape shown, not sent.
        shown = kisalert(env, "alerts", "--since", "1h", "--color", "always").stdout
        [line] = [line for line in shown.splitlines() if "CLIENTTEST" in line]
        assert line.startswith("\033[31m") and line.endswith("\033[0m")
        assert "  HIGH      CLIENTTEST  00:11:22:33:44:55  rogue beacon\\x1b[2J" in line
        plain = kisalert(env, "alerts", "--since", "-3600").stdout
        assert "\033" not in plain and "CLIENTTEST" in plain
        # --since far in the future: nothing newer.
        assert kisalert(env, "alerts", "--since", "4000000000", "--json").stdout == ""


def test_mistakes_are_one_line_and_exit_1(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        env = client_env(tmp_path, server)
        unknown = kisalert(env, "raise", "NOSUCHALERT", "text")
        assert unknown.returncode == 1
        assert unknown.stderr.count("\n") == 1
        assert unknown.stderr.startswith("kisalert: POST http://127.0.0.1:")
        assert "raise_alerts.cmd: 400 Invalid request:  Unknown alert type 'NOSUCHALERT'" in (
            unknown.stderr
        )
        wrong = kisalert({**env, "KISALERT_PASSWORD": "not-the-password"}, "alerts")
        assert wrong.returncode == 1 and ": 401 " in wrong.stderr
        since = kisalert(env, "alerts", "--since", "yesterday")
        assert since.returncode == 1
        assert since.stderr == "kisalert: --since 'yesterday': give 15m, 2h, 1d or a Unix time\n"
    gone = kisalert(client_env(tmp_path), "alerts", "--server", f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 1 and "Connection refused" in gone.stderr


def test_an_api_key_and_a_client_config_file(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        _name, token = api_key(server, "readonly")
        config = tmp_path / ".config" / "kisalert" / "client.conf"
        config.parent.mkdir(parents=True)
        config.write_text(f"server={server.url}\napi_key={token}\n")
        env = client_env(tmp_path)
        assert kisalert(env, "alerts", "--json").returncode == 0
        # A readonly key may read, not raise.
        refused = kisalert(env, "raise", "NOSUCHALERT", "text")
        assert (
            refused.returncode == 1 and ": 401 " in refused.stderr
        ) or ": 403 " in refused.stderr


class Tail:
    """`kisalert tail` in the background; its stdout lines in a queue."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kisalert", "tail", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: Queue[str] = Queue()
        assert self.proc.stdout is not None
        stdout = self.proc.stdout

        def read() -> None:
            for line in stdout:
                self.lines.put(line)

        threading.Thread(target=read, daemon=True).start()

    def line_within(self, seconds: float) -> str | None:
        try:
            return self.lines.get(timeout=seconds)
        except Empty:
            return None

    def stop(self) -> str:
        self.proc.terminate()
        _out, err = self.proc.communicate(timeout=slack(10))
        return err


@pytest.fixture
def tail_env(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    yield tmp_path, free_port()


def test_tail_prints_alerts_as_raised_and_follows_a_restart(tail_env: tuple[Path, int]) -> None:
    workdir, port = tail_env
    server = Server(workdir, port=port)
    env = client_env(workdir, server)
    tail = Tail(env, "--json")
    try:
        server.define("TAILED", throttle="10/sec", burst="10/sec")

        def raised(text: str) -> dict[str, object] | None:
            """The record tail prints for a raise of `text`, or None if it prints none
            within a second (its subscription not yet in place: raise again)."""
            response = server.raise_alert("TAILED", text)
            assert response.status_code == 200, response.text
            while (line := tail.line_within(1.0)) is not None:
                record: dict[str, object] = json.loads(line)
                if record["kismet.alert.text"] == text:
                    return record
            return None

        # The subscription may not be in place for the first raise: raise until one shows.
        first = wait_for(lambda: raised("first"), what="tail to print an alert")
        assert first["kismet.alert.header"] == "TAILED"
        assert server.stop() == 0
        server = Server(workdir, port=port)
        second = wait_for(lambda: raised("after the restart"), what="tail to follow again")
        assert second["kismet.alert.text"] == "after the restart"
    finally:
        err = tail.stop()
        server.stop()
    assert f"kisalert: lost {server.url}" in err and f"following {server.url} again" in err


class Impostor(http.server.BaseHTTPRequestHandler):
    """A server that is not Kismet's kind: odd records, or no list at all."""

    answers: ClassVar[dict[str, bytes]] = {
        "/alerts/all_alerts.json": b'{"kismet.alert.header": "X"}',
        "/alerts/last-time/-60/alerts.json": b'[1, "x"]',
    }

    def do_GET(self) -> None:
        body = self.answers.get(self.path, b"[]")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_an_answer_that_is_no_list_of_records_is_one_line(tmp_path: Path) -> None:
    impostor = http.server.HTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    try:
        server = f"http://127.0.0.1:{impostor.server_port}"
        for args in (["alerts"], ["alerts", "--since", "1m"]):
            answer = kisalert(client_env(tmp_path), *args, "--server", server)
            assert answer.returncode == 1
            said = answer.stderr
            assert said == f"kisalert: {server}: the answer is not a list of alert records\n"
    finally:
        impostor.shutdown()
        impostor.server_close()


def test_a_record_of_the_wrong_shape_prints_and_no_field_reaches_the_terminal_raw() -> None:
    odd: dict[str, Any] = {
        "kismet.alert.timestamp": "soon",
        "kismet.alert.severity": [20],
        "kismet.alert.header": "EVIL\x1b[2J",
        "kismet.alert.transmitter_mac": "\x07AA:BB",
        "kismet.alert.text": "line\nbreak",
    }
    line = alert_line(odd, colour=True)
    assert line == "soon  [20]      EVIL\\x1b[2J  \\x07AA:BB  line\\nbreak"
    assert alert_line({"kismet.alert.timestamp": 1e308}, colour=False).startswith("1e+308  ")
    assert "  INFO  " in alert_line({}, colour=False)
