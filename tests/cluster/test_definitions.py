"""scale.md, the definitions row: a define on one replica is visible on all at once,
and every replica lists the definitions in the one registration order."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.cluster.helpers import CLUSTER_CONFIG, Replicas, same_everywhere
from tests.cluster.replicas import start_replica
from tests.http.helpers import define_fast, definition, definitions
from tests.records import DEFINITION_KEYS
from tests.server import PASSWORD, USER, Server, wait_for

HEADER = "kismet.alert.definition.header"
# The fields a definition keeps; the counters after them move with the clock.
SETTINGS = DEFINITION_KEYS[: DEFINITION_KEYS.index("kismet.alert.definition.burst_sent")]


def settings_body(server: Server) -> bytes:
    """Every definition's settings, as the replica lists them."""
    response = server.command("/alerts/definitions.json", {"fields": SETTINGS})
    assert response.status_code == 200, response.text
    return response.content


def define_alone(server: Server, args: dict[str, str]) -> int:
    """A define on its own connection (the server's session is not for threads)."""
    response = requests.post(
        server.url + "/alerts/definitions/define_alert.cmd",
        data={"json": json.dumps(args)},
        auth=(USER, PASSWORD),
        timeout=30,
    )
    return response.status_code


def headers(server: Server) -> list[str]:
    return [d[HEADER] for d in definitions(server)]


def test_a_definition_made_on_one_replica_is_there_on_the_others_at_once(
    cluster: Replicas, unique_name: str
) -> None:
    response = cluster[0].define(unique_name, throttle="7/min", burst="3/sec", severity=15)
    assert response.status_code == 200, response.text
    # No wait: the next request to another replica already finds it.
    raised = cluster[1].raise_alert(unique_name, "defined elsewhere")
    assert raised.status_code == 200, raised.text
    found = same_everywhere(cluster, definition, unique_name)
    assert found is not None
    assert found["kismet.alert.definition.limit_rate"] == 7
    assert found["kismet.alert.definition.limit_burst"] == 3
    assert found["kismet.alert.definition.severity"] == 15
    # Re-defining it identically elsewhere is the no-op 200; differently, 409.
    assert cluster[2].define(unique_name, throttle="7/min", burst="3/sec", severity=15).ok
    other = cluster[2].define(unique_name, throttle="8/min", burst="3/sec", severity=15)
    assert (other.status_code, other.text) == (
        409,
        f"Could not define alert: {unique_name} already exists\n",
    )


def test_every_replica_lists_definitions_in_registration_order(
    cluster: Replicas, unique_name: str, tmp_path: Path
) -> None:
    names = [f"{unique_name}_{i}" for i in range(7)]
    for i, name in enumerate(names):
        response = cluster[(2 * i) % 3].define(name)
        assert response.status_code == 200, response.text
    listed = same_everywhere(cluster, headers)
    assert [h for h in listed if h.startswith(unique_name)] == names
    assert listed[-len(names) :] == names, "the newest definitions come last"
    body = same_everywhere(cluster, settings_body)
    # A replica started now registers its built-in definitions too: nothing moves.
    late = start_replica(tmp_path, cluster.redis, CLUSTER_CONFIG)
    try:
        assert settings_body(late) == body
    finally:
        late.stop()
    assert same_everywhere(cluster, settings_body) == body


def test_concurrent_defines_of_one_name_register_exactly_one(
    cluster: Replicas, unique_name: str
) -> None:
    """Every replica defines the same names at the same moment, each with its own
    description: one define of each name wins, everywhere; the others are 409."""
    names = [f"{unique_name}_{i}" for i in range(6)]

    def define(job: tuple[int, str]) -> tuple[str, int, int]:
        replica, name = job
        status = define_alone(cluster[replica], {"name": name, "description": f"from {replica}"})
        return name, replica, status

    jobs = [(replica, name) for name in names for replica in range(3)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        answers = list(pool.map(define, jobs))

    assert Counter(status for _, _, status in answers) == {200: len(names), 409: 2 * len(names)}
    for name in names:
        (winner,) = [replica for n, replica, status in answers if n == name and status == 200]
        found = same_everywhere(cluster, definition, name)
        assert found is not None
        assert found["kismet.alert.definition.description"] == f"from {winner}"
    listed = same_everywhere(cluster, headers)
    assert sorted(h for h in listed if h.startswith(unique_name)) == names


def test_concurrent_identical_defines_all_succeed_and_define_once(
    cluster: Replicas, unique_name: str
) -> None:
    """Tools re-define their alerts at start-up; several starting at once on
    different replicas all get 200, and the name is listed once."""

    def define(replica: int) -> int:
        args = {"name": unique_name, "description": "at start-up", "throttle": "5/min"}
        return define_alone(cluster[replica], args)

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(define, [0, 1, 2, 0, 1, 2]))
    assert statuses == [200] * 6
    assert same_everywhere(cluster, headers).count(unique_name) == 1


def test_an_identical_define_on_another_replica_is_the_no_op(
    cluster: Replicas, unique_name: str
) -> None:
    """Defined on A; defined again, identically, on B and C, which have not read it:
    a lone server answers such a define as the no-op and posts no message about it."""
    first = cluster[0].define(unique_name, throttle="5/min")
    assert (first.status_code, first.text) == (200, f"Alert {unique_name} defined\n")
    again = [server.define(unique_name, throttle="5/min") for server in cluster[1:]]
    noop = (200, f"Alert {unique_name} already defined with these settings\n")
    assert [(a.status_code, a.text) for a in again] == [noop, noop]
    # A marker raised after them: once every replica shows it, the defines' messages
    # are there too.
    define_fast(cluster[2], unique_name + "_MARK")
    assert cluster[2].raise_alert(unique_name + "_MARK", "after").status_code == 200
    marker = f"{unique_name}_MARK after"

    def messages(server: Server) -> list[str]:
        found = server.get("/messagebus/all_messages.json").json()
        return [m["kismet.messagebus.message_string"] for m in found]

    wait_for(lambda: all(marker in messages(s) for s in cluster), what="the marker")
    defined = f"Alert {unique_name} defined over the API"
    assert [messages(s).count(defined) for s in cluster] == [1, 1, 1]
