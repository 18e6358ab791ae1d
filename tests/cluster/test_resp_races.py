"""The raise path's lean Redis connection and the store over it, in the races a busy
cluster runs into. Against a real redis-server, in-process."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from kisalert.store.resp import Connection
from tests.redis_server import RedisServer, running_redis

CONNECT_TIMEOUT = 0.3


async def _abandoned_connect(server: RedisServer, connection: Connection, fails: bool) -> None:
    """A command whose caller is cancelled while its connection is being made (the
    password's AUTH unanswered: Redis hung); the connect then fails or succeeds."""
    with server.hung():
        caller = asyncio.ensure_future(connection.call("PING"))
        await asyncio.sleep(0.1)
        caller.cancel()
        if fails:
            await asyncio.sleep(CONNECT_TIMEOUT * 3)  # the connect timed out, unheard
    await asyncio.sleep(0.2)  # when it succeeds: AUTH answered
    with pytest.raises(asyncio.CancelledError):
        await caller


@pytest.mark.parametrize("fails", [True, False], ids=["connect-failed", "connect-succeeded"])
def test_a_connect_whose_caller_went_away_does_not_fail_a_later_command(fails: bool) -> None:
    with running_redis(password="pw") as server:

        async def main() -> Any:
            client = aioredis.Redis.from_url(server.url)
            connection = Connection(client, CONNECT_TIMEOUT, 3.0)
            try:
                await _abandoned_connect(server, connection, fails)
                # As the store does after any dropped connection (forget_connections).
                connection.close()
                return await connection.call("PING")
            finally:
                connection.close()
                await client.aclose()

        assert asyncio.run(main()) == b"PONG"
