"""Real syslog peers for the forwarding tests: UDP, TCP (octet-counted frames) and unix
datagram listeners on threads, each keeping what it received, in order."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path
from typing import Self

from tests.server import wait_for

ID = re.compile(rb'\[kisalert@32473 id="(\d+)"')


def alert_id(message: bytes) -> int:
    found = ID.search(message)
    assert found is not None, message
    return int(found.group(1))


class Receiver:
    """Collects messages; subclasses feed `_got` from their own thread."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.port = 0  # where it listens, for the IP ones
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _got(self, message: bytes) -> None:
        with self._lock:
            self.messages.append(message)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def ids(self) -> list[int]:
        with self._lock:
            return [alert_id(message) for message in self.messages]

    def wait_for_count(self, count: int, timeout: float = 20.0) -> list[int]:
        found: list[int] = wait_for(
            lambda: self.ids() if len(self.ids()) >= count else None,
            timeout,
            f"{count} syslog messages",
        )
        return found

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DatagramReceiver(Receiver):
    def __init__(self, family: int = socket.AF_INET, path: Path | None = None) -> None:
        super().__init__()
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(str(path) if path is not None else ("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = 0 if path is not None else self.sock.getsockname()[1]
        self._spawn(self._serve)

    def _serve(self) -> None:
        with self.sock:
            while not self._stop.is_set():
                try:
                    self._got(self.sock.recv(65536))
                except TimeoutError:
                    continue


class TcpReceiver(Receiver):
    """Octet-counted frames (RFC 6587) from any number of connections. `port` may be
    given, to come up where a server already sends; `close()` drops every connection."""

    def __init__(self, port: int = 0, family: int = socket.AF_INET, path: Path | None = None):
        super().__init__()
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        if path is None:
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(str(path) if path is not None else ("127.0.0.1", port))
        self.listener.listen(8)
        self.listener.settimeout(0.05)
        self.port = 0 if path is not None else self.listener.getsockname()[1]
        self._spawn(self._accept)

    def _accept(self) -> None:
        with self.listener:
            while not self._stop.is_set():
                try:
                    conn, _ = self.listener.accept()
                except TimeoutError:
                    continue
                self._spawn(self._read, conn)

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    return
                buffer += data
                while True:
                    length, space, rest = buffer.partition(b" ")
                    if not space or len(rest) < int(length):
                        break
                    self._got(rest[: int(length)])
                    buffer = rest[int(length) :]
