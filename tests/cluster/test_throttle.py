"""scale.md, the throttle row: a definition's limits hold for the cluster as a whole;
replicas raising it at once never send more than its limit in all."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tests.cluster.helpers import (
    CLUSTER_CONFIG,
    Replicas,
    backlog,
    raise_from_all,
    same_everywhere,
)
from tests.cluster.replicas import start_replica
from tests.http.helpers import definition
from tests.server import Server

THROTTLED = (429, "Invalid request: alert throttle reached, alert not raised.\n")


def define(server: Server, name: str, throttle: str, burst: str) -> None:
    response = server.define(name, throttle=throttle, burst=burst)
    assert response.status_code == 200, response.text


def counters(server: Server, name: str) -> tuple[Any, ...]:
    found = definition(server, name)
    assert found is not None
    return (
        found["kismet.alert.definition.total_sent"],
        found["kismet.alert.definition.burst_sent"],
        found["kismet.alert.definition.time_last"],
    )


def check_exactly(cluster: list[Server], name: str, limit: int) -> None:
    """Raise `name` from 3 clients on every replica at once, far more often than
    `limit`: exactly `limit` are sent in all, the rest answered 429."""
    raised = raise_from_all(cluster, name, clients=3, each=6)
    assert len(raised) > 2 * limit
    answers = Counter((r.status, r.body) for r in raised)
    assert answers == {(200, "Alert raised\n"): limit, THROTTLED: len(raised) - limit}
    sent = {r.text for r in raised if r.status == 200}
    records = backlog(cluster[0], name)
    assert {record["kismet.alert.text"] for record in records} == sent
    assert len(records) == limit
    total, burst, last = same_everywhere(cluster, counters, name)
    assert (total, burst) == (limit, limit)
    assert last == records[-1]["kismet.alert.timestamp"]


def test_concurrent_raises_on_every_replica_send_exactly_the_limit(
    cluster: list[Server], unique_name: str
) -> None:
    define(cluster[0], unique_name, "15/min", "15/min")
    check_exactly(cluster, unique_name, 15)


def test_concurrent_raises_on_every_replica_send_exactly_the_burst(
    cluster: list[Server], unique_name: str
) -> None:
    define(cluster[1], unique_name, "1000/hour", "12/min")
    check_exactly(cluster, unique_name, 12)


def test_each_replica_refuses_once_the_others_have_sent_the_limit(
    cluster: Replicas, unique_name: str, tmp_path: Path
) -> None:
    """The windows are the cluster's, not a replica's: after four sends spread over
    the replicas, every replica refuses the fifth, a replica started later too."""
    define(cluster[2], unique_name, "4/min", "4/min")
    for i in range(4):
        response = cluster[i % 3].raise_alert(unique_name, f"sent-{i}")
        assert response.status_code == 200, response.text
    for server in cluster:
        response = server.raise_alert(unique_name, "one too many")
        assert (response.status_code, response.text) == THROTTLED
    late = start_replica(tmp_path, cluster.redis, CLUSTER_CONFIG)
    try:
        response = late.raise_alert(unique_name, "one too many, later")
        assert (response.status_code, response.text) == THROTTLED
        assert counters(late, unique_name)[:2] == (4, 4)
    finally:
        late.stop()
    assert len(backlog(cluster[0], unique_name)) == 4
