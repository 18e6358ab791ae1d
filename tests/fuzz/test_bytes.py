"""Fuzzing the HTTP layer with bytes: random bytes, broken request lines, odd header
names and values (0x00-0xFF), conflicting Content-Length and Transfer-Encoding, bad
chunked framing, pipelined requests, data sent in pieces, half-closed sockets.

What "never a dropped connection without an answer" means here, per connection (the
requests are read with httptools, the parser the server uses, to know what it got):

- every complete request is answered, in order, up to the first one after which
  HTTP lets the server close (its answer says `connection: close`, the request said
  so or was HTTP/1.0, or it asked for an upgrade);
- bytes that cannot be a request get a 400 after the answers to what came before;
- bytes that are only the beginning of a request get no answer: the server waits for
  the rest, and once the client half-closes it may close without one, since no
  request ever arrived (RFC 9112, 9.6). This is the only close without an answer.

"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

import httptools
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import wire
from tests.fuzz.target import Target, check_answer, examples

# How long to wait for the 400 that the known defect never sends.


@dataclass
class Parsed:
    """What httptools made of the bytes."""

    methods: list[bytes] = field(default_factory=list)  # of the requests to be answered
    refused: bool = False  # a parse error the server answers with 400
    incomplete: bool = False  # ends inside a request


class _Oracle:
    def __init__(self) -> None:
        self.parsed = Parsed()
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.in_message = self.head_done = self.closing = False

    def on_message_begin(self) -> None:
        self.in_message, self.head_done = True, False

    def on_headers_complete(self) -> None:
        self.head_done = True
        self.closing = not self.parser.should_keep_alive()

    def on_message_complete(self) -> None:
        self.in_message = False
        self.parsed.methods.append(self.parser.get_method())


def parse(data: bytes) -> Parsed:
    oracle = _Oracle()
    parsed = oracle.parsed
    # Fed as the server may get it, a byte at a time at worst; stop where it stops.
    try:
        for offset in range(0, len(data), 4096):
            oracle.parser.feed_data(data[offset : offset + 4096])
            if oracle.closing and not oracle.in_message:
                return parsed
    except httptools.HttpParserUpgrade:
        return parsed  # answered, then the connection is the upgrade's or closed
    except httptools.HttpParserError:
        if oracle.closing and not oracle.in_message:
            return parsed  # the error is after the end of the connection
        parsed.refused = True
        return parsed
    parsed.incomplete = oracle.in_message or (bool(data) and not parsed.methods)
    return parsed


# Pieces of a connection's bytes


def valid_request(target: Target, method: bytes, path: bytes, body: bytes) -> bytes:
    headers = [(b"Cookie", b"KISMET=" + target.token.encode())]
    if body:
        headers.append((b"Content-Type", b"application/json"))
    return wire.build(method, path, headers, body)


PATHS = [
    b"/system/timestamp.json",
    b"/alerts/all_alerts.itjson",
    b"/alerts/raise_alerts.cmd",
    b"/alerts/definitions/define_alert.cmd",
    b"/session/check_session",
    b"/nosuch",
]
BODIES = [b"", b'{"fields": ["kismet.alert.text"]}', b'{"name": "FUZZ", "text": "bytes"}', b"{"]
NAMES = [b"Content-Length", b"Transfer-Encoding", b"Connection", b"Expect", b"Upgrade", b"X-A"]
token = st.from_regex(rb"\A[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}\Z")
# Mostly valid, so that the parser gets past the head often enough to reach bodies.
header_name = st.sampled_from(["name", "name", "name", "token", "token", "binary"]).flatmap(
    lambda kind: {"name": st.sampled_from(NAMES), "token": token, "binary": st.binary(max_size=12)}[
        kind
    ]
)
VALUES = st.sampled_from(
    [
        b"chunked",
        b"gzip, chunked",
        b"chunked, gzip",
        b"identity",
        b"xchunked",
        b" chunked",
        b"close",
        b"keep-alive",
        b"Upgrade",
        b"h2c",
        b"100-continue",
        b"0",
        b"5",
        b"-1",
        b"+5",
        b"1, 1",
        b"99999999999999999999",
        b"\xff\xfe",
        b"a\x00b",
    ]
)
header_value = st.binary(max_size=24)
TAILS = [b"0\r\n\r\n", b"0\r\n\r\n", b""]
chunk = st.one_of(
    st.binary(max_size=20).map(lambda data: b"%x\r\n%s\r\n" % (len(data), data)),
    st.sampled_from(
        [
            b"0\r\n\r\n",
            b"0\r\nX-Trailer: 1\r\n\r\n",
            b"5;ext=1\r\nhello\r\n",
            b"zz\r\n\r\n",
            b"5\r\nhel",
            b"3\r\nhello\r\n",
            b"FFFFFFFFFFFFFFFFFF\r\n",
            b"-1\r\n",
            b"5\nhello\n",
            b"\r\n",
        ]
    ),
)
REQUEST_LINES = [
    b"GET /system/timestamp.json HTTP/1.0",
    b"GET /system/timestamp.json HTTP/2.0",
    b"GET /system/timestamp.json HTTP/1.1 extra",
    b"GET /system/timestamp.json",
    b"get /system/timestamp.json HTTP/1.1",
    b"GET\t/system/timestamp.json HTTP/1.1",
    b"GET http://127.0.0.1/system/timestamp.json HTTP/1.1",
    b"OPTIONS * HTTP/1.1",
    b"CONNECT 127.0.0.1:80 HTTP/1.1",
    b"GET /system/timestamp.json?\x00 HTTP/1.1",
    b"GET /system/\x7ftimestamp.json HTTP/1.1",
    b" GET / HTTP/1.1",
    b"GET  / HTTP/1.1",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello
    b"PRI * HTTP/2.0\r\n\r\nSM",  # HTTP/2's preface
]


FRAMINGS = ["none", "length", "short-length", "long-length", "two-lengths", "chunked", "both"]
# What an odd request gets wrong: one thing each (mostly), so that they reach every
# stage of parsing rather than all failing at their first line.
DEFECTS = ["line", "name", "value", "fold", "framing", "framing", "chunks", "chunks", "ending"]


@st.composite
def odd_request(draw: st.DrawFn, target: Target) -> bytes:
    """A request with a broken line, odd headers, or a misframed body."""
    defect = draw(st.sampled_from(DEFECTS))
    method = draw(st.sampled_from([b"GET", b"POST", b"POST", b"HEAD", b"PUT"]))
    line = b"%s %s HTTP/1.1" % (method, draw(st.sampled_from(PATHS)))
    if defect == "line":
        line = draw(st.sampled_from(REQUEST_LINES))
    headers = [b"Host: x", b"Cookie: KISMET=" + target.token.encode()]
    names = header_name if defect == "name" else st.sampled_from(NAMES)
    values = header_value if defect == "value" else VALUES
    for name, value in draw(st.lists(st.tuples(names, values), max_size=3)):
        headers.append(name + draw(st.sampled_from([b": ", b":", b" : ", b":\t"])) + value)
    if defect == "fold":
        headers.append(draw(st.sampled_from([b" folded", b"\tfolded", b"no colon", b": no name"])))
    framing = draw(st.sampled_from(FRAMINGS)) if defect == "framing" else "length"
    body = draw(st.sampled_from(BODIES))
    if framing in ("chunked", "both") or defect == "chunks":
        headers.append(b"Transfer-Encoding: chunked")
        body = b"".join(draw(st.lists(chunk, max_size=4))) + draw(st.sampled_from(TAILS))
    if framing in ("length", "two-lengths", "both") and defect != "chunks":
        headers.append(b"Content-Length: %d" % len(body))
    if framing == "two-lengths":
        headers.append(b"Content-Length: %d" % (len(body) + 1))
    if framing == "short-length":
        headers.append(b"Content-Length: %d" % max(0, len(body) - 1))
    if framing == "long-length":
        headers.append(b"Content-Length: %d" % (len(body) + 3))
    ending = draw(st.sampled_from([b"\n", b"\r", b"\n\r"])) if defect == "ending" else b"\r\n"
    return ending.join([line, *headers]) + ending + ending + body


@st.composite
def connection_bytes(draw: st.DrawFn, target: Target) -> bytes:
    valid = st.builds(
        lambda method, path, body: valid_request(target, method, path, body),
        st.sampled_from([b"GET", b"POST", b"HEAD"]),
        st.sampled_from(PATHS),
        st.sampled_from(BODIES),
    )
    pieces = draw(
        st.lists(
            st.one_of(
                valid,
                valid,
                odd_request(target),
                odd_request(target),
                odd_request(target),
                odd_request(target),
                st.binary(max_size=64),
                st.sampled_from([b"\r\n", b"\r\n\r\n", b"\n"]),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return b"".join(pieces)


@pytest.fixture(scope="module", autouse=True)
def begun(target: Target) -> None:
    target.begin()


def send_in_pieces(sock: socket.socket, data: bytes, cuts: list[int]) -> None:
    start = 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        if cut > start:
            sock.sendall(data[start:cut])
            start = cut
            time.sleep(0.002)


def exchange(target: Target, data: bytes, cuts: list[int], half_close: bool) -> None:
    parsed = parse(data)
    context = f"sent {data!r}\nhalf-closed: {half_close}; parsed: {parsed}"
    with wire.connect(target.port) as sock, target.timed(data):
        try:
            send_in_pieces(sock, data, cuts)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # it stopped reading or closed (a refusal, HTTP/1.0): its answers count
        due = len(parsed.methods) + parsed.refused
        reader = wire.Reader(sock)
        answers: list[wire.Answer] = []
        try:
            while len(answers) < due:
                methods = parsed.methods[len(answers) :]
                answer = reader.answer(head_request=methods[:1] == [b"HEAD"])
                if answer is None:
                    break
                if answer.status == 100:
                    continue  # interim: the answer follows
                check_answer(answer, data)
                answers.append(answer)
                if answer.closes:
                    return
        except TimeoutError:
            raise AssertionError(f"no answer within the timeout; {answers}\n{context}") from None
        except ConnectionResetError:
            raise AssertionError(f"reset after {answers}\n{context}") from None
    assert len(answers) == due, f"closed after {len(answers)} of {due} answers {answers}\n{context}"


@examples(300)
@given(
    st.data(),
    st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=3),
    st.booleans(),
)
def fuzz_bytes(target: Target, data: st.DataObject, cuts: list[int], half_close: bool) -> None:
    exchange(target, data.draw(connection_bytes(target)), cuts, half_close)


def test_bytes_broken_framing_and_odd_headers(target: Target) -> None:
    with target.watched("bytes"):
        fuzz_bytes(target)


def test_memory_is_back_to_its_baseline(target: Target) -> None:
    target.assert_memory_back()
