"""Fuzzing command dictionaries: what every command route reads from a request (the
`json` form field, a JSON body, a `json` query parameter, and the HTTP variables
beside it), with `fields`, `regex`, rates, MACs, names and numbers that are nearly
right or hostile. Invariants: tests/fuzz/conftest.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import strategies as s
from tests.fuzz import wire
from tests.fuzz.target import Target, examples

TRANSPORTS = [
    "form",
    "form",
    "json-body",
    "json-body",
    "query",
    "form-unquoted",
    "untyped",
    "json-odd-type",
]
ADMIN_AUTH = ["admin-cookie"] * 6 + [
    "admin-bearer",
    "admin-query",
    "readonly-bearer",
    "none",
    "both",
]
READ_AUTH = (
    ["admin-cookie"] * 3
    + ["readonly-bearer"] * 3
    + ["readonly-cookie", "admin-query", "garbage-bearer", "none"]
)


@pytest.fixture(scope="module", autouse=True)
def begun(target: Target) -> None:
    target.begin()


def command_request(
    target: Target,
    method: str,
    path: str,
    args: Any,
    variables: dict[str, str],
    transport: str,
    ascii_only: bool,
    auth: str,
) -> bytes:
    """The request that carries `args` and `variables` the way `transport` says."""
    headers, auth_query = target.credentials(auth)
    text = s.to_json(args, ascii_only)
    query = dict(variables)
    body = b""
    if transport == "query" or method == "GET":
        query["json"] = text
    elif transport in ("form", "form-unquoted"):
        encoded = quote(text, safe="", errors="surrogatepass")
        value = s.encode(text) if transport == "form-unquoted" else encoded.encode()
        body = b"json=" + value
        if variables:
            body += b"&" + urlencode(variables, errors="surrogatepass").encode()
        query = {}
        headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
    elif transport == "untyped":
        body = s.encode(text)
    else:
        body = s.encode(text)
        kind = (
            b"application/json"
            if transport == "json-body"
            else b"Application/JSON ; charset=latin-1"
        )
        headers.append((b"Content-Type", kind))
    target_path = path
    parts = [urlencode(query, errors="surrogatepass")] if query else []
    parts += [auth_query] if auth_query else []
    if parts:
        target_path += "?" + "&".join(parts)
    return wire.build(method.encode(), target_path.encode("ascii"), headers, body)


transports = st.sampled_from(TRANSPORTS)


READ_ROUTES = [
    "/alerts/all_alerts.{fmt}",
    "/alerts/last-time/-3600/alerts.{fmt}",
    "/alerts/wrapped/last-time/0/alerts.{fmt}",
    "/alerts/alerts_view.{fmt}",
    "/alerts/by-id/{id}/alert.{fmt}",
    "/alerts/definitions.{fmt}",
    "/messagebus/all_messages.{fmt}",
    "/messagebus/last-time/0/messages.{fmt}",
    "/system/timestamp.{fmt}",
    "/auth/apikey/list.{fmt}",
    "/alerts/definitions/state.{fmt}",
    "/sources/all_sources.{fmt}",
    "/forward/silences/all_silences.{fmt}",
]


@examples(250)
@given(
    st.sampled_from(READ_ROUTES),
    st.sampled_from(s.FORMATS),
    s.view_command,
    s.view_variables,
    transports,
    st.booleans(),
    st.sampled_from(READ_AUTH),
    st.sampled_from(["GET", "POST"]),
)
def fuzz_reads(
    target: Target,
    route: str,
    fmt: str,
    args: Any,
    variables: dict[str, str],
    transport: str,
    ascii_only: bool,
    auth: str,
    method: str,
) -> None:
    path = route.replace("{fmt}", fmt).replace("{id}", "1")
    if path.startswith("/system/"):
        method = "GET"
    request = command_request(target, method, path, args, variables, transport, ascii_only, auth)
    target.send(request, fmt=fmt)


def test_reads_with_fields_regex_and_view_variables(target: Target) -> None:
    with target.watched("reads"):
        fuzz_reads(target)


@examples(250)
@given(
    st.sampled_from(["/alerts/all_alerts.json", "/alerts/alerts_view.json?page=0&search=a"]),
    st.fixed_dictionaries({}, optional={"regex": s.regex_spec, "fields": s.fields_spec}),
)
def fuzz_filters(target: Target, path: str, args: dict[str, Any]) -> None:
    target.send(
        command_request(target, "POST", path, args, {}, "json-body", True, "readonly-bearer")
    )


def test_fields_and_regex(target: Target) -> None:
    with target.watched("fields and regex"):
        fuzz_filters(target)


@pytest.mark.parametrize(
    ("route", "strategy", "count"),
    [
        ("/alerts/raise_alerts.cmd", s.raise_command, 250),
        ("/alerts/raise_alert.cmd", s.raise_command, 50),
        ("/alerts/definitions/define_alert.cmd", s.define_command, 250),
        ("/auth/apikey/generate.cmd", s.apikey_command, 120),
        ("/auth/apikey/revoke.cmd", s.apikey_command, 60),
        ("/forward/silences/create.cmd", s.silence_command, 150),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_admin_commands(
    target: Target, route: str, strategy: st.SearchStrategy[Any], count: int
) -> None:
    @examples(count)
    @given(strategy, transports, st.booleans(), st.sampled_from(ADMIN_AUTH))
    def fuzz(args: Any, transport: str, ascii_only: bool, auth: str) -> None:
        method = "POST" if transport != "query" else "GET"
        target.send(command_request(target, method, route, args, {}, transport, ascii_only, auth))

    with target.watched(route):
        fuzz()


@examples(40)
@given(
    st.dictionaries(
        st.sampled_from(["username", "password", "json", "x"]), s.hostile_text, max_size=3
    ),
    st.sampled_from(ADMIN_AUTH),
)
def fuzz_set_password(target: Target, fields: dict[str, str], auth: str) -> None:
    headers, query = target.credentials(auth)
    headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
    body = urlencode(fields, errors="surrogatepass").encode()
    path = "/session/set_password" + (f"?{query}" if query else "")
    answer = target.send(wire.build(b"POST", path.encode(), headers, body))
    # The login comes from a config file: it can never be changed over HTTP.
    assert answer.status in (401, 403, 429), answer


def test_set_password(target: Target) -> None:
    with target.watched("set_password"):
        fuzz_set_password(target)


def test_memory_is_back_to_its_baseline(target: Target) -> None:
    target.assert_memory_back()
