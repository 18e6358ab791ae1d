"""The raise path's lean Redis connection (store/resp.py), against a real redis-server:
replies go to the commands they answer, however many are in flight, whatever fails;
it reaches Redis every way a store URL can say; and a replica's raises go on through
what Redis does under it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kisalert.store.redis import reason
from kisalert.store.resp import Connection
from tests.certs import self_signed
from tests.cluster.helpers import CLUSTER_CONFIG, backlog, texts
from tests.cluster.replicas import replicas
from tests.http.helpers import define_fast, raise_ok
from tests.redis_server import RedisServer, running_redis
from tests.server import free_port
from tests.slack import slack

T = TypeVar("T")


def run(url: str, body: Callable[[Connection], Awaitable[T]], timeout: float = 3.0) -> T:
    """`body` on a fresh connection to `url`, closed after."""

    async def main() -> T:
        client = aioredis.Redis.from_url(url)
        connection = Connection(client, 2.0, timeout)
        try:
            return await body(connection)
        finally:
            connection.close()
            await client.aclose()

    return asyncio.run(main())


def test_commands_sent_together_each_get_their_own_reply_in_order(
    redis_server: RedisServer,
) -> None:
    async def body(connection: Connection) -> list[Any]:
        await connection.call("SET", "text", "not a hash")
        calls = [connection.call("INCR", "counter") for _ in range(300)]
        # An error reply in the middle fails its own command and no other.
        calls.insert(150, connection.call("HGET", "text", "field"))
        return await asyncio.gather(*calls, return_exceptions=True)

    replies = run(redis_server.url, body)
    wrong = replies.pop(150)
    assert isinstance(wrong, ResponseError) and str(wrong).startswith("WRONGTYPE")
    assert replies == list(range(1, 301))


def test_a_cancelled_command_does_not_shift_the_replies_of_the_others(
    redis_server: RedisServer,
) -> None:
    async def body(connection: Connection) -> tuple[Any, Any, bool]:
        first = asyncio.ensure_future(connection.call("ECHO", "first"))
        second = asyncio.ensure_future(connection.call("ECHO", "second"))
        third = asyncio.ensure_future(connection.call("ECHO", "third"))
        await asyncio.sleep(0)  # all three written
        second.cancel()
        return await first, await third, second.cancelled()

    assert run(redis_server.url, body) == (b"first", b"third", True)


def test_a_late_answer_fails_the_commands_in_flight_and_the_next_command_connects_again(
    redis_server: RedisServer,
) -> None:
    async def body(connection: Connection) -> tuple[Any, Any]:
        assert await connection.call("PING") == b"PONG"
        with redis_server.hung():
            started = asyncio.get_running_loop().time()
            failed = await asyncio.gather(
                connection.call("ECHO", "stale-1"),
                connection.call("ECHO", "stale-2"),
                return_exceptions=True,
            )
            waited = asyncio.get_running_loop().time() - started
            assert 0.4 <= waited < slack(3), waited
        # Redis answers the stale commands once it resumes: none of those answers may
        # be taken for the next command's.
        return failed, await connection.call("ECHO", "fresh")

    failed, fresh = run(redis_server.url, body, timeout=0.5)
    assert [type(exc) for exc in failed] == [RedisTimeoutError, RedisTimeoutError]
    assert fresh == b"fresh"


def test_a_redis_restarted_between_commands_is_reached_again(redis_server: RedisServer) -> None:
    async def body(connection: Connection) -> Any:
        await connection.call("SET", "kept", "yes")
        redis_server.restart()
        for _ in range(50):
            try:
                return await connection.call("GET", "kept")
            except RedisConnectionError:
                await asyncio.sleep(0.1)  # the drop not yet seen: one command fails
        raise AssertionError("never reached Redis again")

    assert run(redis_server.url, body) == b"yes"


def test_a_unix_socket_with_a_password_and_a_database_number(tmp_path: Path) -> None:
    with running_redis(password="unix-socket-password") as server:

        async def body(connection: Connection) -> Any:
            return await connection.call("SET", "where", "db 3")

        assert run(server.unix_url(db=3), body) == b"OK"
        with redis.Redis.from_url(server.url) as client:
            assert client.get("where") is None
            assert client.execute_command("SELECT", 3) and client.get("where") == b"db 3"


def test_a_wrong_password_is_said_as_redis_py_says_it() -> None:
    with running_redis(password="the-right-one") as server:
        url = server.url.replace("the-right-one", "a-wrong-one")

        async def body(connection: Connection) -> Any:
            return await connection.call("PING")

        with pytest.raises(AuthenticationError) as refused:
            run(url, body)
        assert reason(refused.value) == "it refused the password in the URL"


def test_tls_with_the_servers_certificate_and_without(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with running_redis(tls=(cert, key)) as server:

        async def body(connection: Connection) -> Any:
            return await connection.call("PING")

        assert run(server.url, body) == b"PONG"
        untrusted = server.url.split("?")[0]  # the system's CAs: the self-signed one fails
        with pytest.raises(RedisConnectionError, match="certificate verify failed"):
            run(untrusted, body)


def test_nothing_listening_is_a_connection_error() -> None:
    async def body(connection: Connection) -> Any:
        return await connection.call("PING")

    with pytest.raises(RedisConnectionError):
        run(f"redis://127.0.0.1:{free_port()}/0", body)


# A replica's raises, over it


def test_raises_go_on_after_redis_forgets_the_scripts(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with replicas(tmp_path, redis_server, 1, CLUSTER_CONFIG) as (a,):
        define_fast(a, "FORGOTTEN")
        raise_ok(a, "FORGOTTEN", "before")
        with redis.Redis.from_url(redis_server.url) as client:
            client.script_flush()
        raise_ok(a, "FORGOTTEN", "after")
        assert texts(backlog(a, "FORGOTTEN")) == ["before", "after"]


def test_replicas_on_a_unix_socket_in_another_database(tmp_path: Path) -> None:
    with running_redis(password="socket-password") as server:
        url = server.unix_url(db=5)
        with replicas(tmp_path, server, 2, CLUSTER_CONFIG, url=url) as (a, b):
            define_fast(a, "OVERSOCKET")
            raise_ok(a, "OVERSOCKET", "through the socket")
            assert texts(backlog(b, "OVERSOCKET")) == ["through the socket"]
        with redis.Redis.from_url(server.url) as client:
            assert client.dbsize() == 0  # all of it in database 5
            client.execute_command("SELECT", 5)
            assert client.dbsize() > 0
