"""The raise path's lean Redis connection and the store over it, in the races a busy
cluster runs into: a caller that goes away while the connection is being made, and
two replicas that stamp an alert for the same microsecond. Against a real
redis-server, in-process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from kisalert import messages
from kisalert.alert import AlertDraft
from kisalert.clock import ManualClock
from kisalert.cluster.relay import Outbox
from kisalert.errors import Unavailable
from kisalert.forward.silences import from_command
from kisalert.messages import Message
from kisalert.store.redis import RedisStore, redis_key
from kisalert.store.resp import Connection
from tests.cluster.helpers import CLUSTER_CONFIG, subscribed
from tests.cluster.replicas import replicas
from tests.redis_server import RedisServer, running_redis
from tests.slack import slack
from tests.test_eventbus import define_pair

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


def test_another_replicas_alert_stamped_like_a_raise_in_flight_keeps_its_own_record(
    redis_server: RedisServer,
) -> None:
    """Replicas a and b stamp for the same microsecond; b's script runs first, so a's
    is refused and stamped again. a's relay reads b's entry while a's raise is still
    in flight: it must see b's alert, not a's."""

    async def main() -> tuple[list[tuple[str, int]], list[Any]]:
        clock = ManualClock()
        a = RedisStore(redis_server.url, clock, replica="a")
        b = RedisStore(redis_server.url, clock, replica="b")
        try:
            theirs = await b.append(AlertDraft("FROMB", "OTHER", 10, 0, "raised on b"))
            with redis.Redis.from_url(redis_server.url) as sync:
                ((entry_id, fields),) = sync.xrange(redis_key("alerts"))
            with redis_server.hung():
                raising = asyncio.ensure_future(
                    a.append(AlertDraft("FROMA", "OTHER", 10, 0, "raised on a"))
                )
                await asyncio.sleep(0.1)  # a's script sent, its reply not yet here
                seen = a.parse(entry_id, fields)  # what a's relay does with b's entry
            mine = await raising
            backlog = [(x.record["kismet.alert.text"], x.alert_id) for x in await a.backlog()]
            return backlog, [seen.record, theirs.record, mine.alert_id]
        finally:
            for store in (a, b):
                await store.close()

    backlog, (seen, theirs, mine) = asyncio.run(main())
    assert seen == theirs
    assert backlog == [("raised on b", theirs["kismet.alert.hash"]), ("raised on a", mine)]


def test_a_raise_after_a_message_redis_cannot_take_is_refused_not_held(
    redis_server: RedisServer,
) -> None:
    """A raise first waits for this replica's earlier messages to reach Redis; with
    Redis gone, that wait must end in a refusal (503), as the raise itself would."""

    async def main() -> Any:
        store = RedisStore(redis_server.url, ManualClock())
        outbox = Outbox(store)
        store.earlier = outbox
        posting = asyncio.ensure_future(outbox.run())
        try:
            await store.append(AlertDraft("BEFORE", "OTHER", 10, 0, "redis there"))
            redis_server.stop()
            outbox.put(Message("source wlan0: capture failed", messages.ERROR, 0))
            try:
                await asyncio.wait_for(
                    store.append(AlertDraft("AFTER", "OTHER", 10, 0, "redis gone")), 10
                )
            except Unavailable as refused:
                return str(refused)
            return None
        finally:
            posting.cancel()
            await store.close()

    assert "Redis at" in asyncio.run(main())


def test_an_entry_the_relay_cannot_take_is_skipped_and_its_feed_goes_on(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """No release writes an alert entry without a text, but a relay that met one (a
    bug, a hand-made entry) must not stop feeding its replica's eventbus for good."""
    with replicas(tmp_path, redis_server, 1, CLUSTER_CONFIG) as (a,):
        sync = define_pair(a, "RELAYSKIP")

        async def main() -> list[str]:
            async with subscribed(a, a, sync) as client:
                with redis.Redis.from_url(redis_server.url) as direct:
                    last = int(direct.get("{kisalert}:clock") or 0) + 1
                    record = {"kismet.alert.header": "NOTEXT", "kismet.alert.hash": 7}
                    direct.xadd(
                        "{kisalert}:alerts",
                        {"j": json.dumps(record), "i": "7", "r": "hand-made"},
                        id=f"{last // 1000}-{last % 1000}",
                    )
                    direct.set("{kisalert}:clock", last)
                response = await asyncio.to_thread(a.raise_alert, sync, "after it")
                assert response.status_code == 200, response.text
                seen = []
                while "after it" not in seen:
                    text = await client.text(timeout=slack(10))
                    alert = json.loads(text).get("ALERT")
                    if alert is not None:
                        seen.append(alert.get("kismet.alert.text", "(none)"))
                return seen

        seen = asyncio.run(main())
        assert seen[-1] == "after it"
        assert "kisalert: relay: entry " in a.stderr()
        assert "of {kisalert}:alerts skipped:" in a.stderr()


