"""scale.md, the messages row: one capped stream of messages, so every replica's
messagebus shows the same messages, in the same order, the last 50."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import requests
import websockets

from tests.cluster.helpers import CLUSTER_CONFIG, RAISE, Replicas, get_body, same_everywhere
from tests.cluster.replicas import start_replica
from tests.http.helpers import define_fast
from tests.server import PASSWORD, USER, Server, wait_for
from tests.test_eventbus import (
    LOGIN,
    Client,
    define_pair,
    message_of,
    settle,
    with_text,
    ws_url,
)

ALL = "/messagebus/all_messages.json"
TEXT = "kismet.messagebus.message_string"
FLAGS = "kismet.messagebus.message_flags"
INFO, ALERT = 2, 8
KEEP = 50


def messages(server: Server) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(get_body(server, ALL))
    return result


def agreed(servers: list[Server], expected: Collection[str]) -> list[dict[str, Any]]:
    """Every replica's messages once each shows every text of `expected`: the same
    bytes everywhere."""

    def settled() -> bool:
        bodies = {get_body(s, ALL) for s in servers}
        return len(bodies) == 1 and set(expected) <= {m[TEXT] for m in json.loads(bodies.pop())}

    wait_for(settled, timeout=10, what="every replica to show the same messages")
    result: list[dict[str, Any]] = json.loads(same_everywhere(servers, get_body, ALL))
    return result


def raise_in_turn(servers: list[Server], name: str, texts: Iterable[str]) -> list[str]:
    """Raise `name` with each text, on replica 0, 1, 2, 0, ... in turn: the messages
    the raises post."""
    posted = []
    for i, text in enumerate(texts):
        response = servers[i % len(servers)].raise_alert(name, text)
        assert response.status_code == 200, response.text
        posted.append(f"{name} {text}")
    return posted


def test_every_replica_shows_the_same_messages(cluster: Replicas, unique_name: str) -> None:
    define_fast(cluster[1], unique_name)
    defined = f"Alert {unique_name} defined over the API"
    raised = raise_in_turn(cluster, unique_name, [f"message-{i}" for i in range(9)])

    shown = agreed(cluster, [defined, *raised])
    mine = [m for m in shown if unique_name in m[TEXT]]
    flags = {m[TEXT]: m[FLAGS] for m in mine}
    assert sorted(flags) == sorted([defined, *raised]) and len(mine) == len(flags)
    assert flags == {defined: INFO} | {text: ALERT for text in raised}
    # Each replica's own messages keep their order (and across replicas: the test below).
    order = [m[TEXT] for m in mine]
    for replica in range(3):
        own = raised[replica::3]
        assert [text for text in order if text in own] == own
    since = min(m["kismet.messagebus.message_time"] for m in mine) - 1

    def newer(server: Server) -> list[dict[str, Any]]:
        response = server.get(f"/messagebus/last-time/{since}/messages.json")
        assert response.status_code == 200, response.text
        listed: list[dict[str, Any]] = response.json()["kismet.messagebus.list"]
        return listed

    assert same_everywhere(cluster, newer) == [
        m for m in shown if m["kismet.messagebus.message_time"] > since
    ]


def test_every_replica_keeps_the_same_last_50_messages_a_new_one_too(
    cluster: Replicas, unique_name: str, tmp_path: Path
) -> None:
    define_fast(cluster[2], unique_name)
    raised = raise_in_turn(cluster, unique_name, [f"kept-{i}" for i in range(KEEP + 10)])

    # The newest 50 (give or take the order of messages posted by different replicas
    # at almost the same moment).
    shown = [m[TEXT] for m in agreed(cluster, raised[-(KEEP - 5) :])]
    assert len(shown) == KEEP and set(shown) <= set(raised)
    # A replica that joins now starts with the same 50; its start-up messages and
    # what is raised on it after reach all.
    late = start_replica(tmp_path, cluster.redis, CLUSTER_CONFIG)
    try:
        joined = raise_in_turn([late], unique_name, ["joined"])
        shown = [m[TEXT] for m in agreed([*cluster, late], joined)]
        assert len(shown) == KEEP
        others = [text for text in shown if text not in raised + joined]
        assert others and "kisalert" in others[0] and "starting" in others[0], others
        assert len(others) <= 2, "the start-up message, and ROOTUSER's when run as root"
    finally:
        late.stop()


def test_a_message_posted_on_one_replica_reaches_subscribers_on_another_once(
    cluster: Replicas, unique_name: str
) -> None:
    sync = define_pair(cluster[0], unique_name)

    async def main() -> list[str]:
        async with websockets.connect(ws_url(cluster[2], LOGIN)) as ws:
            client = Client(ws)
            await client.send({"SUBSCRIBE": "MESSAGE"})
            await settle(client, cluster[0], sync, message_of(sync))
            for i in range(6):
                response = await asyncio.to_thread(cluster[i % 2].raise_alert, unique_name, f"m{i}")
                assert response.status_code == 200, response.text
            # A replica posts its messages in order: once its "done" is here, all of
            # its messages before it are.
            for n in range(2):
                response = await asyncio.to_thread(cluster[n].raise_alert, sync, f"done-{n}")
                assert response.status_code == 200
            texts = []
            for n in range(2):
                frames = await client.until(with_text(message_of(sync), f"done-{n}"))
                texts += [f["MESSAGE"][TEXT] for f in frames if "MESSAGE" in f]
            return [text for text in texts if text.startswith(unique_name + " ")]

    seen = asyncio.run(main())
    posted = [f"{unique_name} m{i}" for i in range(6)]
    assert sorted(seen) == sorted(posted), "each once"
    for replica in range(2):
        assert [text for text in seen if text in posted[replica::2]] == posted[replica::2]


def test_a_raise_answered_200_shows_its_message_on_every_replica_at_once(
    cluster: Replicas, unique_name: str
) -> None:
    """As the backlog: once a raise is answered, every replica's messagebus shows its
    message (a lone server does, and the backlog does on every replica). The client
    logs in by password alone on one keep-alive connection per replica, as curl or
    kismet-rest without a cookie do: its reads wait on nothing else."""
    define_fast(cluster[0], unique_name)
    connections = [requests.Session() for _ in cluster]
    missing = []
    raised = []
    try:
        for connection in connections:
            connection.auth = (USER, PASSWORD)

        def call(n: int, method: str, path: str, **kwargs: Any) -> requests.Response:
            connections[n].cookies.clear()
            response = connections[n].request(method, cluster[n].url + path, timeout=10, **kwargs)
            assert response.status_code == 200, response.text
            return response

        for i in range(60):
            raiser = i % 3
            args = json.dumps({"name": unique_name, "text": f"now-{i}"})
            call(raiser, "POST", RAISE, data={"json": args})
            raised.append(f"{unique_name} now-{i}")
            # The raising replica first: the one a client that raised asks next.
            for n in [raiser, *(n for n in range(3) if n != raiser)]:
                shown = [m[TEXT] for m in call(n, "GET", ALL).json()]
                if raised[-1] not in shown:
                    missing.append((i, n))
    finally:
        for connection in connections:
            connection.close()
    # And in raise order, as the backlog is, whichever replica raised each.
    order = [m[TEXT] for m in agreed(cluster, raised[-(KEEP - 5) :]) if m[TEXT] in raised]
    assert (missing, order) == ([], raised[-len(order) :])
