"""scale.md, the alert order row: timestamps strictly increase across the whole
cluster, and the backlog's order is stamp order, under raises on every replica at once."""

from __future__ import annotations

from itertools import pairwise

from tests.cluster.helpers import (
    backlog,
    backlog_body,
    in_client_order,
    raise_from_all,
    same_everywhere,
    stamps,
    subsequence_of,
    texts,
)
from tests.http.helpers import define_fast
from tests.server import Server


def test_concurrent_raises_on_every_replica_get_strictly_increasing_stamps(
    cluster: list[Server], unique_name: str
) -> None:
    define_fast(cluster[0], unique_name)
    raised = raise_from_all(cluster, unique_name, clients=3, each=20)

    assert [(r.status, r.body) for r in raised] == [(200, "Alert raised\n")] * len(raised)
    same_everywhere(cluster, backlog_body, unique_name)
    records = backlog(cluster[0], unique_name)
    assert sorted(texts(records)) == sorted(r.text for r in raised), "each accepted alert once"
    times = stamps(records)
    assert all(a < b for a, b in pairwise(times)), "strictly increasing"
    ids = [record["kismet.alert.hash"] for record in records]
    assert len(set(ids)) == len(ids)
    # A client's raise is answered before its next one starts: its next is stamped later.
    for client, order in in_client_order(raised).items():
        assert subsequence_of(order, texts(records)) == order, client
    # The raises really were interleaved across replicas.
    origin = {r.text: r.replica for r in raised}
    switches = sum(origin[a] != origin[b] for a, b in pairwise(texts(records)))
    assert switches > len(cluster)


def test_a_raise_on_another_replica_is_stamped_after_the_one_answered_before_it(
    cluster: list[Server], unique_name: str
) -> None:
    """One client hopping between replicas, as behind a load balancer: each alert is
    stamped after the one it raised before, on whichever replica that was."""
    define_fast(cluster[1], unique_name)
    order = [0, 1, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0] * 2
    for i, replica in enumerate(order):
        response = cluster[replica].raise_alert(unique_name, f"hop-{i}")
        assert response.status_code == 200, response.text
    records = backlog(cluster[2], unique_name)
    assert texts(records) == [f"hop-{i}" for i in range(len(order))]
    times = stamps(records)
    assert all(a < b for a, b in pairwise(times))
