"""Forwarding with several replicas on one Redis: the replica holding the log's lease
forwards from its log, every alert once, whichever replica raised it; the others
stand by; when the holder is killed, the next holder resumes at the cursor kept in
Redis, and a silence made on one replica holds on the one that forwards."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import redis

from tests.cluster.replicas import replicas
from tests.cluster.test_failures import lease_holder
from tests.forward.receivers import DatagramReceiver
from tests.forward.status import status
from tests.http.helpers import define_fast, raise_ok
from tests.redis_server import RedisServer
from tests.server import BASE_CONFIG, Server, wait_for


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
