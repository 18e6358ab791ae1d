"""A publish-only MQTT 3.1.1 client: CONNECT with a clean session, PUBLISH with
QoS 1 pipelined a batch at a time, PINGREQ when idle, DISCONNECT.

Written here rather than used from paho-mqtt (through aiomqtt) because paho's
Python publish path (a lock and a future per message) cost some 260 µs of CPU per
alert (docs/performance.md); a publisher needs only a small part of the protocol.
It parses only what a broker sends a publisher (CONNACK, PUBACK, PINGRESP): any
other packet is a protocol error, and the connection is closed.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from collections.abc import Sequence
from typing import cast

PROTOCOL = b"\x00\x04MQTT\x04"  # the protocol name, and level 4: MQTT 3.1.1
CONNECT, PUBLISH_QOS1, PINGREQ, DISCONNECT = 0x10, 0x32, b"\xc0\x00", b"\xe0\x00"
CONNACK, PUBACK, PINGRESP = 0x20, 0x40, 0xD0
CLEAN_SESSION, PASSWORD, USERNAME, RETAIN = 0x02, 0x40, 0x80, 0x01
MAX_REMAINING = 268_435_455  # four bytes of variable length
MAX_PACKET_ID = 65535
# CONNACK's return codes, in paho's words (which users of MQTT tools know).
CONNACK_REASONS = {
    1: "Unsupported protocol version",
    2: "Client identifier not valid",
    3: "Server unavailable",
    4: "Bad user name or password",
    5: "Not authorized",
}
CLOSE_SECONDS = 1.0
_PACK_H = struct.Struct("!H").pack


class MqttError(Exception):
    """str() is one line saying why. `delivered`: of the messages of the publish
    that failed, how many leading ones the broker had acknowledged."""

    def __init__(self, reason: str, delivered: int = 0) -> None:
        super().__init__(reason)
        self.delivered = delivered


class ConnectRefused(MqttError):
    """The broker answered CONNECT with a return code other than 0."""

    def __init__(self, code: int) -> None:
        self.code = code
        name = CONNACK_REASONS.get(code, f"return code {code}")
        super().__init__(f"the broker refused the connection ({name})")


def _length(value: int) -> bytes:
    """MQTT's variable byte integer."""
    if value < 0x80:
        return bytes((value,))
    if value < 0x4000:  # an alert's record
        return bytes((value & 0x7F | 0x80, value >> 7))
    out = bytearray()
    while True:
        value, digit = value >> 7, value & 0x7F
        out.append(digit | 0x80 if value else digit)
        if not value:
            return bytes(out)


