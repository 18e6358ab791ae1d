"""scale.md's failure behaviour, on real replicas and a real redis-server that is
killed, hung (SIGSTOP), restarted under them or refuses them, and a replica killed
with SIGKILL in the middle of a flood."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import websockets

from tests.cluster.helpers import CLUSTER_CONFIG, RAISE, Raised, backlog, backlog_body, texts
from tests.cluster.replicas import replicas
from tests.http.helpers import define_fast, raise_ok
from tests.redis_server import RedisServer, running_redis
from tests.server import BASE_CONFIG, PASSWORD, USER, Server, free_port, wait_for
from tests.slack import slack
from tests.test_eventbus import (
    APIKEY,
    LOGIN,
    POLICY,
    Client,
    Frame,
    api_key,
    session_cookie,
    settle,
    ws_url,
)

LOG = "kisalert.kismet"


def refused(response: requests.Response) -> str:
    """A 503 with one line that names Redis as the reason; the line."""
    assert response.status_code == 503, (response.status_code, response.text)
    line = response.text.rstrip("\n")
    assert line and "\n" not in line and "Redis at 127.0.0.1:" in line, response.text
    return line


def raised_again(server: Server, name: str, text: str) -> None:
    """Raise `name` until the replica takes it again (Redis is back)."""
    wait_for(lambda: server.raise_alert(name, text).status_code == 200, what="a raise taken")


def alert_texts(frames: list[Frame], name: str) -> list[str]:
    return [
        frame["ALERT"]["kismet.alert.text"]
        for frame in frames
        if "ALERT" in frame and frame["ALERT"]["kismet.alert.header"] == name
    ]


def is_alert(name: str, text: str) -> Any:
    def match(frame: Frame) -> bool:
        record = frame.get("ALERT")
        return (
            isinstance(record, dict)
            and record["kismet.alert.header"] == name
            and record["kismet.alert.text"] == text
        )

    return match


def ticked_after(moment: float) -> Any:
    """A TIMESTAMP frame the server sent at or after `moment` (epoch seconds)."""

    def match(frame: Frame) -> bool:
        tick = frame.get("TIMESTAMP")
        return isinstance(tick, dict) and tick["kismet.system.timestamp.sec"] >= moment

    return match


# A replica that loses Redis


def test_replicas_that_lose_redis_refuse_changes_serve_what_they_saw_and_resume(
    tmp_path: Path, redis_server: RedisServer, unique_name: str
) -> None:
    """Redis killed under two replicas, then started again (its data kept): changes
    are 503 with one line on both; reads answer what each last saw, to a password,
    a cookie and an API key alike; a websocket opened before stays open (its
    TIMESTAMP ticks and session checks go on) and gets the alerts raised once Redis
    is back, on either replica, each once and none from before."""
    name, sync = unique_name, unique_name + "_SYNC"
    with replicas(tmp_path, redis_server, 2, CLUSTER_CONFIG) as (a, b):
        define_fast(a, name)
        define_fast(a, sync)
        for i in range(3):
            raise_ok(a, name, f"before-{i}")
        _, key = api_key(a)
        by_password = b.session  # Basic auth, and the cookie it was given
        by_cookie = {"cookies": {"KISMET": session_cookie(b)}}
        by_key = {"headers": {"Authorization": f"Bearer {key}"}}
        path = "/alerts/all_alerts.json"

        def read(how: dict[str, Any], path: str = path) -> requests.Response:
            return requests.get(b.url + path, timeout=10, **how)

        before = backlog_body(b, name)
        # Each login used once on this replica before the outage.
        for how in (by_cookie, by_key):
            assert read(how).status_code == 200
        first, record = backlog(b, name)[:2]
        by_id = f"/alerts/by-id/{record['kismet.alert.hash']}/alert.json"
        since = f"/alerts/last-time/{first['kismet.alert.timestamp']}/alerts.json"

        def outage() -> float:
            killed = time.time()
            redis_server.kill()
            for replica in (a, b):
                refused(replica.raise_alert(name, "during"))
                refused(replica.define(unique_name + "_NEW", throttle="1/sec"))
                refused(
                    replica.command(APIKEY, {"name": "during", "role": "readonly", "duration": 0})
                )
            # What b saw before, to each kind of login.
            assert backlog_body(b, name) == before
            for how in (by_cookie, by_key):
                answer = read(how)
                assert answer.status_code == 200, answer.text
                assert [x for x in answer.json() if x["kismet.alert.header"] == name] == (
                    json.loads(before)
                )
                assert read(how, by_id).json() == record
                newer = [x for x in read(how, since).json() if x["kismet.alert.header"] == name]
                assert texts(newer) == ["before-1", "before-2"]
            assert by_password.get(b.url + "/messagebus/all_messages.json").status_code == 200
            # A load balancer hears that writes are refused, and why, with no login.
            health = requests.get(b.url + "/healthz", timeout=10)
            assert health.status_code == 503
            assert health.text.startswith("unhealthy: Redis at 127.0.0.1:"), health.text
            return killed

        async def main() -> list[Frame]:
            token = session_cookie(b)
            async with websockets.connect(ws_url(b, f"KISMET={token}"), max_queue=None) as ws:
                client = Client(ws)
                await client.send({"SUBSCRIBE": "ALERT"})
                await client.send({"SUBSCRIBE": "TIMESTAMP"})
                await settle(client, a, sync)
                killed = await asyncio.to_thread(outage)
                # The hub still ticks, and checks the session, a while into the outage.
                seen = await client.until(ticked_after(killed + 2), timeout=slack(10))
                await asyncio.to_thread(redis_server.start)
                await asyncio.to_thread(raised_again, a, sync, "back on a")
                await asyncio.to_thread(raised_again, b, sync, "back on b")
                for replica, text in ((a, "after-0"), (b, "after-1"), (a, "after-2")):
                    await asyncio.to_thread(raise_ok, replica, name, text)
                await asyncio.to_thread(raise_ok, b, sync, "end")
                seen += await client.until(is_alert(sync, "end"), timeout=slack(10))
                assert ws.close_code is None
                return seen

        frames = asyncio.run(main())
        assert alert_texts(frames, name) == ["after-0", "after-1", "after-2"]
        expected = ["before-0", "before-1", "before-2", "after-0", "after-1", "after-2"]
        assert texts(backlog(a, name)) == texts(backlog(b, name)) == expected
        # A definition refused during the outage is taken now.
        assert b.define(unique_name + "_NEW", throttle="1/sec").status_code == 200
        health = requests.get(b.url + "/healthz", timeout=10)
        assert (health.status_code, health.text) == (200, "ok\n")


def test_a_session_ending_while_redis_is_away_closes_its_websocket_and_no_other(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """The eventbus checks each session's websocket every second, from the mirror
    while Redis is away: one whose session ends then is closed (1008), as with
    Redis, and a websocket logged in by password goes on ticking."""
    lifetime = int(slack(3))
    config = CLUSTER_CONFIG + f"httpd_session_timeout={lifetime}\n"
    with replicas(tmp_path, redis_server, 1, config) as (a,):
        token = session_cookie(a)

        async def main() -> int | None:
            async with websockets.connect(ws_url(a, LOGIN)) as ws:
                by_password = Client(ws)
                await by_password.send({"SUBSCRIBE": "TIMESTAMP"})
                await asyncio.to_thread(redis_server.kill)
                # Logged in from the mirror; its session ends during the outage.
                async with websockets.connect(ws_url(a, f"KISMET={token}")) as ws2:
                    code = await Client(ws2).closed(timeout=slack(lifetime + 5))
                await by_password.until(ticked_after(time.time() + 1), timeout=slack(5))
                assert ws.close_code is None
                return code

        assert asyncio.run(main()) == POLICY
        redis_server.start()  # so that the replica's stop does not wait for it


def test_a_redis_restarted_under_a_replica_is_taken_back_without_a_restart(
    tmp_path: Path, redis_server: RedisServer, unique_name: str
) -> None:
    """restart(): the same replica process raises again, its backlog intact (the same
    records), and a websocket it had open gets the new alert."""
    name, sync = unique_name, unique_name + "_SYNC"
    with replicas(tmp_path, redis_server, 1, CLUSTER_CONFIG) as (a,):
        define_fast(a, name)
        define_fast(a, sync)
        for i in range(3):
            raise_ok(a, name, f"before-{i}")
        before = backlog(a, name)

        async def main() -> list[Frame]:
            async with websockets.connect(ws_url(a, f"KISMET={session_cookie(a)}")) as ws:
                client = Client(ws)
                await client.send({"SUBSCRIBE": "ALERT"})
                await settle(client, a, sync)
                await asyncio.to_thread(redis_server.restart)
                await asyncio.to_thread(raised_again, a, sync, "back")
                await asyncio.to_thread(raise_ok, a, name, "after")
                await asyncio.to_thread(raise_ok, a, sync, "end")
                return await client.until(is_alert(sync, "end"), timeout=slack(10))

        frames = asyncio.run(main())
        assert a.proc.poll() is None
        assert alert_texts(frames, name) == ["after"]
        after = backlog(a, name)
        assert after[:3] == before
        assert texts(after) == ["before-0", "before-1", "before-2", "after"]


def test_a_hung_redis_gets_a_503_not_a_hang_and_reads_go_on(
    tmp_path: Path, redis_server: RedisServer, unique_name: str
) -> None:
    """SIGSTOP: connections are accepted and nothing answers. A raise is answered 503
    (well within the client's 10 s timeout) with one line, and so is every raise
    after it; the event loop answers reads meanwhile; after SIGCONT raises are taken
    again. A raise answered 503 by timeout may still be run by Redis once it
    resumes (its line says so): it is then in the backlog once."""
    name = unique_name
    with replicas(tmp_path, redis_server, 1, CLUSTER_CONFIG) as (a,):
        define_fast(a, name)
        raise_ok(a, name, "before")
        before = backlog_body(a, name)
        with redis_server.hung():
            first = refused(a.raise_alert(name, "during-0"))
            for i in range(1, 4):
                refused(a.raise_alert(name, f"during-{i}"))
            refused(a.define(unique_name + "_NEW", throttle="1/sec"))
            assert a.get("/system/timestamp.json").status_code == 200
            assert backlog_body(a, name) == before
        raised_again(a, name, "after")
        seen = texts(backlog(a, name))
        assert seen[0] == "before" and seen[-1] == "after"
        assert all(Counter(seen)[text] == 1 for text in seen)
        assert set(seen) <= {"before", "after", "during-0", "during-1", "during-2", "during-3"}
        if "during-0" in seen:
            assert "may still take effect" in first


# A replica killed mid-load


def lease_holder(redis_server: RedisServer, servers: list[Server]) -> Server | None:
    """The replica that holds the log writer's lease now, if one does."""
    with redis.Redis.from_url(redis_server.url) as client:
        value = client.get("{kisalert}:log:lease")
    for server in servers:
        if value is not None and value.decode().endswith(f":{server.proc.pid}"):
            return server
    return None


def logged(server: Server, name: str) -> dict[str, list[int]]:
    """The alerts named `name` in the replica's own .kismet log: each text, and the
    stamp (µs) of each row that holds it."""
    with sqlite3.connect(server.data_dir / LOG) as db:
        rows = db.execute(
            "SELECT ts_sec, ts_usec, json FROM alerts WHERE header = ?", (name,)
        ).fetchall()
    db.close()
    found: dict[str, list[int]] = {}
    for sec, usec, data in rows:
        found.setdefault(json.loads(data)["kismet.alert.text"], []).append(sec * 1_000_000 + usec)
    return found


def recorded_position(redis_server: RedisServer, holder: Server) -> int:
    """`log:pos`, the newest stamp the log writer has said its log committed, read
    while the lease still names `holder` (so that it is what `holder` recorded)."""
    with redis.Redis.from_url(redis_server.url) as client:
        lease, pos = client.mget("{kisalert}:log:lease", "{kisalert}:log:pos")
    assert lease is not None and lease.decode().endswith(f":{holder.proc.pid}"), lease
    return int(pos or 0)


def flood(server: Server, replica: int, client: int, name: str, each: int) -> list[Raised]:
    """One client raising `each` alerts in turn; status 0 for no answer at all."""
    answers = []
    with requests.Session() as session:
        session.auth = (USER, PASSWORD)
        for i in range(each):
            text = f"r{replica}c{client}-{i}"
            try:
                response = session.post(
                    server.url + RAISE,
                    data={"json": json.dumps({"name": name, "text": text})},
                    timeout=30,
                )
            except requests.RequestException:
                answers.append(Raised(replica, client, text, 0, ""))
                continue
            answers.append(Raised(replica, client, text, response.status_code, response.text))
    return answers


FLOOD_CLIENTS = 2  # per replica
FLOOD_EACH = 150


def test_a_replica_killed_mid_flood_loses_no_accepted_alert_and_the_other_goes_on(
    tmp_path: Path, redis_server: RedisServer, unique_name: str
) -> None:
    """Two replicas under a flood; the one holding the log lease is killed (SIGKILL)
    once it has accepted some. Every raise it answered 200, and every raise on the
    other (all 200, before and after the kill), is in the survivor's backlog once;
    once the lease has moved, the two replicas' .kismet logs hold every alert of the
    backlog exactly once between them (replicas of one host: lease.py)."""
    name = unique_name
    with replicas(tmp_path, redis_server, 2, CLUSTER_CONFIG) as servers:
        define_fast(servers[0], name)
        victim = wait_for(lambda: lease_holder(redis_server, servers), what="a lease holder")
        survivor = servers[1] if victim is servers[0] else servers[0]
        lock = threading.Lock()
        results: list[list[Raised]] = []

        def run(replica: int, client: int) -> None:
            server = servers[replica]
            answers = flood(server, replica, client, name, FLOOD_EACH)
            with lock:
                results.append(answers)

        def counting_victim_answers() -> int:
            return len(
                [text for text in texts(backlog(survivor, name)) if text.startswith(f"r{n}")]
            )

        n = servers.index(victim)
        threads = [
            threading.Thread(target=run, args=(replica, client))
            for replica in range(2)
            for client in range(FLOOD_CLIENTS)
        ]
        for thread in threads:
            thread.start()
        # Mid-flood: once the victim has put some alerts in, and the log some of them.
        wait_for(lambda: counting_victim_answers() >= 40, what="raises on the victim")
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        # Its lease lasts 2 s more at least (3 s, renewed every second).
        recorded = recorded_position(redis_server, victim)
        for thread in threads:
            thread.join()

        raised = [answer for answers in results for answer in answers]
        on_survivor = [r for r in raised if servers[r.replica] is survivor]
        assert [r.status for r in on_survivor] == [200] * len(on_survivor)
        lost = [r for r in raised if servers[r.replica] is victim and r.status != 200]
        assert lost, "the victim was killed after its flood had ended"
        accepted = {r.text for r in raised if r.status == 200}
        stream = texts(backlog(survivor, name))
        assert len(stream) == len(set(stream))
        assert accepted <= set(stream)

        wait_for(lambda: lease_holder(redis_server, servers) is survivor, what="the lease")

        def union() -> Counter[str]:
            found: Counter[str] = Counter()
            for server in (victim, survivor):
                found.update({text: len(rows) for text, rows in logged(server, name).items()})
            return found

        wait_for(lambda: set(union()) == set(stream), what="the logs to hold the backlog")
        # Exactly once between the two logs, even what the victim's log committed
        # after it last recorded log:pos (`recorded`): on one host, the survivor reads
        # where the victim's log really ends.
        assert union() == Counter(stream), (recorded, union() - Counter(stream))


def test_a_holder_killed_before_it_recorded_its_last_commit_is_not_written_twice(
    tmp_path: Path, redis_server: RedisServer, unique_name: str
) -> None:
    """The window a flood only sometimes hits, made certain: the holder's log has
    committed alerts that log:pos does not say it has (log:pos is set back, as if the
    holder died between the commit and its record). The replica that takes the lease
    over, on the same host, starts where the dead holder's log really ends: every
    alert is in exactly one of the two logs."""
    name = unique_name
    with replicas(tmp_path, redis_server, 2, CLUSTER_CONFIG) as servers:
        define_fast(servers[0], name)
        holder = wait_for(lambda: lease_holder(redis_server, servers), what="a lease holder")
        other = servers[1] if holder is servers[0] else servers[0]
        before = [f"before-{i}" for i in range(6)]
        for text in before:
            raise_ok(other, name, text)
        wait_for(lambda: sorted(logged(holder, name)) == before, what="the holder's log")
        stamps = sorted(stamp for rows in logged(holder, name).values() for stamp in rows)
        holder.proc.send_signal(signal.SIGKILL)
        holder.proc.wait()
        with redis.Redis.from_url(redis_server.url) as client:
            client.set("{kisalert}:log:pos", stamps[1])  # as if 4 commits went unrecorded
        wait_for(lambda: lease_holder(redis_server, servers) is other, what="the lease")
        raise_ok(other, name, "after")
        wait_for(lambda: "after" in logged(other, name), what="the new holder's log")
        found: Counter[str] = Counter()
        for server in (holder, other):
            found.update({text: len(rows) for text, rows in logged(server, name).items()})
        assert found == Counter({text: 1 for text in [*before, "after"]})


# Start-up


def start_failure(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    """`kisalert serve --store URL`, which must exit by itself (a hang fails)."""
    (tmp_path / "kisalert.conf").write_text(BASE_CONFIG)
    args = [sys.executable, "-m", "kisalert", "serve", "--data-dir", str(tmp_path / "data")]
    args += ["--listen", f"127.0.0.1:{free_port()}", "--config", str(tmp_path / "kisalert.conf")]
    return subprocess.run(
        [*args, "--store", url], capture_output=True, text=True, timeout=slack(30)
    )


@pytest.mark.parametrize("fault", ["nothing listening", "wrong password", "hung"])
def test_start_up_without_a_usable_redis_is_one_line_and_an_exit(
    tmp_path: Path, fault: str
) -> None:
    with running_redis(password="right-password") as server:
        port = free_port() if fault == "nothing listening" else server.port
        password = "right-password" if fault == "hung" else "wrong-password"
        url = f"redis://:{password}@127.0.0.1:{port}/0"
        if fault == "hung":
            with server.hung():
                done = start_failure(tmp_path, url)
        else:
            done = start_failure(tmp_path, url)
    assert done.returncode != 0
    assert done.stdout == ""
    line = done.stderr.rstrip("\n")
    assert "\n" not in line, done.stderr
    assert line.startswith(f"kisalert: cannot use Redis at 127.0.0.1:{port}/0: "), line
    assert password not in line
