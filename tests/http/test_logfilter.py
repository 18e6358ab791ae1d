"""Clients cannot fill the log (issue 9): bad requests by the hundred leave a few lines,
and what the server stack logs is aggregated, one line per kind per interval with a
count of what was left out."""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import re
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kisalert.http.logfilter import MAX_KINDS, Aggregate
from tests.http.helpers import exchange
from tests.server import BASE_CONFIG, PASSWORD, USER, Server, free_port, wait_for

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
TIMES = 200  # of each kind


def upgrade(*headers: bytes, path: bytes = b"/eventbus/events.ws", version: bytes = b"13") -> bytes:
    return b"\r\n".join(
        [
            b"GET " + path + b" HTTP/1.1",
            b"Host: x",
            b"Upgrade: websocket",
            b"Connection: Upgrade",
            b"Sec-WebSocket-Key: " + KEY,
            b"Sec-WebSocket-Version: " + version,
            *headers,
            b"",
            b"",
        ]
    )


def basic(user: str, password: str) -> bytes:
    return b"Authorization: Basic " + base64.b64encode(f"{user}:{password}".encode())


def after_handshake(server: Server, frame: bytes) -> None:
    """A logged-in websocket that sends one broken frame."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(upgrade(basic(USER, PASSWORD)))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101"), head
        sock.sendall(frame)
        while sock.recv(65536):
            pass


def send(server: Server, data: bytes) -> None:
    """Send a request, say it is all, and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass


def hang_up(server: Server, data: bytes) -> None:
    """Send a part of a request and go away."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)


# Every kind of bad request a client can send without a login, and broken websocket
# frames from one with a login.
BAD: dict[str, Callable[[Server], None]] = {
    "malformed HTTP": lambda s: send(s, b"\x00\x01garbage\r\n\r\n"),
    "not websocket upgrade": lambda s: send(
        s, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    ),
    "bad websocket key": lambda s: send(s, upgrade().replace(KEY, b"short")),
    "bad websocket version": lambda s: send(s, upgrade(version=b"8")),
    "websocket without login": lambda s: send(s, upgrade()),
    "websocket 0xFF header": lambda s: send(s, upgrade(b"X-A: \xff")),
    "websocket unknown path": lambda s: send(s, upgrade(path=b"/nope.ws")),
    "websocket cut short": lambda s: hang_up(s, upgrade()[:-10]),
    "bad Content-Length": lambda s: send(
        s, b"POST /alerts/raise_alerts.cmd HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"
    ),
    "body too large": lambda s: send(
        s, b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"a" * 65536
    ),
    "URL too long": lambda s: send(s, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"),
    "bad chunk": lambda s: send(
        s, b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    ),
    "unmasked frame": lambda s: after_handshake(s, b"\x81\x05hello"),
    "bad opcode": lambda s: after_handshake(s, b"\x83\x80abcd"),
    "bad UTF-8": lambda s: after_handshake(s, b"\x81\x82abcd" + bytes([0xFF ^ 0x61, 0xFE ^ 0x62])),
}


# Wrong passwords, each kind on a server of its own: they lock the address out.
GUESSES: dict[str, Callable[[Server], None]] = {
    "websocket wrong password": lambda s: send(s, upgrade(basic(USER, "wrong"))),
    "HTTP wrong password": lambda s: send(
        s,
        b"GET /alerts/all_alerts.json HTTP/1.1\r\nHost: x\r\n"
        + basic(USER, "wrong")
        + b"\r\nConnection: close\r\n\r\n",
    ),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("logflood"), BASE_CONFIG) as server:
        yield server


def flood(server: Server, bad: Callable[[Server], None]) -> list[str]:
    """What the server writes on stderr while `bad` is done TIMES times."""
    before = server.stderr()
    for _ in range(TIMES):
        bad(server)
    assert exchange(server, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 200"
    )
    return server.stderr()[len(before) :].splitlines()


# At most the first line of a kind and one count a minute; today nothing at all.


@pytest.mark.parametrize("kind", BAD)
def test_hundreds_of_bad_requests_leave_a_few_lines(server: Server, kind: str) -> None:
    lines = flood(server, BAD[kind])
    assert len(lines) <= 2, lines[:5]


@pytest.mark.parametrize("kind", GUESSES)
def test_hundreds_of_wrong_passwords_leave_a_few_lines(tmp_path: Path, kind: str) -> None:
    with Server(tmp_path, BASE_CONFIG) as server:
        lines = flood(server, GUESSES[kind])
    assert len(lines) <= 2, lines[:5]


# The aggregation itself, on the real server stack: uvicorn's own HTTP protocol logs a
# warning for every malformed request, which kisalert's protocol no longer does.

STOCK_SERVER = textwrap.dedent(
    """
    import sys
    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from kisalert.http import logfilter

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    port, interval = int(sys.argv[1]), float(sys.argv[2])
    config = uvicorn.Config(
        app, port=port, http=HttpToolsProtocol, log_level="warning", lifespan="off"
    )
    logfilter.install(interval)
    print("listening", flush=True)
    uvicorn.Server(config).run()
    """
)
COUNT = re.compile(r'(\d+) more like "Invalid HTTP request received\." not logged in the last')


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def stock_server() -> Iterator[tuple[int, list[str]]]:
    """A bare app on uvicorn's stock HTTP protocol, its warnings aggregated over 1 s;
    its port, and the lines it writes on stderr as they come."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", STOCK_SERVER, str(port), "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr, lines = proc.stderr, list[str]()
    reader = threading.Thread(target=lambda: lines.extend(iter(stderr.readline, "")))
    reader.start()
    try:
        assert proc.stdout.readline() == "listening\n"
        wait_for(lambda: accepts(port), what="the stock server")
        yield port, lines
    finally:
        proc.terminate()
        proc.wait(10)
        reader.join()
        proc.stdout.close()
        stderr.close()


