"""http1.py, the webhook's HTTP/1.1 client, against real servers on loopback that
misbehave on purpose: what it writes, what it reads and how far, when it keeps, drops
and reopens its connection, and when it sends a request again (once, and only when
no byte of an answer came on a connection it had used before)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import ssl
import struct
import subprocess
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

import pytest
import uvloop

from kisalert.forward.http1 import (
    MAX_HEAD,
    MAX_HEADERS,
    MAX_INTERIM,
    REASON_MAX,
    Client,
    HttpError,
    Target,
)
from tests.certs import self_signed
from tests.server import free_port
from tests.slack import slack

T = TypeVar("T")
Runner = Callable[[Coroutine[Any, Any, T]], T]

CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner[Any]:
    """The server runs on uvloop; the tests run on asyncio's loop as well."""
    if request.param == "uvloop":
        return uvloop.run
    return asyncio.run


def answer(status: int = 200, body: bytes = b"ok", headers: str = "", phrase: str = "X") -> bytes:
    head = f"HTTP/1.1 {status} {phrase}\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


@dataclass
class Got:
    connection: int
    head: bytes
    body: bytes

    @property
    def lines(self) -> list[bytes]:
        return self.head.split(b"\r\n")[:-2]


@dataclass
class Conn:
    """The server's side of one connection."""

    peer: Peer
    number: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def request(self) -> bytes | None:
        """The next request's body, kept in peer.requests; None at the client's close."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            length = CONTENT_LENGTH.search(head)
            body = await self.reader.readexactly(int(length[1])) if length else b""
        except (asyncio.IncompleteReadError, ConnectionError):
            self.peer.ended.add(self.number)
            return None
        self.peer.requests.append(Got(self.number, head, body))
        return body

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def until_closed(self) -> None:
        """Waits for the client to close the connection."""
        with contextlib.suppress(ConnectionError):
            await self.reader.read()
        self.peer.ended.add(self.number)

    def reset(self) -> None:
        """Ends the connection with a TCP reset, as a crashed peer does."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Script = Callable[[Conn], Awaitable[None]]


async def echo(conn: Conn) -> None:
    """Answers every request 200 with its own body, keeping the connection."""
    while (body := await conn.request()) is not None:
        await conn.send(answer(body=body))


@dataclass
class Peer:
    """A scripted HTTP server: `script(conn)` serves each connection."""

    script: Script = echo
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    port: int = 0
    requests: list[Got] = field(default_factory=list)
    connections: int = 0
    ended: set[int] = field(default_factory=set)  # connections the client closed
    _server: asyncio.Server | None = None
    _open: dict[asyncio.Task[Any], asyncio.StreamWriter] = field(default_factory=dict)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def bodies(self) -> list[bytes]:
        return [got.body for got in self.requests]

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._open[task] = writer
        try:
            await self.script(Conn(self, self.connections, reader, writer))
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            del self._open[task]

    async def __aexit__(self, *exc: object) -> None:
        # Python 3.11's start_server logs a handler cancelled as an error: the
        # handlers are ended by cutting their connections instead.
        assert self._server is not None
        self._server.close()
        for writer in self._open.values():
            writer.transport.abort()
        async with asyncio.timeout(slack(10)):
            await asyncio.gather(*self._open, return_exceptions=True)
        await self._server.wait_closed()

    async def wait_ended(self, number: int) -> None:
        async with asyncio.timeout(slack(10)):
            while number not in self.ended:
                await asyncio.sleep(0.01)


async def posts(client: Client, *bodies: bytes) -> list[bytes]:
    """The answers' bodies, each asserted 200; the client closed after."""
    try:
        found = []
        for body in bodies:
            response = await client.post(body)
            assert response.status == 200, response
            found.append(response.body)
        return found
    finally:
        await client.close()


async def refused(client: Client, body: bytes = b"x") -> str:
    """Why posting `body` failed."""
    with pytest.raises(HttpError) as caught:
        await client.post(body)
    return str(caught.value)


# What is written.


