"""The channel between the server and its forwarding process: messages whole and in
order, None at the peer's end, and a clear error for what is not a message."""

from __future__ import annotations

import asyncio
import socket

import pytest

from kisalert.forward.channel import MAX_MESSAGE, Channel, ChannelError


def test_messages_arrive_whole_and_in_order_then_none_at_the_end() -> None:
    async def test() -> None:
        mine, theirs = socket.socketpair()
        left, right = await Channel.open(mine), await Channel.open(theirs)
        big = {"op": "status", "records": ["x" * 100_000] * 5}
        left.send({"op": "committed"})
        left.send(big)
        assert await right.receive() == {"op": "committed"}
        assert await right.receive() == big
        await left.close()
        left.send({"op": "lost"})  # after the close: nothing, and no error
        assert await right.receive() is None
        await right.close()

    asyncio.run(test())


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ((MAX_MESSAGE + 1).to_bytes(4, "big"), "bytes"),
        (b"\x00\x00\x00\x03abc", "not JSON"),
        (b"\x00\x00\x00\x02[]", "not an object"),
    ],
)
def test_what_is_not_a_message_is_an_error(raw: bytes, reason: str) -> None:
    async def test() -> None:
        mine, theirs = socket.socketpair()
        with mine:
            channel = await Channel.open(theirs)
            mine.sendall(raw)
            with pytest.raises(ChannelError, match=reason):
                await channel.receive()
            await channel.close()

    asyncio.run(test())
