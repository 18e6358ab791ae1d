"""A lean, pipelined connection to Redis for the commands on the raise path.

redis-py spends about 200 µs of CPU on each command it sends (a connection taken from
its pool, the command packed, a coroutine per reply, its timeout scopes): more than
the rest of a raise. Here every command issued during one event-loop turn goes out in
one write, hiredis packs the commands and parses the replies, and each reply is
handed to the future of the command it answers, in order, from `data_received`:
no task, no pool, no coroutine per command.

It connects as redis-py would from the same URL (host and port, a unix socket, TLS
with redis-py's own SSL context, a user name and password, a database number), and it
fails as redis-py does, with redis-py's exceptions: `ConnectionError` when Redis
cannot be reached or the connection drops, `TimeoutError` when an answer is late
(every command in flight then fails and the connection is dropped, since a late
answer would be taken for the next command's), `ResponseError` and `NoScriptError`
for Redis' error replies. It never repeats a command; the next command after a
failure connects again.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from typing import Any, cast

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection
from redis.exceptions import (
    AuthenticationError,
    NoScriptError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def _error(reply: hiredis.ReplyError) -> RedisError:
    text = str(reply)
    if text.startswith("NOSCRIPT"):
        return NoScriptError(text)
    if text.startswith(("NOAUTH", "WRONGPASS")):
        return AuthenticationError(text)
    return ResponseError(text)


class _Protocol(asyncio.Protocol):
    """One connection: commands written as they come, replies matched in order."""

    def __init__(self, command_timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._reader = hiredis.Reader()
        self._timeout = command_timeout
        # Each command in flight: its future, and when it was written.
        self._waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self._out: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.lost: RedisError | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport's subclasses, but act alike.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        waiting = self._waiting
        while (reply := self._reader.gets()) is not False:
            if not waiting:
                self._drop(RedisConnectionError("Redis sent a reply to no command"))
                return
            future, _sent = waiting.popleft()
            if future.done():  # its caller was cancelled
                continue
            if isinstance(reply, hiredis.ReplyError):
                future.set_exception(_error(reply))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self.lost is None:
            self.lost = RedisConnectionError(
                f"Connection closed by server ({exc})" if exc else "Connection closed by server."
            )
        self._fail_all(self.lost)

    @property
    def usable(self) -> bool:
        return self.lost is None and self._transport is not None

    def call(self, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        future = self._loop.create_future()
        if self.lost is not None:
            future.set_exception(self.lost)
            return future
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(hiredis.pack_command(args))
        self._waiting.append((future, time.monotonic()))
        if self._timer is None:
            self._timer = self._loop.call_later(self._timeout, self._expire)
        return future

    def _flush(self) -> None:
        out, self._out = self._out, []
        if self._transport is not None and self.lost is None:
            self._transport.write(b"".join(out))

    def _expire(self) -> None:
        self._timer = None
        if not self._waiting:
            return
        late = time.monotonic() - self._waiting[0][1]
        if late >= self._timeout:
            self._drop(RedisTimeoutError("Timeout reading from socket"))
        else:
            self._timer = self._loop.call_later(self._timeout - late, self._expire)

    def _drop(self, error: RedisError) -> None:
        if self.lost is None:
            self.lost = error
        if self._transport is not None:
            self._transport.abort()
        self._fail_all(self.lost)

    def _fail_all(self, error: RedisError) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            future, _sent = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)

    def close(self) -> None:
        self._drop(RedisConnectionError("Connection closed"))


class Connection:
    """A connection to the Redis a redis-py client talks to, made when first needed and
    again after it failed."""

    def __init__(self, client: aioredis.Redis, connect_timeout: float, command_timeout: float):
        pool = client.connection_pool
        self._kwargs: dict[str, Any] = dict(pool.connection_kwargs)
        self._class = pool.connection_class
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None
        self._closes = 0  # how many times close() was called: a connect made before
        # one is not taken up after it (it would stay open, unseen, past a shutdown)

    async def call(self, *args: Any) -> Any:
        """The reply to one command. Raises RedisError."""
        protocol = self._protocol
        if protocol is None or not protocol.usable:
            protocol = await self._connected()
        return await protocol.call(args)

    async def _connected(self) -> _Protocol:
        # One connection at a time, however many commands are waiting for it. It is
        # forgotten when it ends, not when a caller hears of it: every caller may have
        # been cancelled meanwhile, and a later one must not get its stale outcome.
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
            self._connecting.add_done_callback(self._connect_ended)
        return await asyncio.shield(self._connecting)

    def _connect_ended(self, connecting: asyncio.Future[_Protocol]) -> None:
        if self._connecting is connecting:
            self._connecting = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        kwargs = self._kwargs
        closes = self._closes

        def made() -> _Protocol:
            return _Protocol(self._command_timeout)

        try:
            async with asyncio.timeout(self._connect_timeout):
                if issubclass(self._class, UnixDomainSocketConnection):
                    _, protocol = await loop.create_unix_connection(made, kwargs["path"])
                else:
                    host, port = kwargs.get("host", "localhost"), kwargs.get("port", 6379)
                    context: ssl.SSLContext | None = None
                    if issubclass(self._class, SSLConnection):
                        context = self._ssl_context()
                    _, protocol = await loop.create_connection(made, host, port, ssl=context)
                await self._handshake(protocol)
        except TimeoutError:
            raise RedisTimeoutError("Timeout connecting to server") from None
        except (OSError, ssl.SSLError) as exc:
            raise RedisConnectionError(str(exc) or type(exc).__name__) from None
        if self._closes != closes:
            protocol.close()
            raise RedisConnectionError("Connection closed while it was being made")
        if self._protocol is not None:
            self._protocol.close()
        self._protocol = protocol
        return protocol

    def _ssl_context(self) -> ssl.SSLContext:
        # redis-py's own connection object for this URL (no socket is opened): its
        # SSL context is the one redis-py would use, with its defaults and options.
        connection = self._class(**self._kwargs)
        assert isinstance(connection, SSLConnection)
        return connection.ssl_context.get()

    async def _handshake(self, protocol: _Protocol) -> None:
        kwargs = self._kwargs
        password, username = kwargs.get("password"), kwargs.get("username")
        try:
            if password is not None:
                auth = ("AUTH", username, password) if username else ("AUTH", password)
                await protocol.call(auth)
            if int(kwargs.get("db") or 0):
                await protocol.call(("SELECT", int(kwargs["db"])))
        except BaseException:  # a refusal, or the connect timeout cancelling it
            protocol.close()
            raise

    def close(self) -> None:
        """Drop the connection: commands in flight fail, and so does a connect still
        being made; the next command connects again."""
        self._closes += 1
        if self._protocol is not None:
            self._protocol.close()
            self._protocol = None
