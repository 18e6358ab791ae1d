"""The publish-only MQTT 3.1.1 client, over real sockets: against a fake broker (an
asyncio server in the test) that misbehaves on purpose, and against a real mosquitto
for many messages pipelined and the packet id wrapping past 65535."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kisalert.forward.mqtt_client import ConnectRefused, MqttClient, MqttError
from tests.forward.mosquitto import Mosquitto, Subscriber, running_mosquitto
from tests.slack import slack

CONNACK_OK = b"\x20\x02\x00\x00"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Packet:
    kind: int  # the whole first byte: type and flags
    body: bytes


async def read_packet(reader: asyncio.StreamReader) -> Packet:
    """One packet as the standard frames it, decoded here independently of the client."""
    first = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    while True:
        digit = (await reader.readexactly(1))[0]
        length |= (digit & 0x7F) << shift
        shift += 7
        if not digit & 0x80:
            break
    return Packet(first, await reader.readexactly(length))


def publish_parts(packet: Packet) -> tuple[str, int, bytes]:
    """A QoS 1 PUBLISH's topic, packet id and payload."""
    (size,) = struct.unpack_from("!H", packet.body)
    (packet_id,) = struct.unpack_from("!H", packet.body, 2 + size)
    return packet.body[2 : 2 + size].decode(), packet_id, packet.body[4 + size :]


def puback(packet_id: int) -> bytes:
    return b"\x40\x02" + struct.pack("!H", packet_id)


async def accept_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Packet:
    connect = await read_packet(reader)
    assert connect.kind == 0x10
    writer.write(CONNACK_OK)
    return connect


async def with_broker(handler: Handler, test: Callable[[int], Awaitable[None]]) -> None:
    """`test(port)` while a fake broker on a free loopback port runs `handler` for
    each connection; then every handler must end (the client closed its side), and
    a failed assertion in one fails the test."""
    handlers: list[asyncio.Task[None]] = []

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.create_task(guarded(reader, writer)))

    server = await asyncio.start_server(accepted, "127.0.0.1", 0)
    try:
        await test(server.sockets[0].getsockname()[1])
        async with asyncio.timeout(slack(10)):
            await asyncio.gather(*handlers)
    finally:
        for task in handlers:
            task.cancel()
        server.close()
        await server.wait_closed()


def run_with_broker(handler: Handler, test: Callable[[int], Awaitable[None]]) -> None:
    asyncio.run(with_broker(handler, test))


async def connect(port: int, **options: Any) -> MqttClient:
    return await MqttClient.connect("127.0.0.1", port, "test-client", **options)


def messages(count: int, start: int = 0) -> list[tuple[str, bytes]]:
    return [(f"t/{n}", f"message {n}".encode()) for n in range(start, start + count)]


# Connecting


def test_connect_packet_and_disconnect_as_the_standard_gives_them() -> None:
    seen: list[Packet] = []

    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await accept_connect(reader, writer))
        seen.append(await read_packet(reader))
        assert await reader.read() == b""  # closed after the DISCONNECT

    async def test(port: int) -> None:
        client = await connect(port, username="sensor", password="pässword", keepalive=45)
        await client.close()

    run_with_broker(broker, test)
    connect_packet, disconnect = seen
    assert connect_packet.body == (
        b"\x00\x04MQTT\x04"  # MQTT 3.1.1
        + b"\xc2"  # user name, password, clean session
        + b"\x00\x2d"  # keepalive 45
        + b"\x00\x0btest-client"
        + b"\x00\x06sensor"
        + b"\x00\x09p\xc3\xa4ssword"
    )
    assert (disconnect.kind, disconnect.body) == (0xE0, b"")


def test_anonymous_connect_has_no_login_flags() -> None:
    seen: list[Packet] = []

    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await accept_connect(reader, writer))
        await reader.read()

    async def test(port: int) -> None:
        await (await connect(port)).close()

    run_with_broker(broker, test)
    assert seen[0].body == b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x0btest-client"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1, "Unsupported protocol version"),
        (2, "Client identifier not valid"),
        (3, "Server unavailable"),
        (4, "Bad user name or password"),
        (5, "Not authorized"),
        (9, "return code 9"),
    ],
)
def test_a_refusing_connack(code: int, reason: str) -> None:
    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_packet(reader)
        writer.write(bytes([0x20, 2, 0, code]))
        await reader.read()

    async def test(port: int) -> None:
        with pytest.raises(ConnectRefused) as info:
            await connect(port)
        assert info.value.code == code
        assert str(info.value) == f"the broker refused the connection ({reason})"

    run_with_broker(broker, test)


def test_no_connack_times_out_and_closes() -> None:
    closed = asyncio.Event()

    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_packet(reader)
        assert await reader.read() == b""  # the client gave up and closed
        closed.set()

    async def test(port: int) -> None:
        with pytest.raises(MqttError, match=r"^no CONNACK within 0\.2 s$"):
            await connect(port, connack_seconds=0.2)
        await asyncio.wait_for(closed.wait(), slack(5))

    run_with_broker(broker, test)


def test_closed_before_connack() -> None:
    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_packet(reader)

    async def test(port: int) -> None:
        with pytest.raises(MqttError, match=r"^connection lost$"):
            await connect(port, connack_seconds=slack(10))

    run_with_broker(broker, test)


# Publishing to a broker that misbehaves


