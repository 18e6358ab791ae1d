"""Roles: every route of api.md with its role, tried by every kind of caller; CORS; TLS."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.certs import self_signed
from tests.routes import api_routes
from tests.server import BASE_CONFIG, PASSWORD, TRANSPORTS, USER, Server, free_port, via

READ, ADMIN, ANY_LOGIN, PUBLIC = "readonly", "admin", "any login", "public"
ALERT = "ROLES_TEST"
GENERATE = "/auth/apikey/generate.cmd"
REVOKE = "/auth/apikey/revoke.cmd"
BOGUS = "0123456789ABCDEF0123456789ABCDEF"

_names = itertools.count()


def unique(label: str) -> str:
    return f"ROLES_{label}_{next(_names)}"


def form(args: dict[str, Any]) -> dict[str, str]:
    return {"json": json.dumps(args)}


def make_key(srv: Server, role: str, name: str | None = None) -> str:
    args = {"name": name or unique(role), "role": role, "duration": 0}
    response = srv.command(GENERATE, args)
    assert response.status_code == 200, response.text
    return response.text


@dataclass
class World:
    """The module's server, its keys and an alert to look up."""

    srv: Server
    tokens: dict[str, str]
    alert_id: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with Server(tmp_path_factory.mktemp("roles")) as srv:
        response = srv.define(ALERT, throttle="100000/min", burst="100000/sec")
        assert response.status_code == 200, response.text
        assert srv.raise_alert(ALERT, "seed").status_code == 200
        alert_id = srv.alerts()[-1]["kismet.alert.hash"]
        tokens = {role: make_key(srv, role) for role in ("readonly", "sensor", "admin")}
        yield World(srv, tokens, alert_id)


# Who calls: how each kind of caller authenticates.
CALLERS = ["none", "readonly", "sensor", "admin-key", "admin-password"]


def caller_kwargs(world: World, caller: str) -> dict[str, Any]:
    if caller == "none":
        return {}
    if caller == "admin-password":
        return {"auth": (USER, PASSWORD)}
    token = world.tokens["admin" if caller == "admin-key" else caller]
    return via("bearer", token)


# The command each route gets: one that would succeed for a caller with the role.
Body = Callable[[World], dict[str, str] | None]


def no_body(world: World) -> dict[str, str] | None:
    return None


def define_body(world: World) -> dict[str, str] | None:
    return form({"name": unique("DEFINED"), "description": "made in a role test"})


def raise_body(world: World) -> dict[str, str] | None:
    return form({"name": ALERT, "text": "raised in a role test"})


def generate_body(world: World) -> dict[str, str] | None:
    return form({"name": unique("key"), "role": "readonly", "duration": 0})


def revoke_body(world: World) -> dict[str, str] | None:
    """Revokes a victim key made for this request."""
    name = unique("victim")
    make_key(world.srv, "readonly", name)
    return form({"name": name})


def view_body(world: World) -> dict[str, str] | None:
    return form({"fields": ["kismet.alert.header"]})


def silence_body(world: World) -> dict[str, str] | None:
    return form({"header": unique("SILENCED"), "comment": "a role test", "duration": 600})


