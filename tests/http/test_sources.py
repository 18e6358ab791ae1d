"""GET /sources/all_sources.{fmt}: each capture source of a running server, what it
is doing and what it has read, in the order the sources were given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from tests.server import BASE_CONFIG, Server, wait_for
from tests.wids.frames import AP2, BROADCAST, beacon, deauth, write_pcap
from tests.wids.source_server import wait_for_alerts, wait_for_message
from tests.wids.test_source import flood_capture

# A beacon whose header stops after its frame control, duration and first address.
TRUNCATED = b"\x80\x00\x00\x00" + b"\xff" * 6


def record(name: str, definition: Path, **values: Any) -> dict[str, Any]:
    base = {
        "kisalert.source.name": name,
        "kisalert.source.definition": str(definition),
        "kisalert.source.type": "file",
        "kisalert.source.realtime": False,
        "kisalert.source.state": "done",
        "kisalert.source.error": "",
        "kisalert.source.frames": 0,
        "kisalert.source.malformed": 0,
        "kisalert.source.bad_fcs": 0,
        "kisalert.source.other_link": 0,
        "kisalert.source.alerts": 0,
    }
    for key, value in values.items():
        base[f"kisalert.source.{key}"] = value
    return base


def test_every_source_with_its_state_counts_and_alerts(tmp_path: Path) -> None:
    read = write_pcap(
        tmp_path / "read.pcap",
        [beacon(), TRUNCATED, *[deauth() for _ in range(11)], deauth(bssid=AP2, dest=BROADCAST)],
    )
    missing = tmp_path / "missing.pcap"
    # Its attack comes ten minutes in, at the recorded pace: it is still being read.
    paced = flood_capture(tmp_path / "paced.pcap", start=600.0)
    sources = [f"{read}:name=read", f"{missing}:name=gone", f"{paced}:name=paced,realtime=true"]
    args = [part for source in sources for part in ("--source", source)]
    with Server(tmp_path, BASE_CONFIG, args) as server:
        wait_for_message(server, "source read: read 14 frames")
        wait_for_alerts(server, "SOURCEERROR")

        def listed() -> list[dict[str, Any]] | None:
            found: list[dict[str, Any]] = server.get("/sources/all_sources.json").json()
            return found if found[2]["kisalert.source.frames"] == 1 else None

        found = wait_for(listed, what="the paced source's first frame counted")
        assert found == [
            record("read", read, frames=14, malformed=1, alerts=2),
            record(
                "gone",
                missing,
                type="",
                state="failed",
                error=f"{missing}: no such file or interface",
            ),
            record("paced", paced, realtime=True, state="reading", frames=1),
        ]
        assert [list(source) for source in found] == [list(record("x", read))] * 3
        # Its two alerts are the backlog's, besides the server's own (SYSTEM) ones.
        raised = [a for a in server.alerts() if a["kismet.alert.class"] != "SYSTEM"]
        assert sorted(a["kismet.alert.header"] for a in raised) == ["BCASTDISCON", "DEAUTHFLOOD"]

        lines = server.get("/sources/all_sources.itjson").text.splitlines()
        assert [json.loads(line) for line in lines] == found
        names = server.post(
            "/sources/all_sources.json", data={"json": '{"fields": ["kisalert.source.name"]}'}
        ).json()
        assert names == [{"kisalert.source.name": n} for n in ("read", "gone", "paced")]
        assert requests.get(server.url + "/sources/all_sources.json", timeout=10).status_code == 401


def test_a_server_without_sources_lists_none(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        response = server.get("/sources/all_sources.json")
        assert (response.status_code, response.json()) == (200, [])
