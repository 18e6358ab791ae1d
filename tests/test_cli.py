"""The `kisalert` command line: first start, `passwd`, listening, start-up errors, signals."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import pytest
import requests

from tests.server import BASE_CONFIG, PASSWORD, USER, Server, free_port

# The generated password as printed at first start (URL-safe characters, at least 8).
_PRINTED_PASSWORD = re.compile(r"password[\s:'\"=]*([A-Za-z0-9_\-]{8,})")


def kisalert(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a one-shot `kisalert` command (not a server that keeps running)."""
    return subprocess.run(
        [sys.executable, "-m", "kisalert", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=30,
    )


def printed_password(stdout: str) -> str:
    match = _PRINTED_PASSWORD.search(stdout)
    assert match, f"no generated password in the start-up output:\n{stdout}"
    return match.group(1)


def login_status(url: str, user: str, password: str) -> int:
    """Status of an admin-only check with HTTP Basic, from a client with no session."""
    return requests.get(f"{url}/session/check_login", auth=(user, password), timeout=10).status_code


def data_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*") if p.is_file()]


def login_files(data_dir: Path) -> list[Path]:
    """Files of the data directory other than the alert log (storage.md)."""
    return [p for p in data_files(data_dir) if not p.name.startswith("kisalert.kismet")]


@contextmanager
def serving(
    workdir: Path, args: list[str], host: str, port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`kisalert serve ARGS` with no implied --data-dir/--listen, until it accepts on host:port."""
    out = workdir / "serve-stdout.txt"
    err = workdir / "serve-stderr.txt"
    # The child has its own copies of the descriptors: ours are closed at once.
    with out.open("wb") as out_file, err.open("wb") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kisalert", "serve", *args],
            stdout=out_file,
            stderr=err_file,
            env={**os.environ, **(env or {})},
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"server exited {proc.returncode}: {err.read_text()}"
            assert time.monotonic() < deadline, f"server did not start: {err.read_text()}"
            if "listening on" in out.read_text():
                try:
                    with socket.create_connection((host, port), timeout=0.5):
                        break
                except OSError:
                    pass
            time.sleep(0.005)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def assert_one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert "listening on" not in result.stdout
    return lines[0]


def serve_once(*args: str) -> subprocess.CompletedProcess[str]:
    """A `serve` that is expected to fail at start-up (so it returns on its own)."""
    return kisalert("serve", *args)


# First start: the generated admin login


def test_first_start_prints_generated_login_once(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        out = srv.stdout()
        password = printed_password(out)
        assert "admin" in out
        assert out.count(password) == 1
        assert password not in srv.stderr()
        assert login_status(srv.url, "admin", password) == 200
        assert login_status(srv.url, "admin", password + "x") == 401

    with Server(tmp_path, config=None) as again:
        out = again.stdout()
        assert password not in out
        assert "admin" in out  # says whom to log in as
        assert _PRINTED_PASSWORD.search(out) is None
        assert login_status(again.url, "admin", password) == 200


def test_generated_password_is_stored_privately_and_hashed(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        password = printed_password(srv.stdout())
    assert login_files(srv.data_dir), "the login was not stored in the data directory"
    for path in login_files(srv.data_dir):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in data_files(srv.data_dir):
        assert password.encode() not in path.read_bytes(), f"{path} holds the password in clear"


def test_password_shown_after_a_failed_first_start(tmp_path: Path) -> None:
    """A first start that dies (port taken) must not swallow the only showing of the
    generated password: the user would have no way to learn it."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        failed = serve_once("--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}")
    assert failed.returncode != 0
    with Server(tmp_path, config=None) as srv:
        shown = _PRINTED_PASSWORD.search(failed.stdout + failed.stderr + srv.stdout())
        assert shown, "the generated admin password was never shown to the user"
        assert login_status(srv.url, "admin", shown.group(1)) == 200


# kisalert passwd


def test_passwd_from_stdin_changes_running_server_login(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        first = printed_password(srv.stdout())  # never used, so never cached
        result = kisalert("passwd", "--data-dir", str(srv.data_dir), stdin="n3w-Secret-pw\n")
        assert result.returncode == 0, result.stderr
        assert "n3w-Secret-pw" not in result.stdout + result.stderr
        assert login_status(srv.url, "admin", "n3w-Secret-pw") == 200
        assert login_status(srv.url, "admin", first) == 401
        for path in login_files(srv.data_dir):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for path in data_files(srv.data_dir):
            assert b"n3w-Secret-pw" not in path.read_bytes()

    # A fresh process (no cache at all) agrees.
    with Server(tmp_path, config=None) as again:
        assert login_status(again.url, "admin", "n3w-Secret-pw") == 200
        assert login_status(again.url, "admin", first) == 401


def test_passwd_generate_prints_a_working_password(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        first = printed_password(srv.stdout())
        result = kisalert("passwd", "--data-dir", str(srv.data_dir), "--generate")
        assert result.returncode == 0, result.stderr
        generated = printed_password(result.stdout)
        assert generated != first
        assert login_status(srv.url, "admin", generated) == 200
        assert login_status(srv.url, "admin", first) == 401


def test_passwd_refuses_when_config_fixes_the_login(tmp_path: Path) -> None:
    conf = tmp_path / "kisalert.conf"
    conf.write_text(BASE_CONFIG)
    data = tmp_path / "data"
    result = kisalert("passwd", "--config", str(conf), "--data-dir", str(data), "--generate")
    line = assert_one_line_failure(result)
    assert "config" in line.lower()
    assert not data.exists() or login_files(data) == []
    with Server(tmp_path) as srv:  # the configured login is untouched
        assert login_status(srv.url, USER, PASSWORD) == 200


def test_passwd_rejects_an_empty_password(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        first = printed_password(srv.stdout())
        result = kisalert("passwd", "--data-dir", str(srv.data_dir), stdin="\n")
        assert_one_line_failure(result)
        assert login_status(srv.url, "admin", "") == 401
        assert login_status(srv.url, "admin", first) == 200


@pytest.mark.parametrize(
    ("user", "password", "reason"),
    [
        ("a:b", "long-enough-password", "user name must be 1 to 64 printable characters"),
        ("line\tbreak", "long-enough-password", "without ':'"),
        ("u" * 65, "long-enough-password", "user name must be 1 to 64"),
        ("admin", "short", "at least 12 characters"),
        ("admin", "p" * 5000, "at most 1024 characters"),
    ],
    ids=["colon", "control", "long-user", "short", "huge"],
)
def test_passwd_refuses_a_login_no_one_could_use(
    tmp_path: Path, user: str, password: str, reason: str
) -> None:
    """A user name with a colon cannot be sent in Basic auth: the admin would be
    locked out."""
    data = tmp_path / "data"
    result = kisalert("passwd", "--data-dir", str(data), "--user", user, stdin=password + "\n")
    line = assert_one_line_failure(result)
    assert reason in line, line
    assert not data.exists() or login_files(data) == []


def test_data_dir_defaults_to_xdg_data_home(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    env = {"XDG_DATA_HOME": str(xdg), "HOME": str(home)}
    with serving(tmp_path, ["--listen", f"127.0.0.1:{port}"], "127.0.0.1", port, env):
        password = printed_password((tmp_path / "serve-stdout.txt").read_text())
        assert login_status(f"http://127.0.0.1:{port}", "admin", password) == 200
    assert xdg.is_dir()
    stored = data_files(xdg)
    assert stored, "nothing was stored under XDG_DATA_HOME"
    assert all(password.encode() not in p.read_bytes() for p in stored)
    assert data_files(home) == []

    # `passwd` without --data-dir finds the same directory.
    result = kisalert("passwd", "--generate", env=env)
    assert result.returncode == 0, result.stderr
    new = printed_password(result.stdout)
    port = free_port()
    with serving(tmp_path, ["--listen", f"127.0.0.1:{port}"], "127.0.0.1", port, env):
        assert login_status(f"http://127.0.0.1:{port}", "admin", new) == 200


# Where it listens


def test_listen_option_chooses_address_and_port(tmp_path: Path) -> None:
    port = free_port()
    args = ["--data-dir", str(tmp_path / "d"), "--listen", f"127.0.0.2:{port}"]
    conf = tmp_path / "c.conf"
    conf.write_text(BASE_CONFIG)
    with serving(tmp_path, [*args, "--config", str(conf)], "127.0.0.2", port):
        url = f"http://127.0.0.2:{port}"
        assert login_status(url, USER, PASSWORD) == 200
        assert not accepts("127.0.0.1", port)
        assert f"{port}" in (tmp_path / "serve-stdout.txt").read_text()


def test_config_bind_address_and_port(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "c.conf"
    conf.write_text(BASE_CONFIG + f"httpd_bind_address=127.0.0.2\nhttpd_port={port}\n")
    args = ["--data-dir", str(tmp_path / "d"), "--config", str(conf)]
    with serving(tmp_path, args, "127.0.0.2", port):
        assert login_status(f"http://127.0.0.2:{port}", USER, PASSWORD) == 200
        assert not accepts("127.0.0.1", port)


def test_listen_option_overrides_config(tmp_path: Path) -> None:
    config_port, listen_port = free_port(), free_port()
    conf = tmp_path / "c.conf"
    conf.write_text(BASE_CONFIG + f"httpd_bind_address=127.0.0.1\nhttpd_port={config_port}\n")
    args = ["--data-dir", str(tmp_path / "d"), "--config", str(conf)]
    with serving(
        tmp_path, [*args, "--listen", f"127.0.0.1:{listen_port}"], "127.0.0.1", listen_port
    ):
        assert login_status(f"http://127.0.0.1:{listen_port}", USER, PASSWORD) == 200
        assert not accepts("127.0.0.1", config_port)


# Start-up errors: one clear line on stderr, non-zero exit, no traceback


@pytest.mark.parametrize(
    "bad_line",
    ["alert=DEAUTHFLOOD,10/min", "alert=DEAUTHFLOOD,10x/min,1/sec", "alertbacklog=lots"],
)
def test_bad_config_line_names_file_and_line(tmp_path: Path, bad_line: str) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(f"# my config\n{BASE_CONFIG}{bad_line}\n")
    result = serve_once(
        *("--config", str(conf), "--data-dir", str(tmp_path / "d")),
        *("--listen", f"127.0.0.1:{free_port()}"),
    )
    line = assert_one_line_failure(result)
    assert f"{conf}:4" in line


def test_bad_line_in_included_file_names_that_file(tmp_path: Path) -> None:
    inner = tmp_path / "inner.conf"
    inner.write_text("\nalert=FOO\n")
    conf = tmp_path / "main.conf"
    conf.write_text(BASE_CONFIG + "include=inner.conf\n")
    result = serve_once(
        *("--config", str(conf), "--data-dir", str(tmp_path / "d")),
        *("--listen", f"127.0.0.1:{free_port()}"),
    )
    line = assert_one_line_failure(result)
    assert f"{inner}:2" in line


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.conf"
    result = serve_once(
        *("--config", str(missing), "--data-dir", str(tmp_path / "d")),
        *("--listen", f"127.0.0.1:{free_port()}"),
    )
    line = assert_one_line_failure(result)
    assert str(missing) in line


def test_port_already_in_use(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text(BASE_CONFIG)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = serve_once(
            *("--config", str(conf), "--data-dir", str(tmp_path / "d")),
            *("--listen", f"127.0.0.1:{port}"),
        )
    line = assert_one_line_failure(result)
    assert str(port) in line
    assert "in use" in line.lower()


@pytest.mark.parametrize("where", ["under-a-file", "is-a-file"])
def test_unusable_data_dir(tmp_path: Path, where: str) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text(BASE_CONFIG)
    plain = tmp_path / "plain-file"
    plain.write_text("not a directory\n")
    data = plain / "data" if where == "under-a-file" else plain
    result = serve_once(
        *("--config", str(conf), "--data-dir", str(data)),
        *("--listen", f"127.0.0.1:{free_port()}"),
    )
    line = assert_one_line_failure(result)
    assert str(data) in line
    assert plain.read_text() == "not a directory\n"


# Stopping


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    srv = Server(tmp_path)
    try:
        # An open keep-alive connection must not hold up the shutdown.
        assert srv.get("/system/timestamp.json").status_code == 200
        started = time.monotonic()
        code = srv.stop(sig)
    finally:
        srv.stop()
    assert code == 0
    assert time.monotonic() - started < 10
    assert "Traceback" not in srv.stderr()
    assert not accepts("127.0.0.1", srv.port)


def test_version() -> None:
    result = kisalert("--version")
    assert result.returncode == 0
    assert version("kisalert") in result.stdout
    assert "kisalert" in result.stdout


def test_unreadable_api_key_file(tmp_path: Path) -> None:
    """A damaged apikeys.json stops the start with one line naming it, and is left as
    it is (nobody's keys are thrown away)."""
    conf = tmp_path / "c.conf"
    conf.write_text(BASE_CONFIG)
    data = tmp_path / "d"
    data.mkdir()
    keys = data / "apikeys.json"
    keys.write_text('[{"name": "dash", "role": "readonly"')
    result = serve_once(
        *("--config", str(conf), "--data-dir", str(data)),
        *("--listen", f"127.0.0.1:{free_port()}"),
    )
    line = assert_one_line_failure(result)
    assert str(keys) in line
    assert keys.read_text() == '[{"name": "dash", "role": "readonly"'


def test_a_second_server_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    """Two servers on one data directory would give out each other's alert ids and
    overwrite each other's API keys: the second stops at once, the first goes on."""
    with Server(tmp_path) as first:
        conf = tmp_path / "second.conf"
        conf.write_text(BASE_CONFIG)
        result = serve_once(
            *("--config", str(conf), "--data-dir", str(first.data_dir)),
            *("--listen", f"127.0.0.1:{free_port()}"),
        )
        line = assert_one_line_failure(result)
        assert str(first.data_dir) in line and "in use" in line
        assert str(first.proc.pid) in line, "the message names the process holding it"
        assert first.get("/system/timestamp.json").status_code == 200
        # Deleting a lock file that looks stale does not let a second one in: both
        # would write one log and give out the same ids.
        (first.data_dir / "kisalert.lock").unlink()
        result = serve_once(
            *("--config", str(conf), "--data-dir", str(first.data_dir)),
            *("--listen", f"127.0.0.1:{free_port()}"),
        )
        assert "in use by another kisalert process" in assert_one_line_failure(result)
        assert first.get("/system/timestamp.json").status_code == 200


def test_the_data_directory_is_free_again_after_a_crash(tmp_path: Path) -> None:
    with Server(tmp_path) as crashed:
        crashed.stop(signal.SIGKILL)
    with Server(tmp_path) as again:
        assert again.get("/system/timestamp.json").status_code == 200