def test_the_request_is_exact_and_its_connection_kept(run: Runner[Any]) -> None:
    async def go() -> Peer:
        async with Peer() as peer:
            client = Client(
                peer.url + "/in/a b?k=v",
                headers=[("User-Agent", "kisalert/test"), ("Content-Type", "application/json")],
            )
            assert await posts(client, b'{"n":1}', b"", b'{"n":3}') == [b'{"n":1}', b"", b'{"n":3}']
            client = Client(peer.url)
            response = await client.post(b"s", [("X-Signature", "sha256=ab")])
            await client.close()
            assert response.body == b"s"
            await peer.wait_ended(1)
            await peer.wait_ended(2)
            return peer

    peer = run(go())
    first, second, third, signed = peer.requests
    assert first.lines == [
        b"POST /in/a%20b?k=v HTTP/1.1",
        f"Host: 127.0.0.1:{peer.port}".encode(),
        b"Accept-Encoding: identity",
        b"User-Agent: kisalert/test",
        b"Content-Type: application/json",
        b"Connection: keep-alive",
        b"Content-Length: 7",
    ]
    assert second.lines[-1] == b"Content-Length: 0"
    assert (first.connection, second.connection, third.connection) == (1, 1, 1)
    assert signed.lines == [
        b"POST / HTTP/1.1",
        f"Host: 127.0.0.1:{peer.port}".encode(),
        b"Accept-Encoding: identity",
        b"Connection: keep-alive",
        b"X-Signature: sha256=ab",
        b"Content-Length: 1",
    ]
    assert signed.connection == 2
    assert peer.ended == {1, 2}  # close() closed them


@pytest.mark.parametrize(
    ("url", "tls", "host", "port", "authority", "path"),
    [
        ("http://Example.NET/x", False, "example.net", 80, "example.net", "/x"),
        ("https://example.net:443", True, "example.net", 443, "example.net", "/"),
        ("HTTPS://h:8443/a b/%41?q=1 2&r=é#frag", True, "h", 8443, "h:8443",
         "/a%20b/%41?q=1%202&r=%C3%A9"),
        ("http://h:443/", False, "h", 443, "h:443", "/"),
        ("http://[::1]:8080/p", False, "::1", 8080, "[::1]:8080", "/p"),
        ("https://[2001:DB8:0::1]/", True, "2001:db8::1", 443, "[2001:db8::1]", "/"),
        ("http://bücher.example/", False, "xn--bcher-kva.example", 80,
         "xn--bcher-kva.example", "/"),
        ("http://h/a\r\nX-Evil: 1", False, "h", 80, "h", "/aX-Evil:%201"),
        ("http://h/%0d%0aX-Evil:1", False, "h", 80, "h", "/%0d%0aX-Evil:1"),
    ],
)  # fmt: skip
def test_a_url_gives_the_host_port_host_header_and_escaped_target(
    url: str, tls: bool, host: str, port: int, authority: str, path: str
) -> None:
    target = Target.parse(url)
    assert (target.tls, target.host, target.port) == (tls, host, port)
    assert (target.authority, target.path, target.credentials) == (authority, path, None)


def test_credentials_in_the_url_are_sent_as_basic_authorization(run: Runner[Any]) -> None:
    async def go() -> Peer:
        async with Peer() as peer:
            await posts(Client(peer.url.replace("//", "//us%40er:p%3Ass@") + "/x"), b"1")
            given = [("Authorization", "Bearer t")]
            await posts(Client(peer.url.replace("//", "//u:p@"), headers=given), b"2")
            return peer

    peer = run(go())
    expected = "Basic " + base64.b64encode(b"us@er:p:ss").decode()
    assert f"Authorization: {expected}".encode() in peer.requests[0].lines
    assert [line for line in peer.requests[1].lines if line.startswith(b"Authorization")] == [
        b"Authorization: Bearer t"  # the header given wins
    ]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://h/",
        "http:///x",
        "http://h:99999/",
        "http://h:0/",
        "http://h o/",
        "http://h\x00/",
        "http://[::g]/",
        "http://[fe80::1%25eth0]/",
    ],
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        Target.parse(url)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-A", "1\r\nX-Evil: 1"),
        ("X-A", "1\nX-Evil: 1"),
        ("X-A", "1\rX-Evil: 1"),
        ("X-A", "nul\x00"),
        ("X-A", "caf\u00e9"),
        ("X A", "1"),
        ("X-A:", "1"),
        ("X-A\r\nX-Evil", "1"),
        ("", "1"),
        ("Content-Length", "0"),
        ("host", "elsewhere"),
        ("Transfer-Encoding", "chunked"),
        ("Connection", "close"),
    ],
)
def test_no_header_can_end_a_line_or_change_the_framing(
    run: Runner[Any], name: str, value: str
) -> None:
    async def go() -> Peer:
        async with Peer() as peer:
            with pytest.raises(ValueError):
                Client(peer.url, headers=[(name, value)])
            client = Client(peer.url)
            with pytest.raises(ValueError):
                await client.post(b"x", [(name, value)])
            await posts(client, b"after")
            return peer

    peer = run(go())
    assert [got.body for got in peer.requests] == [b"after"]  # nothing else was written
    assert all(b"Evil" not in line for line in peer.requests[0].lines)


