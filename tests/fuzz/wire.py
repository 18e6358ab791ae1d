"""Raw HTTP/1.1 and websocket exchanges for the fuzz suite: requests go out exactly as
built (odd methods, broken percent-escapes, duplicate headers), and what comes back
is parsed strictly enough to tell a complete answer from a cut-off one."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from dataclasses import dataclass, field

TIMEOUT = 10.0  # seconds any single answer may take before the exchange counts as hung


class Broken(AssertionError):
    """The server ended or mangled the connection where an answer was due."""


@dataclass
class Answer:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def closes(self) -> bool:
        """Whether the server said the connection ends after this answer."""
        return (self.header(b"connection") or b"").lower() == b"close"

    def __repr__(self) -> str:
        return f"<{self.status} {self.reason!r} {self.body[:300]!r}>"


class Reader:
    """Reads answers off one socket. A read that gets nothing for `timeout` seconds
    raises TimeoutError; a reset propagates as ConnectionResetError."""

    def __init__(self, sock: socket.socket, timeout: float = TIMEOUT) -> None:
        self.sock = sock
        self.buffer = b""
        self.eof = False
        sock.settimeout(timeout)

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def take(self, size: int, what: str) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise Broken(f"connection closed inside {what}: {self.buffer[:200]!r}")
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _line(self, what: str) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise Broken(f"connection closed inside {what}: {self.buffer[:200]!r}")
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def at_end(self) -> bool:
        """Whether the server closed the connection with nothing more to read."""
        return not self.buffer and not self._fill()

    def answer(self, head_request: bool = False) -> Answer | None:
        """The next complete answer; None if the connection ended cleanly before one began."""
        if self.at_end():
            return None
        head = self._line("a status line")
        parts = head.split(b" ", 2)
        if len(parts) < 2 or parts[0] != b"HTTP/1.1" or not parts[1].isdigit():
            raise Broken(f"not a status line: {head[:200]!r}")
        answer = Answer(int(parts[1]), parts[2] if len(parts) > 2 else b"")
        while line := self._line("the headers"):
            name, colon, value = line.partition(b":")
            if not colon:
                raise Broken(f"not a header line: {line[:200]!r}")
            answer.headers.append((name.strip().lower(), value.strip()))
        if head_request or answer.status in (101, 204, 304) or 100 <= answer.status < 200:
            return answer
        if (answer.header(b"transfer-encoding") or b"").lower() == b"chunked":
            chunks = []
            while True:
                size = int(self._line("a chunk size").split(b";")[0], 16)
                if size == 0:
                    while self._line("the trailers"):
                        pass
                    break
                chunks.append(self.take(size, "a chunk"))
                self.take(2, "a chunk end")
            answer.body = b"".join(chunks)
        elif (length := answer.header(b"content-length")) is not None:
            answer.body = self.take(int(length), "a body")
        else:
            while self._fill():
                pass
            answer.body, self.buffer = self.buffer, b""
        return answer


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def build(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> bytes:
    """A request as bytes, with Host and (for a body) Content-Length added."""
    lines = [b"%s %s HTTP/1.1" % (method, target), b"Host: 127.0.0.1"]
    lines += [b"%s: %s" % header for header in headers]
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(port: int, request: bytes, head_request: bool = False) -> Answer:
    """Send one request on a new connection; its complete answer. A reset, a close or
    silence instead of an answer raises Broken."""
    with connect(port) as sock:
        # If it stops reading, it must still have answered.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        reader = Reader(sock)
        try:
            answer = reader.answer(head_request)
        except TimeoutError:
            raise Broken(f"no answer within {TIMEOUT:g} s") from None
        except ConnectionResetError:
            raise Broken(f"reset without an answer after {reader.buffer[:200]!r}") from None
        if answer is None:
            raise Broken("closed without an answer")
        return answer


# Websockets (RFC 6455)

WS_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def ws_frame(
    opcode: int,
    payload: bytes,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    length: int | None = None,
) -> bytes:
    """One frame as a client sends it; `length` overrides the announced payload length."""
    announced = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0xF)])
    mask_bit = 0x80 if masked else 0
    if announced < 126:
        head += bytes([mask_bit | announced])
    elif announced < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", announced)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", announced)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@dataclass
class WsFrame:
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None


def read_ws_frame(reader: Reader) -> WsFrame | None:
    """The next frame from the server (never masked); None at a clean end of stream."""
    if reader.at_end():
        return None
    first, second = reader.take(2, "a frame head")
    if second & 0x80:
        raise Broken("the server masked a frame")
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", reader.take(2, "a frame length"))[0]
    elif size == 127:
        size = struct.unpack("!Q", reader.take(8, "a frame length"))[0]
    return WsFrame(first & 0xF, reader.take(size, "a frame payload"))


def ws_upgrade(path: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    upgrade = [
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", WS_KEY),
        (b"Sec-WebSocket-Version", b"13"),
    ]
    return build(b"GET", path, upgrade + headers)
