"""How the server and its forwarding process talk: over a socket pair, each message a
JSON object sent as a 4-byte length and the object's bytes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import orjson

MAX_MESSAGE = 64 << 20  # a status or silences message is kilobytes; this is a bug


class ChannelError(Exception):
    """The peer sent something that is not a message."""


class Channel:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_MESSAGE)
        return cls(reader, writer)

    def send(self, message: dict[str, Any]) -> None:
        """Queue `message`; never waits. Does nothing once the peer has gone."""
        if self._writer.is_closing():
            return
        body = orjson.dumps(message)
        self._writer.write(len(body).to_bytes(4, "big") + body)

    def buffered(self) -> int:
        """Bytes sent and not yet taken by the peer."""
        transport = self._writer.transport
        return 0 if transport.is_closing() else transport.get_write_buffer_size()

    async def receive(self) -> dict[str, Any] | None:
        """The next message, or None once the peer has closed its end."""
        try:
            size = int.from_bytes(await self._reader.readexactly(4), "big")
            if size > MAX_MESSAGE:
                raise ChannelError(f"a message of {size} bytes")
            body = await self._reader.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ChannelError("a message that is not JSON") from None
        if not isinstance(message, dict):
            raise ChannelError("a message that is not an object")
        return message

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