def test_closed_mid_batch_counts_the_acknowledged_run() -> None:
    got: list[tuple[str, int, bytes]] = []

    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accept_connect(reader, writer)
        for _ in range(10):
            got.append(publish_parts(await read_packet(reader)))
        for _, packet_id, _ in got[:3]:
            writer.write(puback(packet_id))
        await writer.drain()

    async def test(port: int) -> None:
        client = await connect(port, first_packet_id=7)
        with pytest.raises(MqttError, match=r"^connection lost$") as info:
            await client.publish(messages(10), retain=False)
        assert info.value.delivered == 3
        assert not client.usable
        with pytest.raises(MqttError, match=r"^connection lost$"):
            await client.publish(messages(1))
        await client.close()

    run_with_broker(broker, test)
    assert got == [(f"t/{n}", 7 + n, f"message {n}".encode()) for n in range(10)]


def test_pubacks_out_of_order() -> None:
    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accept_connect(reader, writer)
        ids = [publish_parts(await read_packet(reader))[1] for _ in range(5)]
        for packet_id in reversed(ids):
            writer.write(puback(packet_id))
        # Then: 2 of 4 acknowledged, the first and the third, and the connection closed.
        ids = [publish_parts(await read_packet(reader))[1] for _ in range(4)]
        writer.write(puback(ids[2]) + puback(ids[0]))
        await writer.drain()

    async def test(port: int) -> None:
        client = await connect(port)
        await client.publish(messages(5))  # every one acknowledged, in any order
        assert client.usable
        with pytest.raises(MqttError) as info:
            await client.publish(messages(4))
        assert info.value.delivered == 1  # the leading run only

    run_with_broker(broker, test)


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b"\x30\x05\x00\x01tab", "unexpected packet 0x30"),  # a PUBLISH to a publisher
        (b"\x20\x02\x00\x00", "unexpected packet 0x20"),  # a second CONNACK
        (b"\x42\x02\x00\x01", "unexpected packet 0x42"),  # PUBACK with bad flags
        (b"\x40\x03\x00\x01\x00", "too long"),
        (b"\x40\xff\xff\xff\xff\x7f", "too long"),  # a remaining length over 4 bytes
        (b"\x40\x02\x12\x34", "a PUBACK for no message in flight"),
        (b"\x40\x02\x00\x01" * 2, "a PUBACK for no message in flight"),  # twice
    ],
)
def test_garbage_is_a_protocol_error(garbage: bytes, reason: str) -> None:
    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accept_connect(reader, writer)
        await read_packet(reader)
        writer.write(garbage)
        await reader.read()

    async def test(port: int) -> None:
        client = await connect(port)
        with pytest.raises(MqttError, match=f"^protocol error: .*{reason}") as info:
            await client.publish(messages(2))
        assert info.value.delivered == (1 if garbage.startswith(b"\x40\x02\x00\x01") else 0)
        assert not client.usable

    run_with_broker(broker, test)


def test_a_puback_before_the_connack_is_a_protocol_error() -> None:
    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_packet(reader)
        writer.write(puback(1) + CONNACK_OK)
        await reader.read()

    async def test(port: int) -> None:
        with pytest.raises(MqttError, match=r"^protocol error: unexpected packet 0x40"):
            await connect(port)

    run_with_broker(broker, test)


def test_packets_split_across_reads() -> None:
    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_packet(reader)
        for byte in CONNACK_OK:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.01)
        ids = [publish_parts(await read_packet(reader))[1] for _ in range(3)]
        acks = b"".join(puback(packet_id) for packet_id in ids)
        writer.write(acks[:3])
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(acks[3:])
        await reader.read()

    async def test(port: int) -> None:
        client = await connect(port)
        await client.publish(messages(3))
        await client.close()

    run_with_broker(broker, test)


def test_a_cancelled_publish_leaves_the_client_unusable() -> None:
    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accept_connect(reader, writer)
        await reader.read()  # never acknowledges

    async def test(port: int) -> None:
        client = await connect(port)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await client.publish(messages(2))
        assert not client.usable
        client.abort()

    run_with_broker(broker, test)


def test_pingreq_when_idle_and_no_pingresp_ends_the_connection() -> None:
    pings: list[Packet] = []

    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accept_connect(reader, writer)
        pings.append(await read_packet(reader))
        writer.write(b"\xd0\x00")  # the first is answered
        pings.append(await read_packet(reader))
        await reader.read()  # the second is not

    async def test(port: int) -> None:
        client = await connect(port, keepalive=2)  # a PINGREQ each second of idling
        async with asyncio.timeout(slack(10)):
            while client.usable:
                await asyncio.sleep(0.05)
        with pytest.raises(MqttError, match=r"^no PINGRESP within 1 s$"):
            await client.publish(messages(1))

    run_with_broker(broker, test)
    assert [(p.kind, p.body) for p in pings] == [(0xC0, b"")] * 2


# A real broker


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    with running_mosquitto() as running:
        yield running


def test_many_pipelined_across_the_packet_id_wrap(broker: Mosquitto) -> None:
    """1 200 in one write from packet id 65000, then more: the ids go past 65535 to 1
    (never 0), and the broker acknowledges every one. One message needs a three-byte
    remaining length."""
    batch = messages(1200)
    batch[600] = ("t/big", b"x" * 20_000)

    async def run() -> None:
        client = await MqttClient.connect("127.0.0.1", broker.port, "wrap", first_packet_id=65000)
        await client.publish(batch, retain=False)
        await client.publish(messages(100, start=1200), retain=False)
        await client.close()

    with Subscriber(broker) as subscriber:
        asyncio.run(run())
        got = subscriber.wait_for_count(1300)
    assert [(m.topic, m.payload) for m in got] == batch + messages(100, start=1200)
    assert {(m.qos, m.retain) for m in got} == {(1, False)}
