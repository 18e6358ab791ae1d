"""Getting syslog messages to a peer: UDP, TCP, TLS or a unix socket.

Stream transports frame each message by octet counting (RFC 6587 3.4.1: its length,
a space, the message), so messages may hold any byte. A datagram carries one
message. Connections are made on first use and again after any failure; nothing
here retries (the runner does).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from dataclasses import dataclass

from kisalert.forward.base import SpecError
from kisalert.forward.peer import host_port, split_url

DEFAULT_PORTS = {"udp": 514, "tcp": 514, "tls": 6514}
SCHEMES = ("udp", "tcp", "tls", "unix")
CLOSE_SECONDS = 1.0


class TransportError(Exception):
    """A send that failed after `sent` messages got through; str() says why."""

    def __init__(self, reason: str, sent: int = 0) -> None:
        super().__init__(reason)
        self.sent = sent


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""

    @classmethod
    def parse(cls, text: str) -> Target:
        """`udp://host:port`, `tcp://…`, `tls://…` or `unix:///path`. Raises SpecError."""
        parts = split_url("target", text)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise SpecError(
                f"target={text!r} must be udp://HOST:PORT, tcp://…, tls://… or unix:///PATH"
            )
        if parts.query or parts.fragment:
            raise SpecError(f"target={text!r}: a syslog target has no ?query or #fragment")
        if scheme == "unix":
            # unix:///dev/log or unix:/dev/log; in unix://dev/log, dev is a host.
            if parts.netloc:
                raise SpecError(f"target={text!r}: write unix:///PATH (three slashes)")
            if not parts.path.startswith("/"):
                raise SpecError(f"target={text!r}: the socket file needs an absolute path")
            return cls(scheme, path=parts.path)
        if "@" in parts.netloc:
            raise SpecError(f"target={text!r}: syslog takes no user or password")
        host, port = host_port(parts, "target", text, scheme, DEFAULT_PORTS[scheme])
        return cls(scheme, host, port)

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def frame(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


class Transport:
    """Sends messages to `target` in order, connecting as needed."""

    def __init__(self, target: Target, ssl_context: ssl.SSLContext | None = None) -> None:
        self.target = target
        self._ssl = ssl_context
        self._sock: socket.socket | None = None  # a datagram socket
        self._writer: asyncio.StreamWriter | None = None
        self._reader: asyncio.StreamReader | None = None

    async def send(self, messages: list[bytes]) -> None:
        """Raises TransportError, having closed the connection."""
        sent = 0
        try:
            await self._connect()
            if self._sock is not None:
                loop = asyncio.get_running_loop()
                for message in messages:
                    await loop.sock_sendall(self._sock, message)
                    sent += 1
            else:
                assert self._writer is not None
                self._writer.write(b"".join([frame(message) for message in messages]))
                await self._writer.drain()
        except (OSError, EOFError, ssl.SSLError) as exc:
            self._drop()
            # On a stream, what the kernel took may yet be lost: count none as sent.
            raise TransportError(f"{self.target}: {_reason(exc)}", sent) from None
        except BaseException:
            self._drop()  # cancelled (the runner's timeout) half way
            raise

    async def _connect(self) -> None:
        if self._sock is not None:
            return
        if self._writer is not None:
            assert self._reader is not None
            # The peer closed (a restart, an idle timeout): what we write now is lost.
            if not self._writer.is_closing() and not self._reader.at_eof():
                return
            self._drop()
        target = self.target
        if target.scheme == "unix":
            await self._connect_unix(target.path)
        elif target.scheme == "udp":
            self._sock = await self._datagram(target.host, target.port)
        else:
            self._reader, self._writer = await asyncio.open_connection(
                target.host,
                target.port,
                ssl=self._ssl,
                server_hostname=target.host if self._ssl is not None else None,
            )
            self._flush_fully()

    async def _datagram(self, host: str, port: int) -> socket.socket:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
        except BaseException:
            sock.close()
            raise
        return sock

    async def _connect_unix(self, path: str) -> None:
        # Datagram first, as syslog(3) does: /dev/log is one nearly everywhere.
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
        try:
            sock.connect(path)  # immediate for a unix socket
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EPROTOTYPE:
                raise
            self._reader, self._writer = await asyncio.open_unix_connection(path)
            self._flush_fully()
            return
        self._sock = sock

    def _flush_fully(self) -> None:
        # drain() then returns only once the kernel has every byte: by default it
        # returns with up to 64 KiB still in our buffer, which a crash would lose
        # after the runner had moved its cursor past them.
        assert self._writer is not None
        self._writer.transport.set_write_buffer_limits(high=0)

    def _drop(self) -> None:
        """Let go at once: after a failure, or a send cancelled half way."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._writer is not None:
            self._writer.transport.abort()
            self._writer = None
            self._reader = None

    async def close(self) -> None:
        """A clean close (TLS's close_notify), but no long wait for a stuck peer:
        everything sent is with the kernel already."""
        writer = self._writer
        self._writer = self._reader = None
        self._drop()
        if writer is not None:
            writer.close()
            try:
                async with asyncio.timeout(CLOSE_SECONDS):
                    await writer.wait_closed()
            except (TimeoutError, OSError, ssl.SSLError):
                writer.transport.abort()
