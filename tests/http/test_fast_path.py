"""The raise path's shortcuts give exactly the answers the long way gave: the route
table ahead of Starlette, the `json=`-only form decoding, hand-built responses and
remembered Basic logins (bench/raise_throughput.py measures what they save)."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import Response

from kisalert.http.command import _only_json
from kisalert.http.responses import NO_CACHE, empty_json, json_response, text_response
from tests.http.helpers import RAISE, define_fast, mine
from tests.server import BASE_CONFIG, PASSWORD, USER, Server
from tests.test_hardening_auth import change_password, printed_password

# The form decoding: whenever the shortcut answers, it answers what parse_qsl does.

FORM_TEXT = st.lists(
    st.sampled_from([*'json=%+&\\abcXYZ09 {}":,é€\x00\x7f', "%2", "%C3", "%zz", "%e2%82"]),
    max_size=30,
).map("".join)


def _parse_qsl_json(form: str) -> str | None:
    return dict(parse_qsl(form, keep_blank_values=True)).get("json")


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(FORM_TEXT)
def test_only_json_agrees_with_parse_qsl_on_any_form(tail: str) -> None:
    form = "json=" + tail
    fast = _only_json(form)
    if fast is not None:
        assert fast == _parse_qsl_json(form)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(max_size=80))
def test_only_json_takes_every_percent_encoded_command(text: str) -> None:
    """What clients send (requests, urllib, curl --data-urlencode) takes the shortcut."""
    for encoded in (quote(text), quote_plus(text)):
        form = "json=" + encoded
        assert _only_json(form) == _parse_qsl_json(form) == text


def test_only_json_leaves_other_forms_to_parse_qsl() -> None:
    assert _only_json("json=%7B%7D&x=1") is None
    assert _only_json("other=1") is None
    assert _only_json("json=%7B%zz") is None  # a broken escape: parse_qsl keeps it
    assert _only_json("json=caf\u00e9") is None  # not ASCII


# Hand-built answers carry Starlette's own headers, in its order.


@pytest.mark.parametrize("status", [200, 400, 404, 503])
def test_answers_have_the_headers_starlette_would_give(status: int) -> None:
    body = b'{"a": 1}'
    expected = Response(body, status, headers=NO_CACHE, media_type="application/json")
    assert json_response(body, status).raw_headers == expected.raw_headers
    text = Response("no such alert\n", status, headers=NO_CACHE, media_type="text/plain")
    assert text_response("no such alert", status).raw_headers == text.raw_headers
    assert text_response("no such alert", status).body == b"no such alert\n"
    empty = Response(b"{}", status, headers=NO_CACHE, media_type="application/json")
    assert empty_json(status).raw_headers == empty.raw_headers


# Over the wire.


def test_a_raise_with_encoded_text_keeps_every_character(
    shared_server: Server, unique_name: str
) -> None:
    define_fast(shared_server, unique_name)
    text = 'bench + "quoted" 100% café € \\ tab\there'
    for body in (
        "json=" + quote(json.dumps({"name": unique_name, "text": text})),
        "json=" + quote_plus(json.dumps({"name": unique_name, "text": text})),
        # Not UTF-8 once decoded: replaced as parse_qsl replaces it.
        "json=" + quote(json.dumps({"name": unique_name, "text": "x"}))[:-6] + "%FF%22%7D",
    ):
        response = shared_server.post(
            RAISE, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 200, response.text
    texts = [alert["kismet.alert.text"] for alert in mine(shared_server, unique_name)]
    assert texts == [text, text, "x\ufffd"]


def test_route_table_keeps_starlettes_404_and_405(shared_server: Server) -> None:
    wrong_method = shared_server.get("/alerts/raise_alerts.cmd")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
    assert wrong_method.text == "Method Not Allowed\n"
    assert shared_server.get("/alerts/no_such_route.json").status_code == 404
    # A trailing slash: Starlette's redirect to the route, as before.
    slash = shared_server.get("/alerts/all_alerts.json/", allow_redirects=False)
    assert slash.status_code == 307
    assert slash.headers["Location"].endswith("/alerts/all_alerts.json")
    head = shared_server.session.head(shared_server.url + "/alerts/definitions.json", timeout=10)
    assert head.status_code == 200 and head.headers["Content-Type"] == "application/json"
    assert int(head.headers["Content-Length"]) > 100


def _raw_basic(server: Server, user: str, password: str) -> int:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"GET /session/check_login HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_a_remembered_basic_login_ends_with_the_password(tmp_path: Path) -> None:
    """The old password stops working on the very next request after a change, though
    the same header logged in a moment before."""
    with Server(tmp_path, config=None) as server:
        first = printed_password(server)
        assert _raw_basic(server, "admin", first) == 200
        assert _raw_basic(server, "admin", first) == 200  # now remembered
        change_password(server, first, "n3w-Secret-pw")
        assert _raw_basic(server, "admin", first) == 401
        assert _raw_basic(server, "admin", "n3w-Secret-pw") == 200


def test_a_remembered_login_is_still_locked_out(tmp_path: Path) -> None:
    """Ten wrong guesses lock an address out, the right password included, even when
    that very header logged in a moment before (else it would tell itself)."""
    with Server(tmp_path, config=BASE_CONFIG) as server:
        assert _raw_basic(server, USER, PASSWORD) == 200
        for _ in range(10):
            assert _raw_basic(server, USER, "wrong") == 401
        assert _raw_basic(server, USER, PASSWORD) == 429
