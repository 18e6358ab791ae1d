"""A real webhook peer for the forwarding tests: an HTTP/1.1 server on a thread that
keeps every POST (body, headers, which connection, when) in order and answers as the
test tells it: accept, fail (500), throttle (429 with Retry-After), or anything else.
Closing it refuses connections, and drops those open, until a new one is started on
the same port."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import orjson

from tests.server import wait_for

Answer = tuple[int, dict[str, str]]


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int  # how it was answered
    connection: int  # the how-manieth connection it came on
    at: float  # time.monotonic() when it arrived

    @property
    def alert_id(self) -> int:
        record: dict[str, Any] = orjson.loads(self.body)
        alert_id: int = record["kismet.alert.hash"]
        return alert_id


def accept(_body: bytes) -> Answer:
    return 200, {}


def fail(_body: bytes) -> Answer:
    return 500, {}


def throttle(retry_after: str) -> Callable[[bytes], Answer]:
    return lambda _body: (429, {"Retry-After": retry_after})


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handlers: nothing outlives a test
    receiver: HttpReceiver


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real webhook endpoints do
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.number = self.server.receiver._connected(self.connection)

    def do_POST(self) -> None:
        arrived = time.monotonic()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver = self.server.receiver
        status, extra = receiver.answer(body)
        headers = {name.lower(): value for name, value in self.headers.items()}
        receiver._got(Request(self.path, headers, body, status, self.number, arrived))
        reply = b"ok" if status < 300 else b"no thanks"
        if receiver.echo:  # as a debugging endpoint does: what it was sent, in its answer
            reply = orjson.dumps({"path": self.path, "headers": headers})
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test reads `requests`, not stderr


class HttpReceiver:
    """`answer(body) -> (status, headers)` decides each reply; it may be swapped at
    any time, and may block (the request waits)."""

    def __init__(self, port: int = 0, tls: tuple[Path, Path] | None = None) -> None:
        self.answer: Callable[[bytes], Answer] = accept
        self.echo = False
        self.requests: list[Request] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.receiver = self
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port: int = self._server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def _connected(self, conn: socket.socket) -> int:
        with self._lock:
            self._open.append(conn)
            self.connections += 1
            return self.connections

    def _got(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def received(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def delivered(self) -> list[Request]:
        """The requests answered 2xx, in order."""
        return [r for r in self.received() if 200 <= r.status <= 299]

    def ids(self) -> list[int]:
        """The alerts taken, each once, in the order they were first taken."""
        seen: dict[int, None] = {}
        for request in self.delivered():
            seen.setdefault(request.alert_id, None)
        return list(seen)

    def wait_for_ids(self, count: int, timeout: float = 20.0) -> list[int]:
        found: list[int] = wait_for(
            lambda: ids if len(ids := self.ids()) >= count else None,
            timeout,
            f"{count} alerts taken",
        )
        return found

    def wait_for_answers(self, status: int, count: int = 1, timeout: float = 20.0) -> Request:
        """The `count`th request answered `status`."""
        found: Request = wait_for(
            lambda: (
                len(hits := [r for r in self.received() if r.status == status]) >= count
                and hits[count - 1]
            ),
            timeout,
            f"{count} answers of {status}",
        )
        return found

    def close(self) -> None:
        self._server.shutdown()
        with self._lock:
            for conn in self._open:
                # Wakes a handler waiting for the next request on a kept-alive connection.
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
