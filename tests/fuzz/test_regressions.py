"""What the fuzz suite found, each as a plain reproducer against a real server.

Each failed before its fix. A strict xfail is one whose fix is in files others are
changing (its reason names them): when it passes, flip it to a plain test, and drop
the allowance for it in the fuzz module its reason points at (KNOWN_BEHIND).
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import socket
from urllib.parse import quote

import pytest

from tests.fuzz import wire
from tests.fuzz.target import Target
from tests.server import PASSWORD, USER


@pytest.fixture(scope="module", autouse=True)
def begun(target: Target) -> None:
    target.begin(rounds=0)


def cookie(target: Target) -> list[tuple[bytes, bytes]]:
    return [(b"Cookie", b"KISMET=" + target.token.encode())]


def command(target: Target, path: bytes, args: object) -> bytes:
    headers = [*cookie(target), (b"Content-Type", b"application/json")]
    return wire.build(b"POST", path, headers, json.dumps(args).encode())


# Fixed


def test_a_refusal_quoting_a_line_break_is_still_one_line(target: Target) -> None:
    """An unknown alert name is quoted in the 400: a name holding line breaks (any
    that str.splitlines() knows) made the answer several lines."""
    request = command(target, b"/alerts/raise_alerts.cmd", {"name": "a\nb\x1ec\u2028", "text": "t"})
    answer = target.send(request)
    assert answer.status == 400
    assert answer.body == (
        b"Invalid request:  Unknown alert type 'a\\x0ab\\x1ec\\u2028'; "
        b"the defined alerts are listed at /alerts/definitions.json\n"
    )


@pytest.mark.parametrize(
    "pattern",
    [
        "\\pL{400}",  # nine characters, 480 000 RE2 instructions: ~0.5 s to compile
        "\\pL{0}" * 170,  # compiles to nothing, but each \pL is parsed: ~20 ms a pattern
        "(?i)[\\pL\\pN]{100}",
    ],
    ids=["huge-program", "many-unicode-classes", "case-folded-classes"],
)
def test_costly_regex_patterns_are_refused_without_stalling_others(
    target: Target, pattern: str
) -> None:
    request = command(
        target, b"/alerts/all_alerts.json", {"regex": [["kismet.alert.text", pattern]] * 64}
    )
    with target.watched(f"regex {pattern[:12]}"):
        for _ in range(3):
            answer = target.send(request)
            assert answer.status == 400, answer
            assert answer.body.startswith(b"Invalid regex: "), answer


@pytest.mark.parametrize("more", [b"", b"&page=1"], ids=["json-only", "more-fields"])
def test_a_big_percent_encoded_form_body_does_not_stall_others(target: Target, more: bytes) -> None:
    """parse_qsl took ~300 ms per MiB on the event loop: a form that is only `json=`
    is now decoded in C, any other big one in a worker thread."""
    # Just under the 1 MiB body limit once encoded (16 characters an emoji).
    value = quote(json.dumps({"fields": ["kismet.alert.text"], "x": "😀" * 65_000}), safe="")
    body = b"json=" + value.encode()
    headers = [*cookie(target), (b"Content-Type", b"application/x-www-form-urlencoded")]
    request = wire.build(b"POST", b"/alerts/all_alerts.json", headers, body)
    with target.watched("form body"):
        for _ in range(3):
            assert target.send(request, fmt="json").status == 200


def test_a_regex_over_long_alert_texts_does_not_stall_others(target: Target) -> None:
    chance = random.Random(9)
    for _ in range(50):
        args = {"name": "FUZZ", "text": "".join(chance.choice("ab") for _ in range(16_000))}
        assert target.send(command(target, b"/alerts/raise_alerts.cmd", args)).status == 200
    spec = {"regex": [["kismet.alert.text", "a[ab]{40}c"]]}
    request = command(target, b"/alerts/all_alerts.json", spec)
    with target.watched("regex search"):
        assert target.send(request, fmt="json").status == 200


def bad_chunk(target: Target) -> bytes:
    head = wire.build(
        b"POST", b"/alerts/all_alerts.json", [*cookie(target), (b"Transfer-Encoding", b"chunked")]
    )
    return head + b"zz\r\n\r\n"


def test_a_malformed_chunk_is_answered_400(target: Target) -> None:
    with wire.connect(target.port) as sock:
        sock.sendall(bad_chunk(target))
        reader = wire.Reader(sock, timeout=5)
        answer = reader.answer()
    assert answer is not None and answer.status == 400, answer


def half_closed(target: Target, data: bytes) -> list[int]:
    """Send `data`, half-close: the statuses of the answers, until the server closes."""
    with wire.connect(target.port) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        reader = wire.Reader(sock, timeout=5)
        statuses = []
        while (answer := reader.answer()) is not None:
            statuses.append(answer.status)
    return statuses


def test_pipelined_requests_are_all_answered_after_a_half_close(target: Target) -> None:
    basic = b"Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode())
    one = wire.build(b"GET", b"/system/timestamp.json", [(b"Authorization", basic)])
    for _ in range(5):  # a race: the first try is sometimes all answered
        assert half_closed(target, one * 3) == [200, 200, 200]


def pipelined_bad_chunk(target: Target) -> bytes:
    return wire.build(b"GET", b"/system/timestamp.json", cookie(target)) + bad_chunk(target)


def test_a_malformed_chunk_behind_a_pipelined_request_is_answered_400(target: Target) -> None:
    with wire.connect(target.port) as sock:
        sock.sendall(pipelined_bad_chunk(target))
        reader = wire.Reader(sock, timeout=5)
        statuses: list[int] = []
        with contextlib.suppress(TimeoutError):
            while len(statuses) < 2 and (answer := reader.answer()) is not None:
                statuses.append(answer.status)
    assert statuses == [200, 400]


def test_a_body_cut_short_by_a_half_close_behind_a_pipelined_request_closes(
    target: Target,
) -> None:
    """The second request's body can never complete: the server answers the first and
    closes, whether the half-close reaches it before or after the second has begun."""
    one = wire.build(b"GET", b"/system/timestamp.json", cookie(target))
    short = (
        b"POST /alerts/all_alerts.json HTTP/1.1\r\nHost: x\r\nCookie: KISMET="
        + target.token.encode()
        + b"\r\nContent-Length: 100\r\n\r\njson="
    )
    # half_closed reads until the close, and times out (an error) if none comes.
    assert half_closed(target, one + short) == [200]


# Broken bytes behind pipelined requests, then a half-close: the answers in flight,
# then the 400, then the close (a bad chunk made the app of its request wait for its
# body for ever).
@pytest.mark.parametrize(
    "tail",
    ["bad-request-line", "binary", "bad-chunk"],
)
def test_a_half_close_after_broken_bytes_behind_pipelined_requests(
    target: Target, tail: str
) -> None:
    broken = {
        "bad-request-line": b"GET / HTTP/1.1 extra\r\n\r\n",
        "binary": b"\x00\x01\r\n\r\n",
        "bad-chunk": bad_chunk(target),
    }[tail]
    one = wire.build(b"GET", b"/system/timestamp.json", cookie(target))
    assert half_closed(target, one * 2 + broken) == [200, 200, 400]