def test_an_ipv6_literal_host(run: Runner[Any]) -> None:
    try:
        socket.socket(socket.AF_INET6).close()
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            pass
    except OSError:
        pytest.skip("no IPv6 loopback here")

    async def go() -> Peer:
        async with Peer(host="::1") as peer:
            assert await posts(Client(peer.url + "/v6"), b"six") == [b"six"]
            return peer

    peer = run(go())
    assert peer.requests[0].lines[:2] == [b"POST /v6 HTTP/1.1", f"Host: [::1]:{peer.port}".encode()]


# TLS.


def certificate(where: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1."""
    cert, key = where / "localhost.pem", where / "localhost.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def serving(cert: Path, key: Path, names: list[str | None]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def note(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = note
    return context


def test_https_verifies_the_peer_by_name_sends_sni_and_keeps_the_connection(
    run: Runner[Any], tmp_path: Path
) -> None:
    cert, key = certificate(tmp_path)
    ip_cert, ip_key = self_signed(tmp_path)  # for 127.0.0.1 alone
    names: list[str | None] = []

    async def go() -> tuple[Peer, list[str]]:
        async with (
            Peer(tls=serving(cert, key, names)) as peer,
            Peer(tls=serving(ip_cert, ip_key, [])) as other,
        ):
            trusting = ssl.create_default_context(cafile=str(cert))
            url = f"https://localhost:{peer.port}/tls"
            assert await posts(Client(url, trusting), b"a", b"b", b"c") == [b"a", b"b", b"c"]
            assert await posts(Client(peer.url, trusting), b"by address") == [b"by address"]
            trusting_other = ssl.create_default_context(cafile=str(ip_cert))
            failures = [
                await refused(Client(url)),  # the system's CAs do not know it
                await refused(Client(f"https://localhost:{other.port}/", trusting_other)),
            ]
            assert other.requests == []
            return peer, failures

    peer, (unknown, wrong_name) = run(go())
    assert "certificate verify failed" in unknown and "self-signed" in unknown
    assert "certificate verify failed: Hostname mismatch" in wrong_name
    assert "'localhost'" in wrong_name
    assert [(got.connection, got.body) for got in peer.requests] == [
        (1, b"a"),
        (1, b"b"),
        (1, b"c"),
        (2, b"by address"),
    ]
    assert peer.requests[0].lines[1] == f"Host: localhost:{peer.port}".encode()
    assert names[:2] == ["localhost", None]  # no SNI for an address (RFC 6066)


def test_https_to_a_plain_server_fails_at_once(run: Runner[Any]) -> None:
    async def plain(conn: Conn) -> None:
        await conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    async def go() -> str:
        async with Peer(plain) as peer:
            return await refused(Client(peer.url.replace("http:", "https:")))

    assert "wrong version number" in run(go()).lower()


def test_an_idle_tls_connection_closed_by_the_server_is_replaced(
    run: Runner[Any], tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)

    async def once(conn: Conn) -> None:
        body = await conn.request()
        assert body is not None
        await conn.send(answer(body=body))
        conn.writer.close()  # with TLS's goodbye, unannounced

    async def go() -> Peer:
        async with Peer(once, tls=serving(cert, key, [])) as peer:
            trusting = ssl.create_default_context(cafile=str(cert))
            assert await posts(Client(peer.url, trusting), b"1", b"2", b"3") == [b"1", b"2", b"3"]
            return peer

    peer = run(go())
    assert [got.connection for got in peer.requests] == [1, 2, 3]


# Keeping the connection, and sending again.


def test_a_refused_connection_says_so(run: Runner[Any]) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    assert run(refused(Client(url))) == "Connection refused"


def test_a_request_is_sent_again_once_when_a_reused_connection_closes_unanswered(
    run: Runner[Any],
) -> None:
    """The race every keep-alive client meets: the server times the idle connection
    out as the next request is written. It read nothing of it: send it again."""

    async def first_only(conn: Conn) -> None:
        body = await conn.request()
        assert body is not None
        await conn.send(answer(body=body))
        await conn.request()  # read, and closed without a word

    async def go() -> Peer:
        async with Peer(first_only) as peer:
            assert await posts(Client(peer.url), b"1", b"2", b"3") == [b"1", b"2", b"3"]
            return peer

    peer = run(go())
    assert [(got.connection, got.body) for got in peer.requests] == [
        (1, b"1"),
        (1, b"2"),
        (2, b"2"),
        (2, b"3"),
        (3, b"3"),
    ]


def test_a_reset_reused_connection_is_replaced_too(run: Runner[Any]) -> None:
    async def first_only(conn: Conn) -> None:
        body = await conn.request()
        assert body is not None
        await conn.send(answer(body=body))
        await conn.request()
        conn.reset()

    async def go() -> Peer:
        async with Peer(first_only) as peer:
            assert await posts(Client(peer.url), b"1", b"2") == [b"1", b"2"]
            return peer

    assert [got.connection for got in run(go()).requests] == [1, 1, 2]


def test_never_sent_a_third_time_nor_again_on_a_new_connection(run: Runner[Any]) -> None:
    async def first_only_then_silence(conn: Conn) -> None:
        if conn.number == 1:
            body = await conn.request()
            assert body is not None
            await conn.send(answer(body=body))
        await conn.request()  # and closed unanswered

    async def go() -> tuple[Peer, list[str]]:
        async with Peer(first_only_then_silence) as peer:
            client = Client(peer.url)
            assert (await client.post(b"1")).body == b"1"
            failures = [await refused(client, b"2"), await refused(client, b"3")]
            await client.close()
            return peer, failures

    peer, failures = run(go())
    assert failures == ["the server closed the connection without answering"] * 2
    # 2 on the kept connection, and once more on a new one; 3 on a new one, once.
    assert [(got.connection, got.body) for got in peer.requests] == [
        (1, b"1"),
        (1, b"2"),
        (2, b"2"),
        (3, b"3"),
    ]


@pytest.mark.parametrize(
    "partial",
    [b"H", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok"],
)
def test_never_sent_again_once_a_byte_of_the_answer_came(run: Runner[Any], partial: bytes) -> None:
    async def cut_off(conn: Conn) -> None:
        while (body := await conn.request()) is not None:
            if body == b"cut":
                await conn.send(partial)
                return
            await conn.send(answer(body=body))

    async def go() -> tuple[Peer, str, list[bytes]]:
        async with Peer(cut_off) as peer:
            client = Client(peer.url)
            assert (await client.post(b"1")).body == b"1"
            why = await refused(client, b"cut")
            return peer, why, await posts(client, b"after")

    peer, why, after = run(go())
    assert why == "the server closed the connection mid-answer"
    assert peer.bodies() == [b"1", b"cut", b"after"]
    assert after == [b"after"]


def test_an_idle_connection_is_closed_after_its_expiry(run: Runner[Any]) -> None:
    async def go() -> Peer:
        async with Peer() as peer:
            client = Client(peer.url, idle_expiry=0.05)
            assert (await client.post(b"1")).body == b"1"
            await peer.wait_ended(1)  # closed by the client, unasked
            assert await posts(client, b"2") == [b"2"]
            return peer

    assert [got.connection for got in run(go()).requests] == [1, 2]


def test_bytes_sent_unasked_are_never_taken_for_the_next_answer(run: Runner[Any]) -> None:
    extra = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"

    async def chatty(conn: Conn) -> None:
        while (body := await conn.request()) is not None:
            await conn.send(answer(body=body) + (extra if body == b"1" else b""))

    async def go() -> Peer:
        async with Peer(chatty) as peer:
            assert await posts(Client(peer.url), b"1", b"2", b"3") == [b"1", b"2", b"3"]
            return peer

    assert [got.connection for got in run(go()).requests] == [1, 2, 2]


def test_an_idle_connection_the_server_spoke_on_unasked_is_not_used_again(
    run: Runner[Any],
) -> None:
    async def go() -> Peer:
        spoke = asyncio.Event()

        async def timing_out(conn: Conn) -> None:
            while (body := await conn.request()) is not None:
                await conn.send(answer(body=body))
                if conn.number == 1:  # a server giving up on the idle connection
                    await asyncio.sleep(0.05)  # after the answer, not with it
                    await conn.send(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
                    spoke.set()

        async with Peer(timing_out) as peer:
            client = Client(peer.url)
            assert (await client.post(b"1")).body == b"1"
            async with asyncio.timeout(slack(10)):
                await spoke.wait()
            await asyncio.sleep(0.05)  # for the client's side to read it
            assert await posts(client, b"2", b"3") == [b"2", b"3"]
            return peer

    assert [got.connection for got in run(go()).requests] == [1, 2, 2]


@pytest.mark.parametrize("stage", ["before the answer", "mid-answer"])
def test_a_cancelled_request_takes_its_connection_with_it(run: Runner[Any], stage: str) -> None:
    async def go() -> tuple[Peer, bytes]:
        release, written = asyncio.Event(), asyncio.Event()

        async def slow(conn: Conn) -> None:
            while (body := await conn.request()) is not None:
                reply = answer(body=b"late " + body)
                if body == b"slow":
                    cut = 0 if stage == "before the answer" else len(reply) - 3
                    await conn.send(reply[:cut])
                    written.set()
                    await release.wait()
                    reply = reply[cut:]
                with contextlib.suppress(ConnectionError):
                    await conn.send(reply)

        async with Peer(slow) as peer:
            client = Client(peer.url)
            sending = asyncio.create_task(client.post(b"slow"))
            async with asyncio.timeout(slack(10)):
                await written.wait()
            await asyncio.sleep(0.01)  # the client may have read what came, or not
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
            release.set()
            next_one = await client.post(b"next")
            await client.close()
            return peer, next_one.body

    peer, body = run(go())
    assert body == b"late next"
    assert [(got.connection, got.body) for got in peer.requests] == [(1, b"slow"), (2, b"next")]


# Reading the answer.


def scripted(reply: bytes, then: str = "keep") -> Script:
    """Answers every request with `reply`; then keeps the connection, or closes it."""

    async def script(conn: Conn) -> None:
        while await conn.request() is not None:
            await conn.send(reply)
            if then == "close":
                return
            if then == "hold":  # neither answer more nor close
                await conn.until_closed()
                return

    return script


def exchange(
    run: Runner[Any], script: Script, count: int = 2, **options: Any
) -> tuple[Peer, list[Any]]:
    """`count` posts; each answer's (status, reason, body), or the error's text; and
    the peer."""

    async def go() -> tuple[Peer, list[Any]]:
        async with Peer(script) as peer:
            client = Client(peer.url, **options)
            found: list[Any] = []
            for n in range(count):
                try:
                    async with asyncio.timeout(slack(20)):  # a failure, not a hang
                        response = await client.post(b"%d" % n)
                    found.append((response.status, response.reason, response.body))
                except HttpError as exc:
                    found.append(str(exc))
            await client.close()
            return peer, found

    result: tuple[Peer, list[Any]] = run(go())
    return result


def test_a_chunked_answer_with_trailers_is_read_whole_and_the_connection_kept(
    run: Runner[Any],
) -> None:
    reply = (
        b"HTTP/1.1 503 Slow Down\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    peer, found = exchange(run, scripted(reply))
    assert found == [(503, "Slow Down", b"hello world")] * 2
    assert [got.connection for got in peer.requests] == [1, 1]


def test_headers_are_found_whatever_their_case() -> None:
    async def go() -> str | None:
        async with Peer(scripted(answer(429, b"", "retry-AFTER: 3\r\n"))) as peer:
            client = Client(peer.url)
            response = await client.post(b"")
            await client.close()
            return response.header("Retry-After")

    assert asyncio.run(go()) == "3"


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\n\r\nall until the close",  # no length: the close ends it
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    ],
)
def test_an_answer_that_ends_its_connection_is_read_and_the_connection_closed(
    run: Runner[Any], reply: bytes
) -> None:
    then = "close" if b"Content-Length" not in reply else "hold"
    peer, found = exchange(run, scripted(reply, then))
    body = reply.partition(b"\r\n\r\n")[2]
    assert found == [(200, "OK", body)] * 2
    assert [got.connection for got in peer.requests] == [1, 2]
    if then == "hold":
        assert peer.ended >= {1}  # the client closed what the server held open


def test_interim_answers_are_skipped(run: Runner[Any]) -> None:
    reply = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        + answer(201, b"made", phrase="Created")
    )
    peer, found = exchange(run, scripted(reply))
    assert found == [(201, "Created", b"made")] * 2
    assert [got.connection for got in peer.requests] == [1, 1]
    endless = b"HTTP/1.1 100 Continue\r\n\r\n" * (MAX_INTERIM + 1) + answer()
    _peer, found = exchange(run, scripted(endless), count=1)
    assert found == [f"over {MAX_INTERIM} interim (1xx) answers"]


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (b"HTTP/1.1 abc OK\r\n\r\n", "malformed HTTP answer"),
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "malformed HTTP answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed HTTP answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok", "malformed"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", "malformed"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n", "101"),
    ],
)  # fmt: skip
def test_a_malformed_answer_fails_and_its_connection_goes(
    run: Runner[Any], reply: bytes, says: str
) -> None:
    served = 0

    async def bad_first(conn: Conn) -> None:
        nonlocal served
        while (body := await conn.request()) is not None:
            served += 1
            await conn.send(reply if served == 1 else answer(body=body))

    peer, found = exchange(run, bad_first)
    assert isinstance(found[0], str) and says in found[0]
    assert "\n" not in found[0]
    assert found[1] == (200, "X", b"1")
    assert [got.connection for got in peer.requests] == [1, 2]


def test_a_reason_phrase_is_one_line_and_short(run: Runner[Any]) -> None:
    reply = b"HTTP/1.1 418 I'm\x00a\x7fteapot" + b" x" * 200 + b"\r\nContent-Length: 0\r\n\r\n"
    _peer, found = exchange(run, scripted(reply), count=1)
    ((status, reason, body),) = found
    assert (status, body) == (418, b"")
    assert reason == ("I'm a teapot" + " x" * 200)[:REASON_MAX]


def test_headers_are_bounded_in_number_and_size(run: Runner[Any]) -> None:
    many = "".join(f"X-{n}: {n}\r\n" for n in range(MAX_HEADERS - 1))  # and Content-Length
    _peer, found = exchange(run, scripted(answer(headers=many)), count=1)
    assert found == [(200, "X", b"ok")]
    _peer, found = exchange(run, scripted(answer(headers=many + "X-Last: 1\r\n")), count=1)
    assert found == [f"the answer has over {MAX_HEADERS} headers"]
    huge = f"X-Big: {'a' * MAX_HEAD}\r\n"
    _peer, found = exchange(run, scripted(answer(headers=huge)), count=1)
    assert found == [f"the answer's head is over {MAX_HEAD // 1024} KiB"]


def test_a_header_trickled_without_end_is_bounded(run: Runner[Any]) -> None:
    async def trickle(conn: Conn) -> None:
        await conn.request()
        await conn.send(b"HTTP/1.1 200 OK\r\nX-Endless: ")
        with contextlib.suppress(ConnectionError):
            for _ in range(MAX_HEAD // 1000 + 2):
                if conn.writer.is_closing():
                    break
                await conn.send(b"m" * 1000)
                await asyncio.sleep(0)
        await conn.until_closed()

    _peer, found = exchange(run, trickle, count=1)
    assert found == [f"the answer's head is over {MAX_HEAD // 1024} KiB"]


def test_a_long_body_is_read_to_the_limit_and_the_rest_dropped(run: Runner[Any]) -> None:
    body = bytes(range(256)) * 64  # 16 KiB
    peer, found = exchange(run, scripted(answer(500, body)), read_limit=1000)
    assert found == [(500, "X", body[:1000])] * 2
    assert [got.connection for got in peer.requests] == [1, 1]  # read to its end: kept


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_a_body_past_what_is_dropped_closes_the_connection(run: Runner[Any], framing: str) -> None:
    async def endless(conn: Conn) -> None:
        while await conn.request() is not None:
            if framing == "length":
                await conn.send(b"HTTP/1.1 502 Bad\r\nContent-Length: 99999999999\r\n\r\n")
            elif framing == "chunked":
                await conn.send(b"HTTP/1.1 502 Bad\r\nTransfer-Encoding: chunked\r\n\r\n")
            else:
                await conn.send(b"HTTP/1.1 502 Bad\r\n\r\n")
            chunk = b"z" * 65536
            if framing == "chunked":
                chunk = b"10000\r\n" + chunk + b"\r\n"
            with contextlib.suppress(ConnectionError):
                while not conn.writer.is_closing():  # until the client has had enough
                    await conn.send(chunk)

    peer, found = exchange(run, endless, read_limit=100)
    assert found == [(502, "Bad", b"z" * 100)] * 2
    assert [got.connection for got in peer.requests] == [1, 2]


def test_an_empty_answer_keeps_the_connection(run: Runner[Any]) -> None:
    reply = b"HTTP/1.1 204 No Content\r\n\r\n"
    peer, found = exchange(run, scripted(reply), count=3)
    assert found == [(204, "No Content", b"")] * 3
    assert [got.connection for got in peer.requests] == [1, 1, 1]
