"""scale.md, the last row: which replica raised an alert is kept beside it, never as a
key in the alert record, so every endpoint answers the same about it everywhere."""

from __future__ import annotations

import asyncio
import json
import socket

from tests.cluster.helpers import (
    FORMATS,
    Replicas,
    backlog,
    backlog_body,
    get_body,
    same_everywhere,
    subscribed,
)
from tests.http.helpers import define_fast
from tests.records import ALERT_KEYS
from tests.test_eventbus import define_pair, plain_alert


def replica_names(servers: Replicas) -> list[bytes]:
    """How the replicas name themselves in the stream (host:pid), and its parts."""
    host = socket.gethostname()
    names = [f"{host}:{s.proc.pid}".encode() for s in servers]
    return names + [f'"{s.proc.pid}"'.encode() for s in servers] + [host.encode()]


def test_no_answer_about_an_alert_says_which_replica_raised_it(
    cluster: Replicas, unique_name: str
) -> None:
    define_fast(cluster[0], unique_name)
    for i, server in enumerate(cluster):
        response = server.raise_alert(unique_name, f"from replica {i}")
        assert response.status_code == 200, response.text
    records = backlog(cluster[0], unique_name)
    assert [r["kismet.alert.text"] for r in records] == [f"from replica {i}" for i in range(3)]
    assert all(list(record) == ALERT_KEYS for record in records)

    bodies = []
    for fmt in FORMATS:
        bodies.append(
            same_everywhere(cluster, backlog_body, unique_name, f"/alerts/all_alerts.{fmt}")
        )
    for record in records:
        for fmt in ("json", "ekjson"):
            path = f"/alerts/by-id/{record['kismet.alert.hash']}/alert.{fmt}"
            bodies.append(same_everywhere(cluster, get_body, path))
    for body in bodies:
        for name in replica_names(cluster):
            assert name not in body, (name, body[:200])


def test_an_eventbus_frame_does_not_say_which_replica_raised_it(
    cluster: Replicas, unique_name: str
) -> None:
    sync = define_pair(cluster[1], unique_name)

    async def main() -> str:
        async with subscribed(cluster[0], cluster[1], sync) as client:
            response = await asyncio.to_thread(cluster[1].raise_alert, unique_name, "framed")
            assert response.status_code == 200, response.text
            match = plain_alert(unique_name)
            while True:
                text = await client.text()
                if match(json.loads(text), "framed"):
                    return text

    frame = asyncio.run(main()).encode()
    assert list(json.loads(frame)["ALERT"]) == ALERT_KEYS
    for name in replica_names(cluster):
        assert name not in frame
