"""API key lifetimes: what cannot be a time is refused when asked for, and survived when
found in the data directory (issue 9)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.server import Server

GENERATE = "/auth/apikey/generate.cmd"
LIST = "/auth/apikey/list.json"
NAME = "kismet.httpd.auth.name"
EXPIRATION = "kismet.httpd.auth.expiration"
HUNDRED_YEARS = 100 * 366 * 86400


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("hardening-keys")) as server:
        yield server


def generate(server: Server, name: str, duration: Any) -> requests.Response:
    body = {"name": name, "role": "readonly", "duration": duration}
    return server.post(GENERATE, json=body)


def listing(server: Server) -> list[dict[str, Any]]:
    response = server.get(LIST)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


@pytest.mark.parametrize(
    "duration",
    [2**64 - 1, 2**63, 2**53 + 1, HUNDRED_YEARS + 1, 10**30, -1, -(2**64), 1.5, 1e300, 60.0],
    ids=str,
)
def test_a_duration_that_is_not_a_lifetime_is_refused(srv: Server, duration: Any) -> None:
    name = f"bad-{duration}"
    response = generate(srv, name, duration)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.endswith("\n") and response.text.count("\n") == 1
    assert "duration" in response.text
    # Nothing was made, and the listing still answers.
    assert name not in [e[NAME] for e in listing(srv)]


def test_the_longest_lifetime_is_accepted_and_listed(srv: Server) -> None:
    response = generate(srv, "longest", HUNDRED_YEARS)
    assert response.status_code == 200, response.text
    (found,) = [e for e in listing(srv) if e[NAME] == "longest"]
    assert found[EXPIRATION] > HUNDRED_YEARS
    ok = requests.get(
        srv.url + "/alerts/all_alerts.json", timeout=10, params={"KISMET": response.text}
    )
    assert ok.status_code == 200


def _entry(name: str, token: str, expires: Any) -> dict[str, Any]:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return {"name": name, "role": "readonly", "expires": expires, "digest": digest}


def test_a_stored_key_with_an_impossible_expiry_does_not_break_the_server(
    tmp_path: Path,
) -> None:
    good, huge, negative, text = "A" * 32, "B" * 32, "C" * 32, "D" * 32
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "apikeys.json").write_text(
        json.dumps(
            [
                _entry("good", good, 0),
                # What an older server stored for duration 2**64-1.
                _entry("huge", huge, 1.8446744075474094e19),
                _entry("negative", negative, -5),
                _entry("text", text, "soon"),
            ]
        )
    )
    (data / "apikeys.json").chmod(0o600)
    warnings = []
    for restart in range(2):
        with Server(tmp_path) as server:
            entries = {e[NAME]: e for e in listing(server)}
            assert set(entries) - {"new-0"} == {"good", "huge"}
            assert entries["good"][EXPIRATION] == 0
            # Clamped to a time that can be written down, still in the future.
            assert 2**32 < entries["huge"][EXPIRATION] < 2**63
            for token, status in ((good, 200), (huge, 200), (negative, 401), (text, 401)):
                answer = requests.get(
                    server.url + "/alerts/all_alerts.json", timeout=10, params={"KISMET": token}
                )
                assert answer.status_code == status, (token, answer.text)
            # A change rewrites the file; the next start must still be whole.
            assert generate(server, f"new-{restart}", 60).status_code == 200
            warnings.append(server.stderr())
    assert all(f"'{name}'" in warnings[0] for name in ("huge", "negative", "text"))
    assert "'good'" not in warnings[0]