def test_dropping_the_pools_idle_connections_spares_raises_in_flight(
    redis_server: RedisServer,
) -> None:
    """A pooled command that found its connection dead (Redis restarted under it)
    makes the store drop its idle connections; a raise in flight on the healthy
    raise connection must not be failed by that (it would be told 503 while Redis
    runs it, and a client that retries would raise it twice)."""

    async def main() -> str:
        store = RedisStore(redis_server.url, ManualClock())
        try:
            await store.append(AlertDraft("WARMUP", "OTHER", 10, 0, "connects"))
            raising = asyncio.ensure_future(
                store.append(AlertDraft("INFLIGHT", "OTHER", 10, 0, "in flight"))
            )
            await asyncio.sleep(0)  # its script written, its reply not yet read
            await store.forget_connections()
            alert = await raising
            return str(alert.record["kismet.alert.text"])
        finally:
            await store.close()

    assert asyncio.run(main()) == "in flight"


def test_a_connection_closed_while_it_is_being_made_leaves_no_socket_open() -> None:
    """A store closed (a server stopping) while its raise connection waits for AUTH:
    the connect, once Redis answers, must not keep a connection nobody will close."""
    with running_redis(password="pw") as server:

        async def main() -> tuple[BaseException | None, int]:
            client = aioredis.Redis.from_url(server.url)
            connection = Connection(client, 5.0, 5.0)
            try:
                with server.hung():
                    caller = asyncio.ensure_future(connection.call("PING"))
                    await asyncio.sleep(0.2)  # connected, AUTH unanswered
                    connection.close()
                failed = (await asyncio.gather(caller, return_exceptions=True))[0]
                await asyncio.sleep(0.2)
                clients = len(await client.client_list())  # this one's own included
                return (failed if isinstance(failed, BaseException) else None), clients
            finally:
                await client.aclose()

        failed, clients = asyncio.run(main())
        assert isinstance(failed, redis.ConnectionError)
        assert str(failed) == "Connection closed while it was being made"
        assert clients == 1


def test_the_redis_store_forgets_silences_and_their_hits(redis_server: RedisServer) -> None:
    async def main() -> tuple[list[str], dict[str, int]]:
        store = RedisStore(redis_server.url, ManualClock())
        try:
            made = [
                from_command({"header": h, "comment": "c", "duration": 60}, "a", 1e9) for h in "AB"
            ]
            for silence in made:
                await store.put_silence(silence)
            await store.put_silence_hits({made[0].id: 2, made[1].id: 3})
            await store.forget_silences([made[1].id])
            await store.forget_silences([])
            silences, hits = await store.silences()
            assert [silence.id for silence in silences] == [made[0].id]
            return [silence.id for silence in made], dict(hits)
        finally:
            await store.close()

    ids, hits = asyncio.run(main())
    assert hits == {ids[0]: 2}
