"""`kisalert check-config`: every problem of a config file, each with its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kisalert", "check-config", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    conf = tmp_path / "kismet_alerts.conf"
    conf.write_text(
        "alertbacklog=abc\n"
        "alert=DEAUTHFLOOD,5/min\n"
        "this line has no equals\n"
        "httpd_port=99999\n"
        'apspoof=Foo:ssid="(unclosed",validmacs="00:11:22:33:44:55"\n'
        "unknown_key=1\n"
        "alertbacklog=10\n"
    )
    done = check(conf)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    errors = [line for line in lines if not line.startswith("warning:")]
    assert [line.split(":")[1] for line in errors] == ["1", "2", "3", "4", "5"]
    assert all(line.startswith(f"{conf}:") for line in errors)
    assert "alertbacklog needs a whole number" in errors[0]
    assert lines[-1] == f"warning: {conf}:6: unknown key 'unknown_key' ignored"
    assert "5 errors" in done.stderr


def test_a_missing_include_is_a_problem_and_the_rest_is_still_read(tmp_path: Path) -> None:
    conf = tmp_path / "site.conf"
    conf.write_text("include=missing.conf\nhttpd_port=0\n")
    done = check(conf)
    assert done.returncode == 1
    assert "missing.conf: no such config file" in done.stdout
    assert f"{conf}:2: httpd_port=0 is out of range" in done.stdout


def test_lines_that_only_fail_together(tmp_path: Path) -> None:
    conf = tmp_path / "login.conf"
    conf.write_text("httpd_username=admin\n")
    done = check(conf)
    assert done.returncode == 1
    assert "httpd_username is set but httpd_password is not" in done.stdout


def test_a_good_file_is_ok(tmp_path: Path) -> None:
    conf = tmp_path / "good.conf"
    conf.write_text("alert=DEAUTHFLOOD,5/min,2/sec\nalertbacklog=100\n")
    done = check(conf)
    assert done.returncode == 0
    assert done.stdout == ""
    assert done.stderr.strip() == "ok"


def test_a_bad_rate_says_why_and_an_unknown_name_is_warned(tmp_path: Path) -> None:
    conf = tmp_path / "kismet_alerts.conf"
    conf.write_text(
        "alert=DEAUTHFLOOD,2/min,1/hr\nalert=DEAUTHFLOD,5/min,1/sec\nalert=ROGUEAP,2/min,1/sec\n"
    )
    done = check(conf)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{conf}:1: bad rates in alert=DEAUTHFLOOD,2/min,1/hr: burst unit (hr) is longer than "
        "the throttle unit (min); give the burst per min or shorter, e.g. 2/min,1/sec",
        f"warning: {conf}:2: alert=DEAUTHFLOD: no built-in alert of that name "
        "(did you mean DEAUTHFLOOD?); it applies only if the alert is defined over the API",
        f"warning: {conf}:3: alert=ROGUEAP: no built-in alert of that name; "
        "it applies only if the alert is defined over the API",
    ]


def test_urls_with_an_unclosed_ipv6_bracket_are_one_line_each(tmp_path: Path) -> None:
    """urlsplit raises ValueError for these: check-config (and serve) ended in a
    traceback. Every URL an output or the store takes goes through one parser."""
    conf = tmp_path / "urls.conf"
    conf.write_text(
        'forward=a:type=webhook,url="http://[::1/secret-path"\n'
        'forward=b:type=email,smtp="smtp://[::1",to=a@b.c,from=x@y.z\n'
        'forward=c:type=syslog,target="tcp://[::1"\n'
        'forward=d:type=mqtt,broker="mqtt://[::1"\n'
        "store=redis://[::1\n"
    )
    done = check(conf)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[1] for line in lines] == ["1", "2", "3", "4", "5"]
    for key, line in zip(["url", "smtp", "target", "broker"], lines, strict=False):
        assert line.endswith(f"{key}= is not a usable URL (an IPv6 address goes in [ ])")
    assert "secret-path" not in done.stdout  # a webhook's URL may hold its secret
    assert lines[4].endswith("store='redis://[::1' is not a usable URL")


def test_a_user_name_basic_auth_cannot_carry_is_an_error(tmp_path: Path) -> None:
    conf = tmp_path / "login.conf"
    conf.write_text("httpd_username=ad:min\nhttpd_password=whatever-it-is\n")
    done = check(conf)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{conf}:1: the user name must be 1 to 64 printable characters, without ':'"
    ]
