"""An HTTP/1.1 client for one job: POSTing small bodies to one URL over one kept-alive
connection, plain or TLS.

Written for the webhook output, where a general client (httpx2) cost 690–940 µs of
CPU per POST against 53–63 µs for this (docs/performance.md). What it does not do:
redirects, proxies, compression, cookies, pipelining, requests in parallel, timeouts
(the caller bounds `post` with asyncio.timeout: a cancelled request drops its
connection, so a half-read answer is never taken for the next one's).

The answer is parsed by httptools (llhttp, as the server's own parser), with bounds on
what a peer can make us hold: `MAX_HEADERS` headers in `MAX_HEAD` bytes, `read_limit`
bytes of body kept, and at most `DISCARD_LIMIT` more read and dropped to keep the
connection; past that the connection is closed instead.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import re
import socket
import ssl
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import httptools

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_HEADERS = 100
MAX_HEAD = 64 * 1024  # a status line and headers, bytes
MAX_INTERIM = 10  # 1xx answers before the final one
DISCARD_LIMIT = 1024 * 1024  # body bytes past read_limit read (and dropped) to keep a connection
IDLE_EXPIRY = 5.0  # seconds a connection is kept unused, as httpx (and so most clients) do
CLOSE_WAIT = 1.0  # seconds close() waits for a TLS goodbye before it cuts the connection
REASON_MAX = 100  # characters of a reason phrase kept
HEAD_TOO_LARGE = f"the answer's head is over {MAX_HEAD // 1024} KiB"

# RFC 9110 5.1 and 5.5: a field name is a token; a value is visible ASCII, spaces and tabs.
FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")
# What the client writes itself: a caller's header must not change the framing.
OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# Characters a request target may carry as they are (RFC 3986's unreserved and
# reserved ones, and `%` of an escape); any other is %-escaped (as UTF-8).
TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
HOST_NAME = re.compile(r"[a-z0-9_.-]+")


class HttpError(Exception):
    """No usable answer; str() is one line saying why, in the system's words where
    there are some (`Connection refused`)."""


class _Unanswered(HttpError):
    """The connection ended before a byte of the answer came: the request may not have
    been read, and on a kept-alive connection most likely was not."""


class _Enough(Exception):
    """Raised from a parser callback: the answer's body is over what is read of it."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL's requests go, and what they say of it."""

    tls: bool
    host: str  # to connect to: a name, or an address without brackets
    port: int
    authority: str  # the Host header: the host, and the port unless the scheme's own
    path: str  # the request target: path and query, escaped
    credentials: str | None = None  # `user:password@` as a Basic Authorization value

    @classmethod
    def parse(cls, url: str) -> Target:
        """Raises ValueError for a URL that is no http:// or https:// URL with a host
        this client can reach; the message does not repeat the URL."""
        parts = urllib.parse.urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError("not an http:// or https:// URL")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the port is not a number from 0 to 65535") from None
        if port == 0:
            raise ValueError("port 0")
        host = _host(parts.hostname or "")
        default = DEFAULT_PORTS[scheme]
        shown = f"[{host}]" if ":" in host else host
        authority = shown if port in (None, default) else f"{shown}:{port}"
        path = urllib.parse.quote(parts.path or "/", safe=TARGET_SAFE)
        if parts.query:
            path += "?" + urllib.parse.quote(parts.query, safe=TARGET_SAFE)
        credentials = None
        if parts.username is not None or parts.password is not None:
            user = urllib.parse.unquote(parts.username or "")
            secret = f"{user}:{urllib.parse.unquote(parts.password or '')}"
            credentials = "Basic " + base64.b64encode(secret.encode()).decode("ascii")
        return cls(scheme == "https", host, port or default, authority, path, credentials)


def _host(host: str) -> str:
    if not host:
        raise ValueError("no host")
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError("not an IPv6 address") from None
        if address.scope_id is not None:
            raise ValueError("an IPv6 address with a zone")
        return str(address)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("not a host name") from None
    if not HOST_NAME.fullmatch(host):
        raise ValueError("not a host name")
    return host


def header_line(name: str, value: str) -> bytes:
    """`Name: value` and its line end; ValueError for a name or value that could end
    the line or the head early (a header injection), or one the client writes."""
    if not FIELD_NAME.fullmatch(name):
        raise ValueError(f"header name {name!r} is not a token")
    if name.lower() in OWN_HEADERS:
        raise ValueError(f"the client writes {name} itself")
    if not FIELD_VALUE.fullmatch(value):
        raise ValueError(f"the value of {name} is not printable ASCII")
    return f"{name}: {value.strip()}\r\n".encode("ascii")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    phrase: bytes  # the status line's reason phrase, as it came
    headers: tuple[tuple[bytes, bytes], ...]  # as they came
    body: bytes  # its first read_limit bytes

    @property
    def reason(self) -> str:
        """The reason phrase, one line, cut to REASON_MAX characters."""
        return _one_line(self.phrase.decode("ascii", "replace"))[:REASON_MAX]

    def header(self, name: str) -> str | None:
        """The first value of the header `name` (any case), or None."""
        wanted = name.lower().encode("ascii")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1").strip()
        return None


def describe(exc: BaseException) -> str:
    """An error as the system words it: `Connection refused`, not `[Errno 111] Connect
    call failed ('127.0.0.1', 8080)`; a TLS error as OpenSSL does."""
    if isinstance(exc, socket.gaierror) and exc.strerror:
        return exc.strerror
    if isinstance(exc, ssl.SSLError):  # its errno is OpenSSL's
        return _one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, OSError):
        if isinstance(exc.errno, int) and exc.errno > 0:
            return os.strerror(exc.errno)
        # Every address of a name failed (asyncio's `Multiple exceptions: ...`).
        found = re.search(r"\[Errno (\d+)\]", str(exc))
        if found:
            return os.strerror(int(found[1]))
    return _one_line(str(exc)) or type(exc).__name__


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text).strip()


class _Connection(asyncio.Protocol):
    """One connection, and the answer to the request in flight on it."""

    def __init__(
        self, read_limit: int, idle_expiry: float, lost: Callable[[_Connection], None]
    ) -> None:
        self.read_limit = read_limit
        self.idle_expiry = idle_expiry
        self._lost = lost
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False  # ended, or no longer to be trusted with a request
        self.keep = False  # the last answer left the connection open for the next
        self.idle_since = 0.0  # loop time the last answer ended
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._start()

    def _start(self) -> None:
        """Ready for the next answer (an interim 1xx one's end included)."""
        self._received = False  # a byte of this request's answer came
        self._head = 0  # bytes received while the head was open
        self._head_size = 0  # bytes of status line and headers parsed
        self._head_done = False
        self._framed = False  # a Content-Length or chunked: its end is not the close
        self._status = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._kept = 0
        self._read = 0
        self._interim = 0

    # The caller's side.

    async def exchange(self, request: bytes) -> Response:
        assert self.transport is not None and self._waiter is None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Response] = loop.create_future()
        self._waiter = waiter
        self._start()
        self.keep = False
        self.transport.write(request)
        try:
            response = await waiter
        finally:
            self._waiter = None
        self.idle_since = loop.time()
        if self.keep and self._timer is None:
            self._timer = loop.call_at(self.idle_since + self.idle_expiry, self._expire)
        return response

    def usable(self, now: float) -> bool:
        return (
            not self.closed
            and self.keep
            and self.transport is not None
            and not self.transport.is_closing()
            and now - self.idle_since < self.idle_expiry
        )

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _expire(self) -> None:
        self._timer = None
        if self.closed or self._waiter is not None:
            return
        loop = asyncio.get_running_loop()
        due = self.idle_since + self.idle_expiry
        if loop.time() >= due:
            self.closed = True
            assert self.transport is not None
            self.transport.close()
        else:
            self._timer = loop.call_at(due, self._expire)

    # asyncio's side.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport's subclasses, but are one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            # Nothing was asked (a 408 before an idle close, say): what the next
            # request would read first is not its answer.
            self.abort()
            return
        self._received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Enough):
                self._answered(keep=False)
            elif isinstance(cause, HttpError):
                self._fail(cause)
            else:
                self._fail(HttpError(f"malformed HTTP answer: {_one_line(str(exc))}"))
            return
        except httptools.HttpParserUpgrade:
            self._fail(HttpError("malformed HTTP answer: a protocol switch (101) to a POST"))
            return
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"malformed HTTP answer: {_one_line(str(exc))}"))
            return
        if not self._head_done and not waiter.done():
            self._head += len(data)
            if self._head > MAX_HEAD:
                self._fail(HttpError(HEAD_TOO_LARGE))

    def eof_received(self) -> bool:
        self._end(None)
        return False  # close it

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._end(exc)
        if not self.ended.done():
            self.ended.set_result(None)
        self._lost(self)

    def _end(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._head_done and not self._framed:
            self._answered(keep=False)  # its body was all there is until the close
        elif not self._received:
            why = describe(exc) if exc else "the server closed the connection without answering"
            waiter.set_exception(_Unanswered(why))
        else:
            why = describe(exc) if exc else "the server closed the connection mid-answer"
            waiter.set_exception(HttpError(why))

    def _fail(self, error: HttpError) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.abort()

    def _answered(self, keep: bool) -> None:
        waiter = self._waiter
        assert waiter is not None
        if waiter.done():
            return
        body = b"".join(self._body)
        self.keep = keep and not self.closed
        waiter.set_result(
            Response(self.parser.get_status_code(), self._status, tuple(self._headers), body)
        )
        if not self.keep:
            self.abort()

    # The parser's callbacks.

    def on_message_begin(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            raise HttpError("the server sent more than one answer")

    def on_status(self, status: bytes) -> None:
        self._status += status
        self._count(len(status))

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self._headers) >= MAX_HEADERS:
            raise HttpError(f"the answer has over {MAX_HEADERS} headers")
        self._count(len(name) + len(value) + 4)
        self._headers.append((name, value))
        lower = name.lower()
        if lower == b"content-length" or (lower == b"transfer-encoding" and b"chunked" in value):
            self._framed = True

    def _count(self, size: int) -> None:
        # The head as parsed so far; data_received also bounds a head still open
        # after a read (one header that never ends is not handed over until it does).
        self._head_size += size
        if self._head_size > MAX_HEAD:
            raise HttpError(HEAD_TOO_LARGE)

    def on_headers_complete(self) -> None:
        self._head_done = True

    def on_body(self, body: bytes) -> None:
        room = self.read_limit - self._kept
        if room > 0:
            kept = body[:room]
            self._body.append(kept)
            self._kept += len(kept)
        self._read += len(body)
        if self._read - self._kept > DISCARD_LIMIT:
            raise _Enough

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # 100 Continue and the like: the answer is still to come
            interim = self._interim + 1
            if interim > MAX_INTERIM:
                raise HttpError(f"over {MAX_INTERIM} interim (1xx) answers")
            self._start()
            self._received, self._interim = True, interim
            return
        keep = self.parser.should_keep_alive() and self.parser.get_http_version() == "1.1"
        self._answered(keep)


class Client:
    """POSTs to one URL, one request at a time, on one connection kept between them.

    `headers` go with every request, after those the client writes itself (Host,
    Connection, Accept-Encoding: it reads bodies as they come); `ssl_context` is for
    an https:// URL (None: the system's defaults); `read_limit` bytes of an answer's
    body are kept; a connection unused for `idle_expiry` seconds is closed. Raises
    ValueError for a URL or a header that cannot be used.
    """

    def __init__(
        self,
        url: str,
        ssl_context: ssl.SSLContext | None = None,
        headers: Sequence[tuple[str, str]] = (),
        read_limit: int = 64 * 1024,
        idle_expiry: float = IDLE_EXPIRY,
    ) -> None:
        self.target = target = Target.parse(url)
        self.read_limit = read_limit
        self.idle_expiry = idle_expiry
        self.ssl_context = (ssl_context or ssl.create_default_context()) if target.tls else None
        head = [f"POST {target.path} HTTP/1.1\r\nHost: {target.authority}\r\n".encode("ascii")]
        given = {name.lower() for name, _value in headers}
        if target.credentials is not None and "authorization" not in given:
            head.append(header_line("Authorization", target.credentials))
        if "accept-encoding" not in given:
            head.append(b"Accept-Encoding: identity\r\n")
        head += [header_line(name, value) for name, value in headers]
        head.append(b"Connection: keep-alive\r\n")
        self._head = b"".join(head)
        self._connection: _Connection | None = None
        self._open: set[_Connection] = set()  # not yet ended: close() waits for them

    async def post(self, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> Response:
        """The answer to `body` POSTed, with `headers` besides the client's. Raises
        HttpError when none came (refused, reset, TLS, a malformed answer)."""
        request = b"".join(
            (
                self._head,
                *(header_line(name, value) for name, value in headers),
                b"Content-Length: %d\r\n\r\n" % len(body),
                body,
            )
        )
        loop = asyncio.get_running_loop()
        connection = self._connection
        if connection is not None and not connection.usable(loop.time()):
            self._drop()
            connection = None
        try:
            if connection is None:
                connection = self._connection = await self._connect()
                return await self._exchange(connection, request)
            try:
                return await self._exchange(connection, request)
            except _Unanswered:
                # The server closed the kept-alive connection as we wrote (its idle
                # timeout): the one case where sending again cannot make it twice,
                # and then once only, on a new connection.
                self._drop()
                connection = self._connection = await self._connect()
                return await self._exchange(connection, request)
        except BaseException:
            # Cancelled (the caller's timeout) or failed: whatever the connection
            # still holds of this answer must not be read as the next one's.
            self._drop()
            raise

    async def _exchange(self, connection: _Connection, request: bytes) -> Response:
        response = await connection.exchange(request)
        if not connection.keep:
            self._drop()
        return response

    async def _connect(self) -> _Connection:
        target = self.target
        loop = asyncio.get_running_loop()
        try:
            _transport, connection = await loop.create_connection(
                lambda: _Connection(self.read_limit, self.idle_expiry, self._open.discard),
                target.host,
                target.port,
                ssl=self.ssl_context,
                server_hostname=target.host if self.ssl_context is not None else None,
            )
        except OSError as exc:  # ssl's errors and TimeoutError among them
            raise HttpError(describe(exc)) from exc
        if not connection.ended.done():
            self._open.add(connection)
        return connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.abort()

    async def close(self) -> None:
        """Close the connection: politely (TLS says goodbye) if it is idle."""
        connection, self._connection = self._connection, None
        if connection is not None and connection.transport is not None:
            connection.closed = True
            connection.transport.close()
        for open_one in list(self._open):
            try:
                async with asyncio.timeout(CLOSE_WAIT):
                    await asyncio.shield(open_one.ended)
            except TimeoutError:
                open_one.abort()
                await asyncio.shield(open_one.ended)
