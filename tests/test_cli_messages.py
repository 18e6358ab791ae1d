"""What the command line tells a user: the password rules and the login banner, bad
`--listen` values, and the help of every option."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from kisalert.cli import parser
from tests.server import Server
from tests.test_cli import (
    assert_one_line_failure,
    kisalert,
    login_status,
    printed_password,
    serve_once,
)

MINIMUM = "kisalert: the password must be at least 12 characters"

# The password line of the start-up banner.
_LOGIN_LINE = re.compile(r"^\s*log in as .*$", re.MULTILINE)


def login_line(stdout: str) -> str:
    match = _LOGIN_LINE.search(stdout)
    assert match, f"no login line in the banner:\n{stdout}"
    return match.group(0)


# kisalert passwd: a minimum length


@pytest.mark.parametrize("password", ["short", "eleven-char"])
def test_passwd_refuses_a_password_shorter_than_12(tmp_path: Path, password: str) -> None:
    with Server(tmp_path, config=None) as srv:
        first = printed_password(srv.stdout())
        result = kisalert("passwd", "--data-dir", str(srv.data_dir), stdin=password + "\n")
        assert result.returncode == 2
        assert assert_one_line_failure(result) == MINIMUM
        assert login_status(srv.url, "admin", password) == 401
        assert login_status(srv.url, "admin", first) == 200


def test_passwd_takes_a_password_of_12(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        result = kisalert("passwd", "--data-dir", str(srv.data_dir), stdin="twelve-chars\n")
        assert result.returncode == 0, result.stderr
        assert login_status(srv.url, "admin", "twelve-chars") == 200


def test_a_short_password_in_a_config_file_is_warned_about_but_works(tmp_path: Path) -> None:
    """Kismet configs in use may carry short passwords: they keep working, with a warning."""
    with Server(tmp_path, config="httpd_username=admin\nhttpd_password=kismet\n") as srv:
        assert login_status(srv.url, "admin", "kismet") == 200
        assert (
            "kisalert: warning: httpd_password is shorter than 12 characters; "
            "a longer one is much harder to guess"
        ) in srv.stderr().splitlines()


def test_no_warning_for_a_long_config_password(tmp_path: Path) -> None:
    with Server(tmp_path) as srv:
        assert "httpd_password" not in srv.stderr()


# The banner names the password that works


def test_banner_after_passwd_names_the_password_that_was_set(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        data_dir = srv.data_dir
    with Server(tmp_path, config=None) as again:
        assert "password shown at first start" in login_line(again.stdout())

    result = kisalert("passwd", "--data-dir", str(data_dir), stdin="a-new-password\n")
    assert result.returncode == 0, result.stderr
    with Server(tmp_path, config=None) as after:
        line = login_line(after.stdout())
        assert "shown at first start" not in line
        assert "the password set with `kisalert passwd`" in line
        assert login_status(after.url, "admin", "a-new-password") == 200

    result = kisalert("passwd", "--data-dir", str(data_dir), "--generate")
    assert result.returncode == 0, result.stderr
    generated = printed_password(result.stdout)
    with Server(tmp_path, config=None) as last:
        assert "the password set with `kisalert passwd`" in login_line(last.stdout())
        assert login_status(last.url, "admin", generated) == 200


def test_banner_after_set_password_over_http(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        first = printed_password(srv.stdout())
        form = {"username": "admin", "password": "set-over-http"}
        answer = srv.post("/session/set_password", data=form, auth=("admin", first))
        assert answer.status_code == 200, answer.text
    with Server(tmp_path, config=None) as again:
        line = login_line(again.stdout())
        assert "shown at first start" not in line
        assert "/session/set_password" in line


# --listen


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("127.0.0.1:99999", "port 99999 is out of range (1-65535)"),
        ("127.0.0.1:0", "port 0 is out of range (1-65535)"),
        ("127.0.0.1:http", "port 'http' is not a number"),
        ("127.0.0.1:", "'127.0.0.1:' has no port after the colon"),
        ("2501", "'2501' has no host: give HOST:PORT, e.g. 127.0.0.1:2501"),
        ("localhost", "'localhost' has no port: give HOST:PORT, e.g. localhost:2501"),
    ],
)
def test_bad_listen_values_say_why(tmp_path: Path, value: str, reason: str) -> None:
    result = serve_once("--data-dir", str(tmp_path / "d"), "--listen", value)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"kisalert serve: error: argument --listen: {reason}"
    )
    assert not (tmp_path / "d").exists()


# Help


def test_export_explains_its_times() -> None:
    result = kisalert("export", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for words in ("epoch seconds", "negative", "ago", "ISO 8601"):
        assert words in text, text


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    (commands,) = (
        action for action in parser()._actions if isinstance(action, argparse._SubParsersAction)
    )
    return dict(commands.choices)


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_option_has_help(name: str) -> None:
    command = _subcommands()[name]
    bare = [
        "/".join(action.option_strings) or action.dest
        for action in command._actions
        if not action.help
    ]
    assert bare == [], f"`kisalert {name}` options with no help text: {bare}"


def test_counts_are_singular_for_one(tmp_path: Path) -> None:
    conf = tmp_path / "one-warning.conf"
    conf.write_text("no_such_key=1\n")
    result = kisalert("check-config", str(conf))
    assert result.returncode == 0
    assert result.stderr.strip() == "ok, 1 warning"