def test_the_server_stack_warning_is_logged_once_with_a_count(
    stock_server: tuple[int, list[str]],
) -> None:
    port, lines = stock_server
    for _ in range(300):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"\x00\x01garbage\r\n\r\n")
            while sock.recv(4096):
                pass
    wait_for(
        lambda: sum(int(n) for n in COUNT.findall("".join(lines))) == 299,
        what="the count of left-out warnings",
    )
    warnings = [line for line in lines if "Invalid HTTP request received" in line]
    assert warnings[0] == "WARNING:  Invalid HTTP request received.\n"
    # The first warning, then one count line an interval (a second one if the flood
    # spanned the end of an interval).
    assert len(warnings) <= 3, warnings


# Aggregate on a logger of its own

Logged = tuple[logging.Logger, io.StringIO, Aggregate]
LEFT_OUT = re.compile(r"(\d+) more like")


@contextlib.contextmanager
def capture(interval: float) -> Iterator[Logged]:
    """A logger whose lines go through an Aggregate into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    aggregate = Aggregate(interval)
    handler.addFilter(aggregate)
    logger = logging.getLogger("kisalert-test-logfilter")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield logger, stream, aggregate
    finally:
        logger.removeHandler(handler)
        aggregate.flush()


def test_a_kind_is_logged_once_then_counted() -> None:
    with capture(0.2) as (logger, stream, _):
        for client in range(500):
            logger.warning("Bad request from %s", f"10.0.0.{client}")
        assert stream.getvalue().startswith("WARNING Bad request from 10.0.0.0\n")
        wait_for(lambda: sum(map(int, LEFT_OUT.findall(stream.getvalue()))) == 500 - 1)
        lines = stream.getvalue().splitlines()
        assert lines[1:] and all(
            line.endswith(' more like "Bad request from %s" not logged in the last 0.2 s')
            for line in lines[1:]
        ), lines


def test_kinds_are_counted_apart() -> None:
    with capture(60) as (logger, stream, aggregate):
        for _ in range(3):
            logger.warning("one thing")
            logger.error("one thing")
            logger.warning("another thing")
            try:
                raise ValueError("x")
            except ValueError:
                logger.exception("failed")
        assert "Traceback" in stream.getvalue()
        assert len(stream.getvalue().split("one thing")) == 3
        aggregate.flush()
        lines = stream.getvalue().splitlines()
    for summary in [
        'WARNING 2 more like "one thing" not logged in the last 60 s',
        'ERROR 2 more like "one thing" not logged in the last 60 s',
        'WARNING 2 more like "another thing" not logged in the last 60 s',
        'ERROR 2 more like "failed" not logged in the last 60 s',
    ]:
        assert summary in lines


def test_a_kind_is_written_again_once_its_interval_is_over() -> None:
    with capture(0.2) as (logger, stream, _):

        def written_twice() -> bool:
            logger.warning("again and again")
            return stream.getvalue().splitlines().count("WARNING again and again") == 2

        wait_for(written_twice, what="the second line", step=0.5)


def test_the_table_of_kinds_is_bounded() -> None:
    with capture(60) as (logger, stream, aggregate):
        for number in range(MAX_KINDS + 1000):
            logger.warning(f"client text {number}")  # a message with client text in it
        assert stream.getvalue().count("\n") == MAX_KINDS + 1
        aggregate.flush()
        assert "WARNING 999 more like other messages not logged" in stream.getvalue()
