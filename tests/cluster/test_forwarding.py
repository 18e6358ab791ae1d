"""Forwarding with several replicas on one Redis: the replica holding the log's lease
forwards from its log, every alert once, whichever replica raised it; the others
stand by; when the holder is killed, the next holder resumes at the cursor kept in
Redis, and a silence made on one replica holds on the one that forwards."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from kisalert.alertlog.log import AlertLog
from kisalert.bus import Bus
from kisalert.clock import ManualClock
from kisalert.forward.cursor import CursorUnavailable
from kisalert.forward.forwarding import Forwarding
from kisalert.forward.spec import parse_spec
from kisalert.messages import MessageBus
from kisalert.store.redis import RedisStore
from tests.cluster.replicas import replicas
from tests.cluster.test_failures import lease_holder, logged
from tests.forward.receivers import DatagramReceiver, TcpReceiver
from tests.forward.status import status
from tests.http.helpers import define_fast, raise_ok
from tests.redis_server import RedisServer
from tests.server import BASE_CONFIG, Server, free_port, wait_for


def forwarded_texts(peer: DatagramReceiver) -> list[str]:
    return [m.decode(errors="replace").rsplit("FWDRED ", 1)[-1] for m in peer.messages]


def test_the_lease_holder_forwards_every_alert_once_and_the_next_resumes(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with DatagramReceiver() as peer:
        config = (
            BASE_CONFIG
            + f"forward=u:type=syslog,target=udp://127.0.0.1:{peer.port},headers=FWDRED\n"
        )
        with replicas(tmp_path, redis_server, 2, config) as servers:
            holder: Server = wait_for(
                lambda: lease_holder(redis_server, servers), what="a lease holder"
            )
            other = servers[1] if holder is servers[0] else servers[0]
            define_fast(other, "FWDRED")
            wait_for(lambda: status(holder)["u"]["state"] == "ok", what="the holder to forward")
            assert status(other)["u"]["state"] == "standby"
            for n in range(10):
                raise_ok(servers[n % 2], "FWDRED", f"before {n}")
            wait_for(lambda: len(forwarded_texts(peer)) >= 10, what="ten alerts")
            assert forwarded_texts(peer) == [f"before {n}" for n in range(10)]
            # Silenced on the replica that does not forward: the holder hears of it.
            made = other.command(
                "/forward/silences/create.cmd",
                {"text": "^quiet", "comment": "made elsewhere", "duration": "1h"},
            )
            assert made.status_code == 200, made.text
            silence_id = made.json()["kisalert.silence.id"]
            wait_for(
                lambda: any(
                    s["kisalert.silence.id"] == silence_id
                    for s in holder.get("/forward/silences/all_silences.json").json()
                ),
                what="the silence on the holder",
            )
            raise_ok(other, "FWDRED", "quiet one")
            raise_ok(other, "FWDRED", "loud one")
            wait_for(lambda: "loud one" in forwarded_texts(peer), what="the loud one")
            assert "quiet one" not in forwarded_texts(peer)
            wait_for(lambda: status(holder)["u"]["backlog"] == 0, what="the cursor to move")

            holder.stop(signal.SIGKILL)
            wait_for(lambda: lease_holder(redis_server, [other]), what="the lease to move")
            wait_for(lambda: status(other)["u"]["state"] == "ok", what="forwarding to move")
            for n in range(5):
                raise_ok(other, "FWDRED", f"after {n}")
            wait_for(lambda: "after 4" in forwarded_texts(peer), what="the alerts after")
            texts = forwarded_texts(peer)
            # Resumed at the cursor in Redis: nothing sent twice, nothing after it lost.
            assert [t for t, count in Counter(texts).items() if count > 1] == []
            assert texts[-5:] == [f"after {n}" for n in range(5)]
            with redis.Redis.from_url(redis_server.url) as client:
                assert client.hget("{kisalert}:forward:cursors", "u") is not None


def test_a_silence_made_on_a_standby_holds_for_an_alert_raised_right_after(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """The replica that forwards looked for silences made elsewhere once a second: an
    alert raised at once after the silence was answered went out."""
    with DatagramReceiver() as peer:
        config = (
            BASE_CONFIG
            + f"forward=u:type=syslog,target=udp://127.0.0.1:{peer.port},headers=FWDRED\n"
        )
        with replicas(tmp_path, redis_server, 2, config) as servers:
            holder = wait_for(lambda: lease_holder(redis_server, servers), what="a holder")
            other = servers[1] if holder is servers[0] else servers[0]
            define_fast(other, "FWDRED")
            wait_for(lambda: status(holder)["u"]["state"] == "ok", what="the holder to forward")
            for n in range(3):
                made = other.command(
                    "/forward/silences/create.cmd",
                    {"text": f"^hush{n}$", "comment": "standby", "duration": "1h"},
                )
                assert made.status_code == 200, made.text
                raise_ok(other, "FWDRED", f"hush{n}")  # at once
            raise_ok(other, "FWDRED", "loud")
            wait_for(lambda: "loud" in forwarded_texts(peer), what="the loud one")
            assert forwarded_texts(peer) == ["loud"]


def test_what_an_output_had_not_sent_is_sent_by_the_next_holder(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """The holder stops while its output's peer is down: the next holder's log takes
    back, from the shared stream, what the output had not sent (its log began at
    log:pos, after them, and they were never sent: status showed backlog 0)."""
    port = free_port()  # nothing listens there yet: every send fails
    config = BASE_CONFIG + f"forward=t:type=syslog,target=tcp://127.0.0.1:{port},headers=FWDRED\n"
    with replicas(tmp_path, redis_server, 2, config) as servers:
        holder: Server = wait_for(lambda: lease_holder(redis_server, servers), what="a holder")
        other = servers[1] if holder is servers[0] else servers[0]
        define_fast(other, "FWDRED")
        for n in range(10):
            raise_ok(servers[n % 2], "FWDRED", f"unsent {n}")
        wait_for(lambda: status(holder)["t"]["state"] == "failing", what="the output to fail")
        wait_for(lambda: holder_logged(holder) >= 10, what="the holder's log")
        holder.stop(signal.SIGTERM)
        wait_for(lambda: lease_holder(redis_server, [other]), what="the lease to move")
        with TcpReceiver(port=port) as peer:
            wait_for(lambda: len(peer.messages) >= 10, what="the unsent alerts")
            raise_ok(other, "FWDRED", "after")
            wait_for(lambda: len(peer.messages) >= 11, what="the alert after")
            texts = [m.decode(errors="replace").rsplit("FWDRED ", 1)[-1] for m in peer.messages]
        assert texts == [f"unsent {n}" for n in range(10)] + ["after"]
        wait_for(lambda: status(other)["t"]["backlog"] == 0, what="the cursor to move")


def test_a_redis_restart_skips_nothing_an_output_had_not_sent(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """End to end: what an output had not sent when Redis restarted is sent once it
    is back. (The race behind the skip, the lease taken again before the store takes
    Redis back, is seldom hit here: this test passed without the fix. The next test
    holds that case deterministically.)"""
    port = free_port()
    config = BASE_CONFIG + f"forward=t:type=syslog,target=tcp://127.0.0.1:{port},headers=FWDRED\n"
    with replicas(tmp_path, redis_server, 1, config) as (server,):
        define_fast(server, "FWDRED")
        for n in range(5):
            raise_ok(server, "FWDRED", f"unsent {n}")
        wait_for(lambda: status(server)["t"]["state"] == "failing", what="the output to fail")
        wait_for(lambda: len(logged(server, "FWDRED")) == 5, what="the log")
        redis_server.stop()
        wait_for(lambda: status(server)["t"]["state"] == "standby", what="the lease to go")
        time.sleep(2)  # the relay's tries are a second apart by now
        redis_server.start()
        with TcpReceiver(port=port) as peer:
            wait_for(lambda: len(peer.messages) >= 5, what="the unsent alerts")
            texts = [m.decode(errors="replace").rsplit("FWDRED ", 1)[-1] for m in peer.messages]
        assert texts == [f"unsent {n}" for n in range(5)]
        messages = server.get("/messagebus/all_messages.json").json()
        assert not any(
            "starting at the end" in m["kismet.messagebus.message_string"] for m in messages
        )


def test_positions_redis_cannot_give_now_start_no_output(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Redis away when an output's position is read: not a damaged cursor, to be
    replaced by the end of the log (which skips what the output has not sent), but a
    reason to wait (the service tries again while it holds the lease)."""

    async def main() -> None:
        clock = ManualClock(1_800_000_000.0)
        store = RedisStore(redis_server.url, clock, 50, "replica-a")
        messagebus = MessageBus(Bus(), clock)
        spec = parse_spec("t:type=syslog,target=tcp://127.0.0.1:9")
        forwarding = Forwarding([spec], tmp_path, messagebus)
        log = AlertLog(tmp_path / "kisalert.kismet")
        log.open()
        try:
            await store.cursors.save("t", 1_700_000_000_000_000, None)
            redis_server.stop()
            with pytest.raises(CursorUnavailable):
                await forwarding.start_from_log(log, store.cursors)
            assert not forwarding.running
            assert not messagebus.all()
            redis_server.start()
            await store.forget_connections()
            assert await store.cursors.load("t") == 1_700_000_000_000_000
        finally:
            await log.close()
            await store.close()

    asyncio.run(main())


def holder_logged(server: Server) -> int:
    return len(logged(server, "FWDRED"))
