"""Known clients, used as their users use them: the PyPI `kismet_rest` and curl."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kismet_rest
import pytest

from tests.records import only
from tests.server import PASSWORD, USER, Server

CURL = shutil.which("curl") or "/usr/bin/curl"


def client(server: Server, tmp_path: Path, **login: Any) -> kismet_rest.Alerts:
    credentials = login or {"username": USER, "password": PASSWORD}
    return kismet_rest.Alerts(
        host_uri=server.url, sessioncache_path=str(tmp_path / "session"), **credentials
    )


# kismet_rest 2020.5.1


def test_kismet_rest_define_raise_and_list(
    shared_server: Server, tmp_path: Path, unique_name: str
) -> None:
    alerts = client(shared_server, tmp_path)
    assert alerts.define(unique_name, "raised by a script", "100/sec", "100/sec") is True
    # Scripts re-define their alerts each time they start: that must keep working.
    assert alerts.define(unique_name, "raised by a script", "100/sec", "100/sec") is True
    assert (
        alerts.raise_alert(unique_name, "rogue AP seen", bssid="aa:bb:cc:00:11:22", channel="11")
        is True
    )
    found = only(list(alerts.all()), unique_name)
    assert len(found) == 1
    alert = found[0]
    assert alert["kismet.alert.text"] == "rogue AP seen"
    assert alert["kismet.alert.transmitter_mac"] == "AA:BB:CC:00:11:22"
    assert alert["kismet.alert.channel"] == "11"

    definitions = shared_server.get("/alerts/definitions.json").json()
    (definition,) = [d for d in definitions if d["kismet.alert.definition.header"] == unique_name]
    assert definition["kismet.alert.definition.description"] == "raised by a script"
    assert definition["kismet.alert.definition.limit_rate"] == 100
    assert definition["kismet.alert.definition.limit_unit"] == 0


def test_kismet_rest_define_with_default_rates(
    shared_server: Server, tmp_path: Path, unique_name: str
) -> None:
    alerts = client(shared_server, tmp_path)
    assert alerts.define(unique_name, "defaults") is True
    assert alerts.raise_alert(unique_name, "once") is True
    assert only(list(alerts.all()), unique_name)[0]["kismet.alert.text"] == "once"


def test_kismet_rest_all_since_a_time(
    shared_server: Server, tmp_path: Path, unique_name: str
) -> None:
    alerts = client(shared_server, tmp_path)
    assert alerts.define(unique_name, "for a time filter", "100/sec", "100/sec") is True
    assert alerts.raise_alert(unique_name, "older") is True
    (older,) = only(list(alerts.all()), unique_name)
    stamp = older["kismet.alert.timestamp"]
    assert alerts.raise_alert(unique_name, "newer") is True

    # A float ts_sec makes the client ask for ".../{stamp}.0/alerts.itjson".
    newer = only(list(alerts.all(ts_sec=stamp)), unique_name)
    assert [a["kismet.alert.text"] for a in newer] == ["newer"]
    both = only(list(alerts.all(ts_sec=int(stamp) - 1)), unique_name)
    assert [a["kismet.alert.text"] for a in both] == ["older", "newer"]
    assert list(alerts.all(ts_sec=int(stamp) + 3600)) == []


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_kismet_rest_reads_texts_holding_what_python_takes_for_line_breaks(
    server: Server, tmp_path: Path, unique_name: str, separator: str
) -> None:
    """kismet-rest reads itjson with str.splitlines(), which breaks at U+2028, U+2029
    and U+0085 too: while such an alert was in its window, every all() failed."""
    alerts = client(server, tmp_path)
    assert alerts.define(unique_name, "separators", "100/sec", "100/sec")
    text = f"before{separator}after"
    assert alerts.raise_alert(unique_name, text)
    [found] = [a for a in alerts.all() if a["kismet.alert.header"] == unique_name]
    assert found["kismet.alert.text"] == text


def test_kismet_rest_wrong_password(server: Server, tmp_path: Path) -> None:
    # A fresh server: failed logins count against the client address.
    alerts = client(server, tmp_path, username=USER, password="not-the-password")
    with pytest.raises(kismet_rest.exceptions.KismetLoginException):
        list(alerts.all())


def test_kismet_rest_session_cache_is_replayed(
    shared_server: Server, tmp_path: Path, unique_name: str
) -> None:
    with_password = client(shared_server, tmp_path)
    assert with_password.login() is True
    cached = (tmp_path / "session").read_text()
    assert cached
    assert with_password.define(unique_name, "via session", "100/sec", "100/sec") is True
    # A later run with no credentials at all gets in with the cached session.
    no_password = kismet_rest.Alerts(
        host_uri=shared_server.url, sessioncache_path=str(tmp_path / "session")
    )
    assert no_password.check_session() is True
    assert no_password.raise_alert(unique_name, "from the cached session") is True
    assert only(list(no_password.all()), unique_name)[0]["kismet.alert.text"] == (
        "from the cached session"
    )


# curl, as in Kismet's documentation


def curl(*args: str) -> tuple[int, str]:
    """Run curl; returns (HTTP status, body)."""
    result = subprocess.run(
        [CURL, "-s", "-S", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_curl_define_raise_and_read(shared_server: Server, unique_name: str) -> None:
    login = f"{USER}:{PASSWORD}"
    define = json.dumps(
        {"name": unique_name, "description": "from curl", "throttle": "10/sec", "burst": "10/sec"}
    )
    status, body = curl(
        "-u",
        login,
        "-d",
        f"json={define}",
        f"{shared_server.url}/alerts/definitions/define_alert.cmd",
    )
    assert (status, body) == (200, f"Alert {unique_name} defined\n")

    raise_args = json.dumps({"name": unique_name, "text": "y"})
    status, body = curl(
        "-u", login, "-d", f"json={raise_args}", f"{shared_server.url}/alerts/raise_alerts.cmd"
    )
    assert (status, body) == (200, "Alert raised\n")

    status, body = curl("-u", login, f"{shared_server.url}/alerts/all_alerts.json")
    assert status == 200
    found = only(json.loads(body), unique_name)
    assert [a["kismet.alert.text"] for a in found] == ["y"]


def test_curl_multipart_form_as_kismet_reads_it(shared_server: Server, unique_name: str) -> None:
    """`curl -F json=...` sends multipart/form-data, which Kismet's server reads: it
    was answered "missing 'name'" with the name right there, and reads ignored their
    `fields`."""
    login, url = f"{USER}:{PASSWORD}", shared_server.url
    define = json.dumps({"name": unique_name, "description": "multipart"})
    status, body = curl(
        "-u", login, "-F", f"json={define}", f"{url}/alerts/definitions/define_alert.cmd"
    )
    assert (status, body) == (200, f"Alert {unique_name} defined\n")
    raise_args = json.dumps({"name": unique_name, "text": "from -F, café"})
    status, body = curl("-u", login, "-F", f"json={raise_args}", f"{url}/alerts/raise_alerts.cmd")
    assert (status, body) == (200, "Alert raised\n")
    fields = json.dumps({"fields": ["kismet.alert.header", "kismet.alert.text"]})
    status, body = curl("-u", login, "-F", f"json={fields}", f"{url}/alerts/all_alerts.json")
    assert status == 200
    assert {"kismet.alert.header": unique_name, "kismet.alert.text": "from -F, café"} in (
        json.loads(body)
    )


def test_curl_raise_prints_alert_raised(shared_server: Server, unique_name: str) -> None:
    assert shared_server.define(unique_name).status_code == 200
    result = subprocess.run(
        [
            CURL,
            "-s",
            "-u",
            f"{USER}:{PASSWORD}",
            "-d",
            f'json={{"name":"{unique_name}","text":"y"}}',
            f"http://127.0.0.1:{shared_server.port}/alerts/raise_alerts.cmd",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Alert raised\n"


def test_curl_form_values_are_decoded(shared_server: Server, unique_name: str) -> None:
    assert shared_server.define(unique_name).status_code == 200
    text = "a&b=c+d %41 ünïcode"
    args = json.dumps({"name": unique_name, "text": text}, ensure_ascii=False)
    status, body = curl(
        "-u",
        f"{USER}:{PASSWORD}",
        "--data-urlencode",
        f"json={args}",
        f"{shared_server.url}/alerts/raise_alerts.cmd",
    )
    assert (status, body) == (200, "Alert raised\n")
    found = only(shared_server.alerts(), unique_name)
    assert [a["kismet.alert.text"] for a in found] == [text]


def test_curl_wrong_password_is_refused(server: Server, unique_name: str) -> None:
    assert server.define(unique_name).status_code == 200
    status, _ = curl(
        "-u",
        f"{USER}:wrong",
        "-d",
        f'json={{"name":"{unique_name}","text":"y"}}',
        f"{server.url}/alerts/raise_alerts.cmd",
    )
    assert status == 401
    assert only(server.alerts(), unique_name) == []
