"""Two replicas on one Redis answer as one server (scale.md): the smallest proof; the
rows of scale.md's table each have their own test file beside this one."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.replicas import replicas
from tests.redis_server import RedisServer


def test_an_alert_raised_on_one_replica_is_read_back_identically_from_the_other(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with replicas(tmp_path, redis_server) as (a, b):
        assert a.define("PAIRED", throttle="10/sec", burst="10/sec").status_code == 200
        assert a.raise_alert("PAIRED", "seen by both").status_code == 200
        on_a = [x for x in a.alerts() if x["kismet.alert.header"] == "PAIRED"]
        on_b = [x for x in b.alerts() if x["kismet.alert.header"] == "PAIRED"]
        assert [x["kismet.alert.text"] for x in on_b] == ["seen by both"]
        assert a.get("/alerts/all_alerts.json").content == b.get("/alerts/all_alerts.json").content
        assert on_a == on_b
