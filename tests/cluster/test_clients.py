"""The kismet-rest PyPI client behind a load balancer: each call may reach another
replica, and it still reads one consistent backlog (scale.md: nothing changes for
clients)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kismet_rest

from tests.cluster.helpers import Replicas, backlog, poll_while_raising, texts
from tests.records import only
from tests.server import PASSWORD, USER, Server


def client(server: Server, cache: Path, **login: Any) -> kismet_rest.Alerts:
    credentials = login if login else {"username": USER, "password": PASSWORD}
    return kismet_rest.Alerts(host_uri=server.url, sessioncache_path=str(cache), **credentials)


def clients(cluster: Replicas, tmp_path: Path) -> list[kismet_rest.Alerts]:
    """One client per replica, sharing one session cache file, as one script's calls
    spread over the replicas would."""
    return [client(server, tmp_path / "session") for server in cluster]


def test_kismet_rest_reads_back_each_raise_from_another_replica(
    cluster: Replicas, tmp_path: Path, unique_name: str
) -> None:
    spread = clients(cluster, tmp_path)
    assert spread[0].define(unique_name, "behind a balancer", "1000/sec", "1000/sec") is True
    raised: list[str] = []
    for i in range(12):
        text = f"spread-{i}"
        assert spread[i % 3].raise_alert(unique_name, text, channel=str(i)) is True
        raised.append(text)
        found = only(list(spread[(i + 1) % 3].all()), unique_name)
        assert texts(found) == raised
    seen = [only(list(c.all()), unique_name) for c in spread]
    assert seen[0] == seen[1] == seen[2]
    newer = seen[0][5:]
    stamp = seen[0][4]["kismet.alert.timestamp"]
    for c in spread:
        assert only(list(c.all(ts_sec=stamp)), unique_name) == newer


def test_kismet_rest_polling_alternating_replicas_misses_and_repeats_nothing(
    cluster: Replicas, tmp_path: Path, unique_name: str
) -> None:
    """A script that polls with the newest timestamp it has seen, each poll reaching
    another replica, while every replica takes raises: it reads each alert once, in
    backlog order."""
    spread = clients(cluster, tmp_path)
    assert spread[0].define(unique_name, "polled", "1000/sec", "1000/sec") is True
    seen: list[dict[str, Any]] = []
    newest: float = 0

    def poll(n: int) -> None:
        nonlocal newest, seen
        found = only(list(spread[n % 3].all(ts_sec=newest)), unique_name)
        seen += found
        if found:
            newest = found[-1]["kismet.alert.timestamp"]

    results, polls = poll_while_raising(cluster, unique_name, 30, poll)
    assert [r.status for r in results] == [200] * 90
    assert polls > 3, "the polls ran while the raises did"
    assert sorted(texts(seen)) == sorted(r.text for r in results), "each alert once"
    assert seen == backlog(cluster[2], unique_name)


def test_kismet_rest_session_cached_on_one_replica_serves_a_later_run_on_another(
    cluster: Replicas, tmp_path: Path, unique_name: str
) -> None:
    cache = tmp_path / "session"
    with_password = client(cluster[0], cache)
    assert with_password.login() is True
    assert cache.read_text()
    assert with_password.define(unique_name, "cached", "100/sec", "100/sec") is True
    for n, server in enumerate(cluster[1:], start=1):
        no_password = kismet_rest.Alerts(host_uri=server.url, sessioncache_path=str(cache))
        assert no_password.check_session() is True
        assert no_password.raise_alert(unique_name, f"on replica {n}") is True
    reader = kismet_rest.Alerts(host_uri=cluster[0].url, sessioncache_path=str(cache))
    assert texts(only(list(reader.all()), unique_name)) == ["on replica 1", "on replica 2"]