def password_body(world: World) -> dict[str, str] | None:
    return {"username": USER, "password": "a-new-password"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    role: str
    body: Body = no_body

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def both(path: str, role: str = READ, body: Body = no_body) -> list[Route]:
    return [Route("GET", path, role), Route("POST", path, role, body)]


# Every route of api.md's "Routes at a glance" (the websocket has its own test).
ROUTES: list[Route] = [
    *both("/alerts/definitions.json"),
    *both("/alerts/all_alerts.json"),
    *both("/alerts/last-time/0/alerts.json"),
    *both("/alerts/wrapped/last-time/0/alerts.json"),
    *both("/alerts/alerts_view.json", body=view_body),
    *both("/alerts/by-id/{id}/alert.json"),
    Route("POST", "/alerts/definitions/define_alert.cmd", ADMIN, define_body),
    Route("POST", "/alerts/raise_alerts.cmd", ADMIN, raise_body),
    Route("POST", "/alerts/raise_alert.cmd", ADMIN, raise_body),
    *both("/messagebus/all_messages.json"),
    *both("/messagebus/last-time/0/messages.json"),
    Route("GET", "/system/timestamp.json", READ),
    Route("GET", "/session/check_session", ANY_LOGIN),
    Route("GET", "/session/check_login", ADMIN),
    Route("GET", "/session/check_setup_ok", PUBLIC),
    Route("POST", "/session/set_password", PUBLIC, password_body),
    Route("POST", GENERATE, ADMIN, generate_body),
    Route("POST", REVOKE, ADMIN, revoke_body),
    *both("/auth/apikey/list.json", ADMIN),
    *both("/alerts/definitions/state.json"),
    *both("/sources/all_sources.json"),
    Route("GET", "/session/whoami.json", ANY_LOGIN),
    Route("GET", "/forward/status.json", ADMIN),
    *both("/forward/silences/all_silences.json", ADMIN),
    Route("POST", "/forward/silences/create.cmd", ADMIN, silence_body),
    # {silence}: one made for the request, in force until it is expired.
    Route("POST", "/forward/silences/by-id/{silence}/expire.cmd", ADMIN),
]
ADMIN_ROUTES = [r for r in ROUTES if r.role == ADMIN]
# Served with their own checks: the console's login and logout (any login gets a
# cookie there: tests/http/test_console_login.py), and /metrics
# (tests/http/test_metrics.py: readonly, or public with metrics_public=true).
ROLES_ELSEWHERE = {"/session/login", "/session/logout", "/metrics", "/healthz"}
READ_ROUTES = [r for r in ROUTES if r.role in (READ, ANY_LOGIN)]


def expected_status(route: Route, caller: str) -> int:
    if route.path == "/session/check_setup_ok":
        return 406  # no login needed; the login is fixed in the config file
    if route.path == "/session/set_password":
        return 403  # the login is fixed in the config file, whoever asks
    if caller == "none":
        return 401
    if caller.startswith("admin"):
        return 200
    if route.role == ANY_LOGIN:
        return 200
    if route.role == READ and caller == "readonly":
        return 200
    return 403


def concrete(world: World, route: Route) -> str:
    """The route's path for one request (a silence made for it, if it takes one)."""
    path = route.path.replace("{id}", str(world.alert_id))
    if "{silence}" in path:
        args = {"header": unique("EXPIRED"), "comment": "a role test", "duration": 600}
        made = world.srv.command("/forward/silences/create.cmd", args)
        assert made.status_code == 200, made.text
        path = path.replace("{silence}", made.json()["kisalert.silence.id"])
    return path


def request(
    world: World, route: Route, body: dict[str, str] | None, path: str = "", **kwargs: Any
) -> requests.Response:
    path = path or concrete(world, route)
    return requests.request(route.method, world.srv.url + path, data=body, timeout=10, **kwargs)


def state(world: World) -> dict[str, Any]:
    """What a refused command must not change."""
    srv = world.srv
    return {
        # The window counters of a definition fall back to 0 as time passes: leave them out.
        "definitions": [
            {k: v for k, v in d.items() if not k.endswith(("burst_sent", "total_sent"))}
            for d in srv.get("/alerts/definitions.json").json()
        ],
        "alerts": srv.alerts(),
        "messages": srv.get("/messagebus/all_messages.json").json(),
        "keys": srv.get("/auth/apikey/list.json").json(),
        "silences": srv.get("/forward/silences/all_silences.json").json(),
    }


def assert_unchanged(world: World, before: dict[str, Any]) -> None:
    after = state(world)
    for part, value in before.items():
        assert after[part] == value, part


def kismet_cookie(response: requests.Response) -> str | None:
    for header in response.raw.headers.getlist("set-cookie"):
        if header.partition("=")[0].strip() == "KISMET":
            return str(header)
    return None


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_route_role(world: World, route: Route, caller: str) -> None:
    expected = expected_status(route, caller)
    body = route.body(world)
    refused = expected in (401, 403)
    path = concrete(world, route)
    before = state(world) if refused and route.method == "POST" else None
    response = request(world, route, body, path, **caller_kwargs(world, caller))
    assert response.status_code == expected, response.text
    if refused:
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text.strip(), "a refusal has a short plain-text body"
        assert kismet_cookie(response) is None
    if before is not None:
        assert_unchanged(world, before)
    if caller in ("readonly", "sensor", "admin-key"):
        assert kismet_cookie(response) is None, "API keys get no session cookie"
    if expected == 200 and route.path.endswith(".json"):
        assert response.headers["content-type"].startswith("application/json")
        response.json()
    if route.path == "/session/check_session" and expected == 200:
        assert response.text == "Session valid\n"
    if route.path == "/session/check_login" and expected == 200:
        assert response.text == "Login valid\n"


def test_readonly_key_reads_real_data(world: World) -> None:
    """What a dashboard needs comes back in full to a readonly key."""
    srv, token = world.srv, world.tokens["readonly"]
    kwargs = via("cookie", token)
    as_admin = srv.get("/alerts/all_alerts.json").json()
    as_key = requests.get(srv.url + "/alerts/all_alerts.json", timeout=10, **kwargs).json()
    assert as_key == as_admin
    wrapped = requests.get(
        srv.url + "/alerts/wrapped/last-time/0/alerts.json", timeout=10, **kwargs
    ).json()
    assert [a["kismet.alert.hash"] for a in wrapped["kismet.alert.list"]] == [
        a["kismet.alert.hash"] for a in as_admin
    ]
    one = requests.get(
        srv.url + f"/alerts/by-id/{world.alert_id}/alert.json", timeout=10, **kwargs
    ).json()
    assert one["kismet.alert.hash"] == world.alert_id
    view = requests.post(
        srv.url + "/alerts/alerts_view.json",
        data={**form({"fields": ["kismet.alert.header"]}), "page": "0", "length": "10"},
        timeout=10,
        **kwargs,
    ).json()
    assert {"data", "last_page", "last_row", "total_row"} <= set(view)
    unknown = requests.get(srv.url + "/alerts/by-id/1/alert.json", timeout=10, **kwargs)
    if world.alert_id != 1:
        assert (unknown.status_code, unknown.text) == (404, "{}")


def test_refused_keys_define_and_raise_nothing(world: World) -> None:
    srv = world.srv
    name = unique("NEVER")
    before = state(world)
    for role in ("readonly", "sensor"):
        for how in TRANSPORTS:
            kwargs = via(how, world.tokens[role])
            defined = requests.post(
                srv.url + "/alerts/definitions/define_alert.cmd",
                data=form({"name": name, "description": "d"}),
                timeout=10,
                **kwargs,
            )
            assert defined.status_code == 403
            for path in ("/alerts/raise_alerts.cmd", "/alerts/raise_alert.cmd"):
                raised = requests.post(
                    srv.url + path,
                    json={"name": ALERT, "text": "must not appear"},
                    timeout=10,
                    **kwargs,
                )
                assert raised.status_code == 403
            made = requests.post(
                srv.url + GENERATE,
                data=form({"name": name, "role": "admin", "duration": 0}),
                timeout=10,
                **kwargs,
            )
            assert made.status_code == 403
    assert_unchanged(world, before)
    headers = [d["kismet.alert.definition.header"] for d in before["definitions"]]
    assert name not in headers


@pytest.mark.parametrize("how", TRANSPORTS)
def test_tokens_work_every_way(world: World, how: str) -> None:
    for route in READ_ROUTES:
        if route.method != "GET":
            continue
        as_reader = request(world, route, None, **via(how, world.tokens["readonly"]))
        assert as_reader.status_code == 200, route.id
        as_sensor = request(world, route, None, **via(how, world.tokens["sensor"]))
        assert as_sensor.status_code == (200 if route.role == ANY_LOGIN else 403), route.id
    listing = Route("GET", "/auth/apikey/list.json", ADMIN)
    assert request(world, listing, None, **via(how, world.tokens["readonly"])).status_code == 403
    assert request(world, listing, None, **via(how, world.tokens["admin"])).status_code == 200


@pytest.mark.parametrize("how", TRANSPORTS)
@pytest.mark.parametrize("token", [BOGUS, BOGUS.lower(), "x", "ROLES"], ids=str)
def test_bad_token_is_401_everywhere(world: World, how: str, token: str) -> None:
    for route in [*READ_ROUTES, *ADMIN_ROUTES]:
        body = None if route.body is revoke_body else route.body(world)
        response = request(world, route, body, **via(how, token))
        assert response.status_code == 401, route.id


def test_a_readonly_token_does_not_hide_admin_credentials(world: World) -> None:
    """Credentials win over a token: the admin password still gets admin rights."""
    route = Route("GET", "/auth/apikey/list.json", ADMIN)
    kwargs = via("cookie", world.tokens["readonly"])
    assert request(world, route, None, auth=(USER, PASSWORD), **kwargs).status_code == 200


def test_custom_role_name_is_kept(world: World) -> None:
    listed = {
        e["kismet.httpd.auth.role"]
        for e in world.srv.get("/auth/apikey/list.json").json()
        if e["kismet.httpd.auth.role"] not in ("readonly", "admin")
    }
    assert "sensor" in listed


# The eventbus websocket: readonly (tests/test_eventbus.py tries every login style).


def test_eventbus_is_a_readonly_route(world: World) -> None:
    url = f"ws://127.0.0.1:{world.srv.port}/eventbus/events.ws"
    with connect(f"{url}?KISMET={world.tokens['readonly']}", open_timeout=5):
        pass
    with connect(f"{url}?KISMET={world.tokens['admin']}", open_timeout=5):
        pass
    for query, status in [("", 401), (f"?KISMET={world.tokens['sensor']}", 403)]:
        with pytest.raises(InvalidStatus) as refused:
            connect(url + query, open_timeout=5).close()
        assert refused.value.response.status_code == status


# set_password when the login lives in the data directory: keys may not change it.


def test_keys_cannot_set_the_password(tmp_path: Path) -> None:
    with Server(tmp_path, config=None) as srv:
        match = re.search(r"password '([^']+)'", srv.stdout())
        assert match, srv.stdout()
        login = ("admin", match.group(1))
        tokens = {}
        for role in ("readonly", "sensor"):
            made = requests.post(
                srv.url + GENERATE,
                data=form({"name": role, "role": role, "duration": 0}),
                auth=login,
                timeout=10,
            )
            assert made.status_code == 200, made.text
            tokens[role] = made.text
        for token in tokens.values():
            for how in TRANSPORTS:
                response = requests.post(
                    srv.url + "/session/set_password",
                    data={"username": "admin", "password": "taken-over"},
                    timeout=10,
                    **via(how, token),
                )
                assert response.status_code == 403, how
        check = srv.url + "/session/check_login"
        assert requests.get(check, auth=login, timeout=10).status_code == 200
        assert requests.get(check, auth=("admin", "taken-over"), timeout=10).status_code == 401


# CORS

ORIGIN = "https://dash.example"
OTHER = "https://evil.example"


def cors_headers(response: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-")}


def preflight(srv: Server, origin: str) -> requests.Response:
    return requests.options(
        srv.url + "/alerts/all_alerts.json",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=10,
    )


def read_from(srv: Server, origin: str, token: str | None = None) -> requests.Response:
    headers = {"Origin": origin}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(srv.url + "/alerts/all_alerts.json", headers=headers, timeout=10)


def test_cors_is_off_by_default(world: World) -> None:
    response = read_from(world.srv, ORIGIN, world.tokens["readonly"])
    assert response.status_code == 200
    assert cors_headers(response) == {}
    assert cors_headers(preflight(world.srv, ORIGIN)) == {}


def test_allowed_origin_alone_does_not_turn_cors_on(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + f"httpd_allowed_origin={ORIGIN}\n") as srv:
        assert cors_headers(read_from(srv, ORIGIN)) == {}
        assert cors_headers(preflight(srv, ORIGIN)) == {}


def check_allowed(response: requests.Response, origin: str) -> None:
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == origin
    assert headers["access-control-allow-credentials"] == "true"
    assert "origin" in response.headers.get("vary", "").lower()


def check_preflight(response: requests.Response, origin: str) -> None:
    assert response.status_code == 204
    check_allowed(response, origin)
    headers = cors_headers(response)
    methods = {m.strip().upper() for m in headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST"} <= methods
    allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed


def test_cors_echoes_the_origin(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "httpd_allow_cors=true\n") as srv:
        token = make_key(srv, "readonly")
        for origin in (ORIGIN, OTHER):
            response = read_from(srv, origin, token)
            assert response.status_code == 200
            check_allowed(response, origin)
            check_preflight(preflight(srv, origin), origin)
        # No Origin, no CORS headers.
        plain = requests.get(
            srv.url + "/alerts/all_alerts.json", timeout=10, **via("bearer", token)
        )
        assert plain.status_code == 200
        assert cors_headers(plain) == {}
        # CORS opens no door: roles still apply.
        assert read_from(srv, ORIGIN).status_code == 401
        listing = requests.get(
            srv.url + "/auth/apikey/list.json",
            headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert listing.status_code == 403


def test_cors_pinned_origin(tmp_path: Path) -> None:
    config = BASE_CONFIG + f"httpd_allow_cors=true\nhttpd_allowed_origin={ORIGIN}\n"
    with Server(tmp_path, config) as srv:
        token = make_key(srv, "readonly")
        allowed = read_from(srv, ORIGIN, token)
        assert allowed.status_code == 200
        check_allowed(allowed, ORIGIN)
        check_preflight(preflight(srv, ORIGIN), ORIGIN)
        other = read_from(srv, OTHER, token)
        assert cors_headers(other) == {}
        other_preflight = preflight(srv, OTHER)
        assert other_preflight.status_code != 204
        assert cors_headers(other_preflight) == {}


# TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    return self_signed(tmp_path_factory.mktemp("tls"))


def https(method: str, url: str, cert: Path, **kwargs: Any) -> tuple[int, str]:
    """One HTTPS request, its connection closed before returning: a socket left open
    would hold up the server's stop."""
    with requests.request(method, url, verify=str(cert), timeout=10, **kwargs) as response:
        return response.status_code, response.text


def test_tls_serves_https(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with Server(tmp_path, extra_args=["--tls-cert", str(cert), "--tls-key", str(key)]) as srv:
        assert f"https://127.0.0.1:{srv.port}/" in srv.stdout()
        url = f"https://127.0.0.1:{srv.port}"
        args = {"name": "tls", "role": "readonly", "duration": 0}
        status, token = https("POST", url + GENERATE, cert, data=form(args), auth=(USER, PASSWORD))
        assert status == 200, token
        status, body = https("GET", url + "/alerts/all_alerts.json", cert, **via("bearer", token))
        assert status == 200
        assert isinstance(json.loads(body), list)
        assert https("GET", url + "/alerts/all_alerts.json", cert)[0] == 401
        listing = https("GET", url + "/auth/apikey/list.json", cert, **via("query", token))
        assert listing[0] == 403
        # Plain HTTP is not served on the TLS port.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{srv.port}/session/check_setup_ok", timeout=5)


def test_an_idle_https_connection_does_not_hold_up_the_stop(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    """An idle TLS connection never answers the server's close_notify: the stop
    waited out the whole graceful timeout (5 s) for it."""
    cert, key = certificate
    srv = Server(tmp_path, extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    with requests.Session() as session:
        try:
            url = f"https://127.0.0.1:{srv.port}/system/timestamp.json"
            answer = session.get(url, auth=(USER, PASSWORD), verify=str(cert), timeout=10)
            assert answer.status_code == 200  # and the connection kept in the pool
            started = time.monotonic()
            assert srv.stop(signal.SIGTERM) == 0
            took = time.monotonic() - started
        finally:
            srv.stop()
    assert took < 4.0
    assert "Traceback" not in srv.stderr()


@pytest.mark.parametrize("which", ["cert-only", "key-only", "missing-files"])
def test_tls_needs_a_cert_and_a_key(
    tmp_path: Path, certificate: tuple[Path, Path], which: str
) -> None:
    cert, key = certificate
    tls = {
        "cert-only": ["--tls-cert", str(cert)],
        "key-only": ["--tls-key", str(key)],
        "missing-files": ["--tls-cert", str(tmp_path / "no.pem"), "--tls-key", str(key)],
    }[which]
    conf = tmp_path / "kisalert.conf"
    conf.write_text(BASE_CONFIG)
    port = free_port()
    args = [sys.executable, "-m", "kisalert", "serve", "--config", str(conf)]
    args += ["--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}", *tls]
    result = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "tls" in lines[0].lower()
    assert "listening" not in result.stdout


def test_every_route_the_api_serves_has_its_role_checked() -> None:
    checked = [re.sub(r"\{\w+\}", "1", route.path) for route in ROUTES]
    unchecked = [
        route.path
        for route in api_routes()
        if route.path not in ROLES_ELSEWHERE
        and not any(route.path_regex.fullmatch(path) for path in checked)
    ]
    assert unchecked == []
