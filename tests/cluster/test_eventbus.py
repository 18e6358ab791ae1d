"""scale.md, the eventbus row: a websocket on any replica receives the alerts raised
on every replica, in raise (stamp) order, each once, while a flood runs on several."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from tests.cluster.helpers import (
    Raised,
    Replicas,
    backlog_body,
    in_client_order,
    raise_from_all,
    subscribed,
    subsequence_of,
)
from tests.slack import slack
from tests.test_eventbus import Client, define_pair, plain_alert

FLOOD_CLIENTS = 2  # per raising replica
FLOOD_EACH = 75


async def alert_frames_until(client: Client, name: str, sync: str, last: str) -> list[str]:
    """The raw ALERT frames of `name` received until the `sync` alert with text `last`."""
    frames = []
    while True:
        text = await client.text(timeout=slack(30))
        record = json.loads(text).get("ALERT")
        if record is None:
            continue
        if record["kismet.alert.header"] == name:
            frames.append(text)
        elif record["kismet.alert.header"] == sync and record["kismet.alert.text"] == last:
            return frames


def test_subscribers_on_every_replica_see_a_flood_from_two_replicas_in_order_once(
    cluster: Replicas, unique_name: str
) -> None:
    name = unique_name
    sync = define_pair(cluster[0], name)
    raisers = list(cluster[:2])

    def flood() -> list[Raised]:
        raised = raise_from_all(raisers, name, FLOOD_CLIENTS, FLOOD_EACH)
        # Raised after every flood alert was answered: it comes after all of them.
        response = cluster[0].raise_alert(sync, "done")
        assert response.status_code == 200, response.text
        return raised

    async def main() -> tuple[list[Raised], list[list[str]]]:
        async with (
            subscribed(cluster[0], cluster[0], sync) as on_a,
            subscribed(cluster[1], cluster[0], sync) as on_b,
            subscribed(cluster[2], cluster[0], sync) as on_c,
        ):
            clients = (on_a, on_b, on_c)
            # Reading from the start, so that no subscriber falls behind the flood.
            seen = asyncio.gather(*(alert_frames_until(c, name, sync, "done") for c in clients))
            raised = await asyncio.to_thread(flood)
            return raised, await seen

    raised, frames = asyncio.run(main())

    assert [r.status for r in raised] == [200] * len(raised)
    assert len(raised) == 2 * FLOOD_CLIENTS * FLOOD_EACH
    # The backlog's own bytes, one alert per line, in stamp order.
    lines = backlog_body(cluster[2], name, "/alerts/all_alerts.itjson").decode().splitlines()
    assert len(lines) == len(raised)
    expected = [f'{{"ALERT":{line}}}' for line in lines]
    for replica, got in enumerate(frames):
        assert got == expected, f"the subscriber on replica {replica} saw another sequence"
    seen_texts = [json.loads(line)["kismet.alert.text"] for line in lines]
    assert sorted(seen_texts) == sorted(r.text for r in raised)
    for client, order in in_client_order(raised).items():
        assert subsequence_of(order, seen_texts) == order, client


def test_an_alert_raised_on_one_replica_reaches_a_subscriber_on_another_as_recorded(
    cluster: Replicas, unique_name: str
) -> None:
    """One raise on C, seen by a subscriber on A: the frame holds the record that
    by-id answers on every replica."""
    sync = define_pair(cluster[2], unique_name)

    async def main() -> Sequence[dict[str, object]]:
        async with subscribed(cluster[0], cluster[2], sync) as client:
            response = await asyncio.to_thread(
                cluster[2].raise_alert, unique_name, "across", bssid="01:02:03:04:05:06"
            )
            assert response.status_code == 200, response.text
            frames = await client.until(lambda f: plain_alert(unique_name)(f, "across"))
            return [f["ALERT"] for f in frames if "ALERT" in f]

    record = asyncio.run(main())[-1]
    assert isinstance(record, dict)
    for server in cluster:
        by_id = server.get(f"/alerts/by-id/{record['kismet.alert.hash']}/alert.json")
        assert by_id.status_code == 200 and by_id.json() == record