def _string(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError("an MQTT string holds at most 65535 bytes")
    return struct.pack("!H", len(data)) + data


def connect_packet(
    client_id: str, keepalive: int, username: str | None, password: str | None
) -> bytes:
    flags = CLEAN_SESSION
    payload = _string(client_id.encode())
    if username is not None:
        flags |= USERNAME
        payload += _string(username.encode())
        if password is not None:
            flags |= PASSWORD
            payload += _string(password.encode())
    body = PROTOCOL + struct.pack("!BH", flags, keepalive) + payload
    return bytes([CONNECT]) + _length(len(body)) + body


class _Protocol(asyncio.Protocol):
    """The connection's reading side, and its state: the CONNACK awaited, the
    packet ids awaiting their PUBACK, the keepalive."""

    def __init__(self, keepalive: int) -> None:
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.connack: asyncio.Future[int] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.error: MqttError | None = None  # set once, when the connection ends
        self._buffer = bytearray()
        # The publish awaiting acknowledgements: packet id -> its index in the batch.
        self.waiting: dict[int, int] = {}
        self.acked = bytearray()
        self.all_acked: asyncio.Future[None] | None = None
        self._keepalive = keepalive
        self.last_write = loop.time()
        self._ping_sent = False
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not subclasses of asyncio's).
        self.transport = cast(asyncio.Transport, transport)
        if self._keepalive:
            self._timer = self.loop.call_later(self._keepalive / 2, self._tick)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(MqttError("connection lost"))
        if not self.closed.done():
            self.closed.set_result(None)

    def fail(self, error: MqttError) -> None:
        """End the connection (if not already) with `error` as the reason."""
        if self.error is None:
            self.error = error
        if self._timer is not None:
            self._timer.cancel()
        for future in (self.connack, self.all_acked):
            if future is not None and not future.done():
                future.set_exception(self.error)
                future.exception()  # seen: nobody may be waiting any more
        if self.transport is not None:
            self.transport.abort()

    def write(self, data: bytes | bytearray) -> None:
        assert self.transport is not None
        self.transport.write(data)
        self.last_write = self.loop.time()

    def _tick(self) -> None:
        # The broker drops a client silent for 1.5 keepalives: a PINGREQ after half of
        # one idle. A PINGREQ unanswered by the next tick means the broker is gone.
        if self._ping_sent:
            self.fail(MqttError(f"no PINGRESP within {self._keepalive / 2:g} s"))
            return
        if self.loop.time() - self.last_write >= self._keepalive / 2 - 0.5:
            self.write(PINGREQ)
            self._ping_sent = True
        self._timer = self.loop.call_later(self._keepalive / 2, self._tick)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        # Every packet a broker sends a publisher is 2 or 4 bytes long.
        while len(buffer) - start >= 2:
            kind, length = buffer[start], buffer[start + 1]
            if kind not in (CONNACK, PUBACK, PINGRESP):
                self.fail(MqttError(f"protocol error: unexpected packet {kind:#04x}"))
                return
            if length > 2:  # also any longer (multi-byte) remaining length
                self.fail(MqttError(f"protocol error: packet {kind:#04x} too long"))
                return
            if len(buffer) - start < 2 + length:
                break
            body = bytes(buffer[start + 2 : start + 2 + length])
            start += 2 + length
            if not self._packet(kind, body):
                return
        del buffer[:start]

    def _packet(self, kind: int, body: bytes) -> bool:
        """Handle one packet; False once the connection is failed."""
        if kind == PUBACK and len(body) == 2 and self.connack.done():
            index = self.waiting.pop((body[0] << 8) | body[1], None)
            if index is None:
                self.fail(MqttError("protocol error: a PUBACK for no message in flight"))
                return False
            self.acked[index] = 1
            if not self.waiting and self.all_acked is not None and not self.all_acked.done():
                self.all_acked.set_result(None)
            return True
        if kind == CONNACK and len(body) == 2 and not self.connack.done():
            self.connack.set_result(body[1])
            return True
        if kind == PINGRESP and not body and self.connack.done():
            self._ping_sent = False
            return True
        self.fail(MqttError(f"protocol error: unexpected packet {kind:#04x} of {len(body)} bytes"))
        return False


class MqttClient:
    """One connection to a broker. Made by `connect`; after any MqttError (or a
    publish cancelled half way) it is done with: `usable` turns False."""

    def __init__(self, protocol: _Protocol, first_packet_id: int) -> None:
        self._protocol = protocol
        self._next_id = first_packet_id
        self._intact = True  # no publish was cancelled half way

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        keepalive: int = 60,
        connack_seconds: float = 10.0,
        first_packet_id: int = 1,
    ) -> MqttClient:
        """Connected, and the CONNACK accepted. Raises OSError (ssl.SSLError among
        them) for a connection or TLS failure, ConnectRefused for a refusing CONNACK,
        MqttError for the rest (no CONNACK in time, a protocol error)."""
        packet = connect_packet(client_id, keepalive, username, password)
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            lambda: _Protocol(keepalive),
            host,
            port,
            ssl=ssl_context,
            server_hostname=host if ssl_context is not None else None,
        )
        try:
            protocol.write(packet)
            try:
                async with asyncio.timeout(connack_seconds):
                    code = await protocol.connack
            except TimeoutError:
                raise MqttError(f"no CONNACK within {connack_seconds:g} s") from None
            if code:
                raise ConnectRefused(code)
        except BaseException as exc:
            protocol.fail(exc if isinstance(exc, MqttError) else MqttError("cancelled"))
            raise
        return cls(protocol, first_packet_id)

    @property
    def usable(self) -> bool:
        return self._intact and self._protocol.error is None

    async def publish(self, messages: Sequence[tuple[str, bytes]], retain: bool = False) -> None:
        """Publish `(topic, payload)` messages with QoS 1, in order, in one write, and
        wait for all their PUBACKs. At most 65535 at once. Raises MqttError (with
        `delivered`) if the connection ends first."""
        protocol = self._protocol
        if protocol.error is not None:
            raise MqttError(str(protocol.error))
        if not self._intact:
            raise MqttError("a publish was cancelled half way")
        if not messages:
            return
        if len(messages) > MAX_PACKET_ID:
            raise ValueError(f"at most {MAX_PACKET_ID} messages in flight")
        first = PUBLISH_QOS1 | RETAIN if retain else PUBLISH_QOS1
        out = bytearray()
        waiting = protocol.waiting
        packet_id = self._next_id
        for index, (topic, payload) in enumerate(messages):
            name = topic.encode()
            remaining = 4 + len(name) + len(payload)
            if remaining > MAX_REMAINING or len(name) > 0xFFFF:
                waiting.clear()
                raise ValueError(f"a message of {len(payload)} bytes is over MQTT's limit")
            out.append(first)
            out += _length(remaining)
            out += _PACK_H(len(name))
            out += name
            out += _PACK_H(packet_id)
            out += payload
            waiting[packet_id] = index
            packet_id = packet_id + 1 if packet_id < MAX_PACKET_ID else 1
        self._next_id = packet_id
        protocol.acked = bytearray(len(messages))
        protocol.all_acked = done = protocol.loop.create_future()
        try:
            protocol.write(out)
            await done
        except MqttError as exc:
            delivered = protocol.acked.find(0)
            raise MqttError(str(exc), len(messages) if delivered < 0 else delivered) from None
        except BaseException:
            self._intact = False  # PUBACKs of this publish may still come
            raise
        finally:
            waiting.clear()
            protocol.all_acked = None

    async def close(self, seconds: float = CLOSE_SECONDS) -> None:
        """DISCONNECT, and the connection closed within `seconds` (else aborted)."""
        protocol = self._protocol
        if protocol.error is None and protocol.transport is not None:
            protocol.write(DISCONNECT)
            protocol.error = MqttError("closed")
            protocol.transport.close()
            try:
                async with asyncio.timeout(seconds):
                    await asyncio.shield(protocol.closed)
            except TimeoutError:
                pass
        protocol.fail(MqttError("closed"))

    def abort(self) -> None:
        """Closed at once, without a DISCONNECT (the broker keeps nothing of ours)."""
        self._protocol.fail(MqttError("closed"))
