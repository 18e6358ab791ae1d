"""API keys: generate, list, revoke; expiry; persistence; what the data directory and logs show."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.server import BASE_CONFIG, PASSWORD, TRANSPORTS, USER, Server, via, wait_for

GENERATE = "/auth/apikey/generate.cmd"
REVOKE = "/auth/apikey/revoke.cmd"
NAME = "kismet.httpd.auth.name"
ROLE = "kismet.httpd.auth.role"
EXPIRATION = "kismet.httpd.auth.expiration"
TOKEN = "kismet.httpd.auth.token"
RECORD_KEYS = [NAME, ROLE, EXPIRATION]
TOKEN_RULE = re.compile(r"[0-9A-F]{32}")
READ_ROUTE = "/alerts/all_alerts.json"  # a readonly route
VIEW_CONFIG = BASE_CONFIG + "httpd_allow_auth_view=true\n"

_names = itertools.count()


def key_name(label: str) -> str:
    """A key name no other test in this module uses."""
    return f"{label}-{next(_names)}"


def with_token(
    srv: Server, token: str, path: str = READ_ROUTE, how: str = "bearer", method: str = "GET"
) -> requests.Response:
    """A request from a fresh client that presents only `token`."""
    return requests.request(method, srv.url + path, timeout=10, **via(how, token))


def generate_raw(srv: Server, args: dict[str, Any]) -> requests.Response:
    return srv.command(GENERATE, args)


def generate(srv: Server, name: str, role: str = "readonly", duration: int = 0) -> str:
    response = generate_raw(srv, {"name": name, "role": role, "duration": duration})
    assert response.status_code == 200, response.text
    return response.text


def listing(srv: Server, fmt: str = "json") -> list[dict[str, Any]]:
    response = srv.get(f"/auth/apikey/list.{fmt}")
    assert response.status_code == 200, response.text
    if fmt in ("itjson", "ekjson"):
        assert response.text == "" or response.text.endswith("\n")
        return [json.loads(line) for line in response.text.splitlines()]
    result: list[dict[str, Any]] = json.loads(response.text)
    return result


def entry(srv: Server, name: str) -> dict[str, Any] | None:
    found = [e for e in listing(srv) if e[NAME] == name]
    assert len(found) <= 1
    return found[0] if found else None


def files_containing(root: Path, *secrets: str) -> list[str]:
    """Files under root whose bytes contain any of the secrets (as given or lower-cased)."""
    needles = {s.encode() for s in secrets} | {s.lower().encode() for s in secrets}
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(n in data for n in needles):
                hits.append(str(path.relative_to(root)))
    return hits


@pytest.fixture(scope="module")
def keys_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose tests each make keys with their own names."""
    with Server(tmp_path_factory.mktemp("apikeys")) as srv:
        yield srv


# Generating


def test_generate_returns_the_token_as_the_whole_body(keys_server: Server) -> None:
    first = generate_raw(keys_server, {"name": key_name("gen"), "role": "readonly", "duration": 0})
    assert first.status_code == 200
    assert TOKEN_RULE.fullmatch(first.text), repr(first.text)
    second = generate(keys_server, key_name("gen"))
    assert TOKEN_RULE.fullmatch(second)
    assert second != first.text
    for token in (first.text, second):
        assert with_token(keys_server, token).status_code == 200


def test_generate_accepts_a_json_body(keys_server: Server) -> None:
    name = key_name("json-body")
    response = keys_server.post(GENERATE, json={"name": name, "role": "readonly", "duration": 0})
    assert response.status_code == 200, response.text
    assert TOKEN_RULE.fullmatch(response.text)
    assert with_token(keys_server, response.text).status_code == 200


def test_duplicate_name_is_409(keys_server: Server) -> None:
    name = key_name("dup")
    token = generate(keys_server, name, "readonly")
    again = generate_raw(keys_server, {"name": name, "role": "admin", "duration": 0})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("text/plain")
    assert not TOKEN_RULE.search(again.text)
    # The first key is untouched: same role, still usable, still readonly.
    assert [e[ROLE] for e in listing(keys_server) if e[NAME] == name] == ["readonly"]
    assert with_token(keys_server, token).status_code == 200
    assert with_token(keys_server, token, "/auth/apikey/list.json").status_code == 403


