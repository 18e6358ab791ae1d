"""scale.md, the backlog row: every replica answers every read endpoint from the one
shared stream, so the backlog, its order, ids and timestamps are identical whichever
replica is asked; byte for byte wherever the answer does not hold the server's time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cluster.helpers import (
    FORMATS,
    backlog,
    backlog_body,
    get_body,
    poll_while_raising,
    same_everywhere,
    stamps,
    texts,
)
from tests.cluster.replicas import replicas
from tests.http.helpers import define_fast, mine_regex
from tests.records import ALERT_KEYS
from tests.redis_server import RedisServer
from tests.server import BASE_CONFIG, Server


def raise_in_turn(servers: list[Server], name: str, count: int, start: int = 0) -> list[str]:
    """Raise `name` `count` times, replica 0, 1, 2, 0, ... each after the last answered;
    the texts, in raise order."""
    raised = []
    for i in range(start, start + count):
        text = f"turn-{i}"
        response = servers[i % len(servers)].raise_alert(
            name, text, bssid=f"aa:bb:cc:dd:ee:{i:02x}", channel=str(i)
        )
        assert response.status_code == 200, response.text
        raised.append(text)
    return raised


def wrapped_list(server: Server, name: str, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(backlog_body(server, name, path))["kismet.alert.list"]
    return found


def by_id(server: Server, alert_id: int) -> tuple[int, bytes]:
    response = server.get(f"/alerts/by-id/{alert_id}/alert.json")
    return response.status_code, response.content


def test_the_backlog_is_byte_identical_on_every_replica_in_every_format(
    cluster: list[Server], unique_name: str
) -> None:
    define_fast(cluster[0], unique_name)
    raised = raise_in_turn(cluster, unique_name, 9)

    for fmt in FORMATS:
        same_everywhere(cluster, backlog_body, unique_name, f"/alerts/all_alerts.{fmt}")
    records = backlog(cluster[1], unique_name)
    assert texts(records) == raised, "the backlog is in raise order"
    assert all(list(record) == ALERT_KEYS for record in records)
    times = stamps(records)
    assert times == sorted(times) and len(set(times)) == len(times)
    ids = [record["kismet.alert.hash"] for record in records]
    assert len(set(ids)) == len(ids)


def test_last_time_answers_the_same_everywhere(cluster: list[Server], unique_name: str) -> None:
    define_fast(cluster[1], unique_name)
    raise_in_turn(cluster, unique_name, 6)
    records = backlog(cluster[2], unique_name)
    times = stamps(records)

    for ts in [0.0, *times]:
        # Exactly the stamp, as the JSON gives it: only the alerts after it come back.
        path = f"/alerts/last-time/{ts:.6f}/alerts.itjson"
        body = same_everywhere(cluster, backlog_body, unique_name, path)
        newer = [json.loads(line) for line in body.decode().splitlines()]
        assert newer == [record for record in records if record["kismet.alert.timestamp"] > ts]
        # The wrapped answer holds the server's time too: its list is the same.
        wrapped = f"/alerts/wrapped/last-time/{ts:.6f}/alerts.json"
        assert same_everywhere(cluster, wrapped_list, unique_name, wrapped) == newer


def test_by_id_answers_the_same_everywhere(cluster: list[Server], unique_name: str) -> None:
    define_fast(cluster[2], unique_name)
    raise_in_turn(cluster, unique_name, 4)
    records = backlog(cluster[0], unique_name)
    assert len(records) == 4

    for record in records:
        status, body = same_everywhere(cluster, by_id, record["kismet.alert.hash"])
        assert status == 200
        assert json.loads(body) == record
    taken = {record["kismet.alert.hash"] for record in cluster[0].alerts()}
    missing = next(n for n in range(1, 1 << 32) if n not in taken)
    assert same_everywhere(cluster, by_id, missing) == (404, b"{}")


def test_alerts_view_pages_are_the_same_everywhere(cluster: list[Server], unique_name: str) -> None:
    define_fast(cluster[0], unique_name)
    raise_in_turn(cluster, unique_name, 7)
    fields = ["kismet.alert.header", "kismet.alert.text", "kismet.alert.timestamp"]

    def page(server: Server, number: int) -> bytes:
        response = server.post(
            "/alerts/alerts_view.json",
            data={
                "json": json.dumps({"fields": fields}),
                "page": str(number),
                "length": "3",
                "sort": "kismet.alert.timestamp",
                "sort_dir": "desc",
                "search": unique_name,
            },
        )
        assert response.status_code == 200, response.text
        return response.content

    shown = []
    for number in range(3):
        shown += json.loads(same_everywhere(cluster, page, number))["data"]
    assert [row["kismet.alert.text"] for row in shown] == [f"turn-{i}" for i in range(6, -1, -1)]


def test_wrapped_polls_on_alternating_replicas_see_every_alert_once_in_order(
    cluster: list[Server], unique_name: str
) -> None:
    """Kismet's UI polls wrapped/last-time with the T it was given; whichever replica
    answers each poll, while all of them take raises, nothing is missed or repeated."""
    define_fast(cluster[0], unique_name)
    regex = json.dumps({"regex": mine_regex(unique_name)})

    def poll(server: Server, ts: float) -> tuple[list[dict[str, Any]], float]:
        response = server.post(
            f"/alerts/wrapped/last-time/{ts:.6f}/alerts.json", data={"json": regex}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return body["kismet.alert.list"], body["kismet.alert.timestamp"]

    seen: list[dict[str, Any]] = []
    polls = []
    _, mark = poll(cluster[0], 0)

    def poll_next(n: int) -> None:
        nonlocal mark, seen
        found, new_mark = poll(cluster[n % len(cluster)], mark)
        polls.append((mark, found, new_mark))
        seen += found
        mark = new_mark

    results, n = poll_while_raising(cluster, unique_name, 40, poll_next)
    assert [r.status for r in results] == [200] * len(results)
    assert len(results) == 120
    assert n > 3, "the polls ran while the raises did"
    for before, found, after in polls:
        assert after >= before
        assert all(before < t <= after for t in stamps(found)), (before, stamps(found), after)
    assert sorted(texts(seen)) == sorted(r.text for r in results), "each alert seen once"
    assert seen == backlog(cluster[1], unique_name), "in backlog order"


def test_every_replica_keeps_the_same_newest_alertbacklog_alerts(
    tmp_path: Path, redis_server: RedisServer, unique_name: str
) -> None:
    """The stream is the backlog: trimmed to exactly `alertbacklog` for every replica;
    an alert trimmed off is gone from by-id everywhere."""
    with replicas(tmp_path, redis_server, 2, BASE_CONFIG + "alertbacklog=5\n") as pair:
        define_fast(pair[0], unique_name)
        raised = raise_in_turn(pair, unique_name, 3)
        first_ids = [r["kismet.alert.hash"] for r in backlog(pair[1], unique_name)]
        assert len(first_ids) == 3
        raised += raise_in_turn(pair, unique_name, 5, start=3)
        body = same_everywhere(pair, get_body, "/alerts/all_alerts.json")
        kept = json.loads(body)
        assert texts(kept) == raised[-5:]
        older = json.loads(pair[0].get("/alerts/last-time/0/alerts.json").content)
        assert older == kept
        for record in kept:
            status, found = same_everywhere(pair, by_id, record["kismet.alert.hash"])
            assert status == 200 and json.loads(found) == record
        for trimmed in first_ids:
            assert same_everywhere(pair, by_id, trimmed) == (404, b"{}")
