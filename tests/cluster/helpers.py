"""What the tests of scale.md's table do on several replicas: raise on all of them at
once, read one test's alerts back from each, compare what each answers."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

import requests
import websockets

from tests.http.helpers import mine_filter
from tests.redis_server import RedisServer
from tests.server import BASE_CONFIG, PASSWORD, USER, Server
from tests.test_eventbus import LOGIN, Client, settle, ws_url

# A backlog big enough to hold every alert the shared cluster's tests raise.
CLUSTER_CONFIG = BASE_CONFIG + "alertbacklog=100000\n"
RAISE = "/alerts/raise_alerts.cmd"
FORMATS = ("json", "itjson", "ekjson", "prettyjson")

T = TypeVar("T")


class Replicas(list[Server]):
    """Replicas, and the Redis they share (to start another one on it)."""

    def __init__(self, servers: Sequence[Server], redis: RedisServer) -> None:
        super().__init__(servers)
        self.redis = redis


class Raised(NamedTuple):
    """One raise's answer: which replica and client raised it, its text, its status."""

    replica: int
    client: int
    text: str
    status: int
    body: str


def texts(records: Sequence[dict[str, Any]]) -> list[str]:
    return [record["kismet.alert.text"] for record in records]


def stamps(records: Sequence[dict[str, Any]]) -> list[float]:
    return [record["kismet.alert.timestamp"] for record in records]


def backlog_body(server: Server, name: str, path: str = "/alerts/all_alerts.json") -> bytes:
    """The body of a backlog endpoint (all_alerts unless `path` says otherwise),
    filtered on the server to the alerts named `name`."""
    response = server.command(path, mine_filter(name))
    assert response.status_code == 200, response.text
    return response.content


def backlog(server: Server, name: str) -> list[dict[str, Any]]:
    """This replica's backlog alerts named `name`, oldest first."""
    result: list[dict[str, Any]] = json.loads(backlog_body(server, name))
    return result


def same_everywhere(servers: Sequence[Server], read: Callable[..., T], *args: Any) -> T:
    """What `read(replica, *args)` gets from the first replica, after checking that
    every other replica answers exactly the same."""
    first = read(servers[0], *args)
    for n, server in enumerate(servers[1:], start=1):
        assert read(server, *args) == first, f"replica {n} answers differently from replica 0"
    return first


def get_body(server: Server, path: str) -> bytes:
    response = server.get(path)
    assert response.status_code == 200, response.text
    return response.content


def raise_from_all(
    servers: Sequence[Server], name: str, clients: int, each: int, label: str = ""
) -> list[Raised]:
    """`clients` clients per replica, all at once, each raising `name` `each` times in
    turn over its own keep-alive connection, with the texts "<label>r<replica>c<client>-<n>".
    Every answer, collected in the calling thread (nothing is left unanswered)."""

    def client(replica: int, number: int) -> list[Raised]:
        server = servers[replica]
        answers = []
        with requests.Session() as session:
            session.auth = (USER, PASSWORD)
            for i in range(each):
                text = f"{label}r{replica}c{number}-{i}"
                response = session.post(
                    server.url + RAISE,
                    data={"json": json.dumps({"name": name, "text": text})},
                    timeout=30,
                )
                answers.append(Raised(replica, number, text, response.status_code, response.text))
        return answers

    jobs = [(r, c) for c in range(clients) for r in range(len(servers))]
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(client, r, c) for r, c in jobs]
        results = [answer for future in futures for answer in future.result()]
    assert len(results) == len(jobs) * each
    return results


def poll_while_raising(
    servers: Sequence[Server], name: str, each: int, poll: Callable[[int], None]
) -> tuple[list[Raised], int]:
    """`poll(0)`, `poll(1)`, ... while one client on every replica raises `name` `each`
    times (raise_from_all); the last poll begins after every raise was answered.
    The raises' answers, and how many polls there were."""
    done = threading.Event()
    results: list[Raised] = []

    def flood() -> None:
        try:
            results.extend(raise_from_all(servers, name, clients=1, each=each))
        finally:
            done.set()

    raiser = threading.Thread(target=flood)
    raiser.start()
    polls = 0
    try:
        while True:
            finished = done.is_set()
            poll(polls)
            polls += 1
            if finished:
                return results, polls
            done.wait(0.01)
    finally:
        raiser.join()


def in_client_order(raised: Sequence[Raised]) -> dict[tuple[int, int], list[str]]:
    """The texts each client raised, in the order it raised them."""
    order: dict[tuple[int, int], list[str]] = {}
    for answer in raised:
        order.setdefault((answer.replica, answer.client), []).append(answer.text)
    return order


def subsequence_of(client_texts: Sequence[str], seen: Sequence[str]) -> list[str]:
    """The texts of `seen` that are among `client_texts`, in `seen`'s order."""
    wanted = set(client_texts)
    return [text for text in seen if text in wanted]


@contextlib.asynccontextmanager
async def subscribed(server: Server, raiser: Server, sync: str) -> AsyncIterator[Client]:
    """A websocket on `server` subscribed to ALERT, in effect for alerts raised on
    `raiser` (it has received one)."""
    async with websockets.connect(ws_url(server, LOGIN), max_queue=None) as ws:
        client = Client(ws)
        await client.send({"SUBSCRIBE": "ALERT"})
        await settle(client, raiser, sync)
        yield client