BAD_GENERATE: list[tuple[str, dict[str, Any]]] = [
    ("no-name", {"role": "readonly", "duration": 0}),
    ("empty-name", {"name": "", "role": "readonly", "duration": 0}),
    ("number-name", {"name": 5, "role": "readonly", "duration": 0}),
    ("null-name", {"name": None, "role": "readonly", "duration": 0}),
    ("list-name", {"name": ["x"], "role": "readonly", "duration": 0}),
    ("no-role", {"name": "NAME", "duration": 0}),
    ("empty-role", {"name": "NAME", "role": "", "duration": 0}),
    ("number-role", {"name": "NAME", "role": 1, "duration": 0}),
    ("no-duration", {"name": "NAME", "role": "readonly"}),
    ("string-duration", {"name": "NAME", "role": "readonly", "duration": "60"}),
    ("float-duration", {"name": "NAME", "role": "readonly", "duration": 1.5}),
    ("bool-duration", {"name": "NAME", "role": "readonly", "duration": True}),
    ("null-duration", {"name": "NAME", "role": "readonly", "duration": None}),
    ("negative-duration", {"name": "NAME", "role": "readonly", "duration": -1}),
]


@pytest.mark.parametrize("args", [a for _, a in BAD_GENERATE], ids=[i for i, _ in BAD_GENERATE])
def test_missing_or_mistyped_argument_is_400(keys_server: Server, args: dict[str, Any]) -> None:
    name = key_name("bad")
    args = {k: (name if v == "NAME" else v) for k, v in args.items()}
    before = listing(keys_server)
    response = generate_raw(keys_server, args)
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/plain")
    assert not TOKEN_RULE.fullmatch(response.text.strip())
    assert listing(keys_server) == before


# Listing


def expected_keys(fmt: str, keys: list[str]) -> list[str]:
    if fmt == "ekjson":
        return [k.replace(".", "_") for k in keys]
    if fmt == "prettyjson":
        return [k for key in keys for k in (f"description.{key}", key)]
    return keys


@pytest.mark.parametrize("fmt", ["json", "itjson", "ekjson", "prettyjson"])
def test_list_shows_name_role_expiration_and_no_token(keys_server: Server, fmt: str) -> None:
    name = key_name(f"list-{fmt}")
    token = generate(keys_server, name, "sensor", 3600)
    response = keys_server.get(f"/auth/apikey/list.{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert token not in response.text
    assert token.lower() not in response.text
    records = listing(keys_server, fmt)
    name_key, role_key, exp_key = expected_keys(
        "ekjson" if fmt == "ekjson" else "json", RECORD_KEYS
    )
    mine = [r for r in records if r[name_key] == name]
    assert len(mine) == 1
    record = mine[0]
    assert list(record) == expected_keys(fmt, RECORD_KEYS)
    assert record[role_key] == "sensor"
    assert isinstance(record[exp_key], int)
    if fmt == "prettyjson":
        for key in RECORD_KEYS:
            doc = record[f"description.{key}"]
            assert isinstance(doc, str) and doc


def test_list_is_an_array_of_every_live_key(keys_server: Server) -> None:
    names = [key_name("many") for _ in range(3)]
    for name in names:
        generate(keys_server, name)
    listed = [e[NAME] for e in listing(keys_server)]
    assert all(name in listed for name in names)
    assert len(listed) == len(set(listed))


def test_expiration_is_now_plus_duration_or_zero(keys_server: Server) -> None:
    forever, hour = key_name("forever"), key_name("hour")
    generate(keys_server, forever, duration=0)
    start = time.time()
    generate(keys_server, hour, duration=3600)
    end = time.time()
    never = entry(keys_server, forever)
    timed = entry(keys_server, hour)
    assert never is not None and timed is not None
    assert never[EXPIRATION] == 0
    assert start + 3600 - 1 <= timed[EXPIRATION] <= end + 3600 + 1


# Revoking and expiry


def test_revoke(keys_server: Server) -> None:
    name = key_name("revoke")
    token = generate(keys_server, name)
    assert with_token(keys_server, token).status_code == 200
    response = keys_server.command(REVOKE, {"name": name})
    assert response.status_code == 200
    assert response.text == "revoked\n"
    # Refused at once, however it is presented.
    for how in TRANSPORTS:
        refused = with_token(keys_server, token, how=how)
        assert refused.status_code == 401, how
        refused = with_token(keys_server, token, "/session/check_session", how=how)
        assert refused.status_code == 401, how
    assert entry(keys_server, name) is None
    # Gone for good: revoking again is 404; the name can be used again, for a new token.
    assert keys_server.command(REVOKE, {"name": name}).status_code == 404
    fresh = generate(keys_server, name)
    assert fresh != token
    assert with_token(keys_server, fresh).status_code == 200
    assert with_token(keys_server, token).status_code == 401


def test_revoke_leaves_other_keys_alone(keys_server: Server) -> None:
    gone, kept = key_name("gone"), key_name("kept")
    gone_token, kept_token = generate(keys_server, gone), generate(keys_server, kept)
    assert keys_server.command(REVOKE, {"name": gone}).status_code == 200
    assert with_token(keys_server, gone_token).status_code == 401
    assert with_token(keys_server, kept_token).status_code == 200
    assert entry(keys_server, kept) is not None


def test_revoke_unknown_name_is_404(keys_server: Server) -> None:
    before = listing(keys_server)
    response = keys_server.command(REVOKE, {"name": key_name("never-made")})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert listing(keys_server) == before


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"role": "readonly", "duration": 0}, "missing 'name'"),  # was "must be a string"
        ({"name": "x", "duration": 0}, "missing 'role'"),
        ({"name": 5, "role": "readonly", "duration": 0}, "'name' must be a string"),
    ],
)
def test_a_missing_argument_is_named_missing(
    keys_server: Server, args: dict[str, Any], reason: str
) -> None:
    response = generate_raw(keys_server, args)
    assert (response.status_code, response.text) == (400, f"Invalid request: {reason}\n")


