"""Fuzzing the path parameters of every route (`{fmt}`, `{ts}`, `{id}`), with any
method, percent-encoding (broken escapes and bytes that are not UTF-8 included),
query strings with repeated keys, and odd credentials and headers. Invariants:
tests/fuzz/conftest.py."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kisalert.http.app import EVENTBUS_PATH
from tests.fuzz import strategies as s
from tests.fuzz import wire
from tests.fuzz.target import Target, examples
from tests.routes import api_routes

AUTH = ["admin-cookie"] * 5 + [
    "admin-bearer",
    "admin-query",
    "readonly-bearer",
    "readonly-cookie",
    "garbage-bearer",
    "garbage-basic",
    "both",
    "none",
]
# Header values here stay within one line: broken framing is test_bytes' part.
header_value = s.short_text.map(
    lambda text: s.encode(text).replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
)
extra_header = st.tuples(
    st.sampled_from(
        [b"Accept", b"Cookie", b"Authorization", b"X-Forwarded-For", b"Content-Type", b"Origin"]
    ),
    header_value,
)
SLASHES = ["", "", "", "/", "//", "/./", "/x/../"]


@pytest.fixture(scope="module", autouse=True)
def begun(target: Target) -> None:
    target.begin()


def fill(template: str, values: dict[str, str], styles: list[str]) -> tuple[str, str | None]:
    """The path with its parameters encoded, and the `{fmt}` the server will read."""
    path, fmt = template, None
    for (name, value), style in zip(values.items(), styles, strict=False):
        if "{" + name + "}" in path:
            encoded = s.percent_encode(value, style)
            path = path.replace("{" + name + "}", encoded)
            if name == "fmt":
                fmt = unquote(encoded, errors="replace")
    return path, fmt


@examples(450)
@given(
    st.sampled_from(s.ROUTES),
    st.fixed_dictionaries({"fmt": s.fmt, "ts": s.path_timestamp, "id": s.alert_id}),
    st.lists(st.sampled_from(s.ENCODINGS), min_size=3, max_size=3),
    st.one_of(st.sampled_from(s.METHODS[:2]), st.sampled_from(s.METHODS)),
    s.query_pairs,
    st.sampled_from(["&", "&", ";", "&&"]),
    st.sampled_from(AUTH),
    st.lists(extra_header, max_size=3),
    st.sampled_from(SLASHES),
    st.booleans(),
)
def fuzz_paths(
    target: Target,
    route: tuple[str, list[str]],
    values: dict[str, str],
    styles: list[str],
    method: str,
    pairs: list[tuple[str, str, str]],
    joiner: str,
    auth: str,
    extra: list[tuple[bytes, bytes]],
    slashes: str,
    raw_byte: bool,
) -> None:
    path, fmt = fill(route[0], values, styles)
    path = slashes + path if slashes else path
    logout = route[0] == "/session/logout"
    headers, auth_query = target.credentials(auth, target.spare_session() if logout else None)
    query = s.query_string(pairs, joiner)
    if auth_query:
        query = f"{query}&{auth_query}" if query else auth_query
    request_target = (path + ("?" + query if query else "")).encode("ascii")
    if raw_byte:
        request_target += b"\xff\xfe"  # not even a percent-escape
    body = b'{"fields": ["kismet.alert.text"]}' if method == "POST" else b""
    if body:
        headers.append((b"Content-Type", b"application/json"))
    request = wire.build(method.encode(), request_target, headers + extra, body)
    known = fmt if fmt in s.FORMATS and method in ("GET", "POST") else None
    answer = target.send(request, fmt=known, head_request=method == "HEAD")
    if raw_byte:
        assert answer.status in (400, 414), answer


def test_every_route_with_odd_parameters_methods_and_queries(target: Target) -> None:
    with target.watched("paths"):
        fuzz_paths(target)


def test_memory_is_back_to_its_baseline(target: Target) -> None:
    target.assert_memory_back()


def test_every_route_the_api_serves_is_fuzzed() -> None:
    """A route added later must join the fuzz (and its limits), not be forgotten."""
    served = {route.path for route in api_routes()} | {EVENTBUS_PATH}
    fuzzed = {template for template, _ in s.ROUTES}
    assert served - fuzzed == set()