@pytest.mark.parametrize("args", [{}, {"name": 3}, {"name": None}], ids=["none", "int", "null"])
def test_revoke_without_a_name_is_400(keys_server: Server, args: dict[str, Any]) -> None:
    before = listing(keys_server)
    assert keys_server.command(REVOKE, args).status_code == 400
    assert listing(keys_server) == before


def test_duration_is_honoured(keys_server: Server) -> None:
    name = key_name("short")
    start = time.time()
    token = generate(keys_server, name, duration=1)
    assert with_token(keys_server, token).status_code == 200
    record = entry(keys_server, name)
    assert record is not None
    assert start <= record[EXPIRATION] <= time.time() + 1
    # It stops working once its second is up: by 1.5 s after it was asked for (more on
    # a slow machine: wait_for stretches its timeout) ...
    wait_for(
        lambda: with_token(keys_server, token).status_code == 401,
        timeout=max(0.0, start + 1.5 - time.time()),
        what="the 1 s key to expire",
    )
    # ... however it is presented.
    for how in TRANSPORTS:
        assert with_token(keys_server, token, how=how).status_code == 401, how
        check = with_token(keys_server, token, "/session/check_session", how=how)
        assert check.status_code == 401, how


# Persistence and secrecy


def test_keys_survive_a_restart(tmp_path: Path) -> None:
    with Server(tmp_path) as first:
        never = generate(first, "never", "readonly", 0)
        hour = generate(first, "hour", "sensor", 3600)
        gone = generate(first, "gone", "readonly", 0)
        assert first.command(REVOKE, {"name": "gone"}).status_code == 200
        before = listing(first)
    assert [e[NAME] for e in before] == ["never", "hour"]
    with Server(tmp_path) as second:
        assert listing(second) == before
        assert with_token(second, never).status_code == 200
        assert with_token(second, hour, "/session/check_session").status_code == 200
        assert with_token(second, hour).status_code == 403  # still a sensor key
        assert with_token(second, gone).status_code == 401
        assert (
            generate_raw(second, {"name": "never", "role": "x", "duration": 0}).status_code == 409
        )
        # A revocation after the restart sticks too.
        assert second.command(REVOKE, {"name": "never"}).status_code == 200
    with Server(tmp_path) as third:
        assert with_token(third, never).status_code == 401
        assert with_token(third, hour, "/session/check_session").status_code == 200


def test_data_directory_does_not_reveal_tokens(tmp_path: Path) -> None:
    with Server(tmp_path) as srv:
        tokens = [
            generate(srv, f"k{i}", role, d)
            for i, (role, d) in enumerate([("readonly", 0), ("admin", 0), ("sensor", 3600)])
        ]
        # Use them, so that nothing about their use ends up stored either.
        for token in tokens:
            with_token(srv, token, how="query")
        assert files_containing(srv.data_dir, *tokens) == []
    assert any(srv.data_dir.iterdir())
    assert files_containing(tmp_path / "data", *tokens) == []


def test_allow_auth_view_shows_tokens(tmp_path: Path) -> None:
    with Server(tmp_path, VIEW_CONFIG) as srv:
        token = generate(srv, "viewable", "readonly", 0)
        for fmt in ("json", "itjson"):
            records = listing(srv, fmt)
            assert len(records) == 1
            record = records[0]
            assert list(record)[:3] == RECORD_KEYS
            assert set(record) == {*RECORD_KEYS, TOKEN}
            assert record[TOKEN] == token
    # Still shown, and still working, after a restart.
    with Server(tmp_path, VIEW_CONFIG) as again:
        assert [e.get(TOKEN) for e in listing(again)] == [token]
        assert with_token(again, token).status_code == 200


def test_keys_made_without_view_are_never_shown(tmp_path: Path) -> None:
    with Server(tmp_path) as srv:
        hidden = generate(srv, "hidden", "readonly", 0)
    with Server(tmp_path, VIEW_CONFIG) as viewing:
        shown = generate(viewing, "shown", "readonly", 0)
        response = viewing.get("/auth/apikey/list.json")
        assert hidden not in response.text
        by_name = {e[NAME]: e for e in response.json()}
        assert TOKEN not in by_name["hidden"]
        assert by_name["shown"][TOKEN] == shown
        assert with_token(viewing, hidden).status_code == 200


def test_logs_never_show_tokens_or_the_password(tmp_path: Path) -> None:
    # With the access log on standard output every request leaves a line in the
    # logs, so a secret that one of them carried would show.
    srv = Server(tmp_path, extra_args=["--access-log", "-"])
    paths = (
        READ_ROUTE,
        "/alerts/no-such-route.json",
        "/alerts/by-id/nope/alert.json",
        "/alerts/last-time/nan/alerts.json",
        "/auth/apikey/list.json",
    )
    reads: dict[tuple[str, str], int] = {}  # (secret, transport) -> status of READ_ROUTE
    try:
        token = generate(srv, "logged", "readonly", 0)
        revoked = generate(srv, "revoked", "readonly", 0)
        assert srv.command(REVOKE, {"name": "revoked"}).status_code == 200
        login = requests.get(srv.url + READ_ROUTE, auth=(USER, PASSWORD), timeout=10)
        session = login.cookies.get("KISMET")
        assert session
        bogus = "0123456789ABCDEF0123456789ABCDEF"
        secrets = [token, revoked, session, bogus]
        for secret in secrets:
            for how in TRANSPORTS:
                for path in paths:
                    response = with_token(srv, secret, path, how=how)
                    if path == READ_ROUTE:
                        reads[secret, how] = response.status_code
                with_token(srv, secret, "/system/timestamp.json", how=how, method="POST")
                requests.post(
                    srv.url + "/alerts/alerts_view.json",
                    data={"json": "{not json"},
                    timeout=10,
                    **via(how, secret),
                )
                requests.post(
                    srv.url + "/alerts/all_alerts.json",
                    data=b"x" * (1 << 20 | 1),
                    timeout=10,
                    **via(how, secret),
                )
        requests.get(srv.url + READ_ROUTE, params={"user": USER, "password": PASSWORD}, timeout=10)
        requests.get(
            srv.url + READ_ROUTE, params={"user": USER, "password": "wrong-pw-x"}, timeout=10
        )
        ws_url = f"ws://127.0.0.1:{srv.port}/eventbus/events.ws"
        with connect(f"{ws_url}?KISMET={token}", open_timeout=5) as ws:
            ws.send("not json")
            ws.send(json.dumps({"SUBSCRIBE": 5}))
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{ws_url}?KISMET={revoked}", open_timeout=5)
    finally:
        srv.stop()
    logs = srv.stdout() + srv.stderr()
    # The requests were made as meant: the live key and session read, the revoked and
    # the made-up key are refused, on the websocket too.
    expected = {token: 200, session: 200, revoked: 401, bogus: 401}
    assert reads == {(s, how): expected[s] for s in secrets for how in TRANSPORTS}
    assert refused.value.response.status_code == 401
    # Positive control: the logs show every one of those requests, and the query
    # parameters that carried a secret, redacted.
    each = len(secrets) * len(TRANSPORTS)
    assert Counter(re.findall(r'"(GET|POST) ([^ ?"]*)', logs)) == {
        ("POST", GENERATE): 2,
        ("POST", REVOKE): 1,
        ("GET", READ_ROUTE): 1 + each + 2,
        **{("GET", path): each for path in paths[1:]},
        ("POST", "/system/timestamp.json"): each,
        ("POST", "/alerts/alerts_view.json"): each,
        ("POST", READ_ROUTE): each,
        ("GET", "/eventbus/events.ws"): 2,
    }
    assert logs.count("?KISMET=REDACTED ") == len(secrets) * (len(paths) + 3) + 2
    assert logs.count("&password=REDACTED ") == 2
    for secret in [*secrets, PASSWORD, "wrong-pw-x"]:
        assert secret not in logs
        assert secret.lower() not in logs
