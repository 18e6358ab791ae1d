"""Reads over a backlog big enough that the server builds the answers in a worker
thread (kisalert.http.offload): the answers are the same as on the event loop, and
errors inside a worker still reach the client as the spec's statuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from kisalert.http.offload import BIG
from tests.http.helpers import define_fast, raise_pipelined
from tests.server import BASE_CONFIG, Server

COUNT = BIG + 300
NAME = "BIGBACKLOG"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    config = BASE_CONFIG + f"alertbacklog={COUNT + 100}\n"
    with Server(tmp_path_factory.mktemp("big-backlog"), config) as server:
        define_fast(server, NAME)
        raise_pipelined(
            server,
            [
                {"name": NAME, "text": f"n{i:05d}" + (" needle" if i % 500 == 7 else "")}
                for i in range(COUNT)
            ],
        )
        yield server


def mine(records: list[dict[str, Any]]) -> list[str]:
    return [r["kismet.alert.text"] for r in records if r["kismet.alert.header"] == NAME]


def test_all_alerts_in_every_format(big: Server) -> None:
    expected = [f"n{i:05d}" for i in range(COUNT)]
    as_json = big.get("/alerts/all_alerts.json").json()
    assert [text.split()[0] for text in mine(as_json)] == expected
    lines = big.get("/alerts/all_alerts.itjson").text.splitlines()
    assert [json.loads(line) for line in lines] == as_json
    ek = [json.loads(line) for line in big.get("/alerts/all_alerts.ekjson").text.splitlines()]
    assert [r["kismet_alert_text"] for r in ek if r["kismet_alert_header"] == NAME] == mine(as_json)


def test_fields_and_regex_over_the_whole_backlog(big: Server) -> None:
    body = {
        "fields": [["kismet.alert.text", "t"]],
        "regex": [["kismet.alert.text", "needle$"]],
    }
    response = big.command("/alerts/all_alerts.json", body)
    assert response.status_code == 200, response.text
    assert response.json() == [{"t": f"n{i:05d} needle"} for i in range(COUNT) if i % 500 == 7]


def test_last_time_and_wrapped_poll(big: Server) -> None:
    everything = big.get("/alerts/all_alerts.json").json()
    cut = everything[-COUNT // 2]["kismet.alert.timestamp"]
    later = big.get(f"/alerts/last-time/{cut}/alerts.json").json()
    assert later == [r for r in everything if r["kismet.alert.timestamp"] > cut]
    wrapped = big.get("/alerts/wrapped/last-time/0/alerts.json").json()
    assert wrapped["kismet.alert.list"] == everything
    assert wrapped["kismet.alert.timestamp"] >= everything[-1]["kismet.alert.timestamp"]


def test_alerts_view_page_search_and_sort(big: Server) -> None:
    response = big.get(
        "/alerts/alerts_view.json",
        params={"page": 0, "length": 3, "search": "NEEDLE", "sort": "kismet.alert.text",
                "sort_dir": "desc"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    page = response.json()
    needles = sorted((f"n{i:05d} needle" for i in range(COUNT) if i % 500 == 7), reverse=True)
    assert [r["kismet.alert.text"] for r in page["data"]] == needles[:3]
    assert page["last_row"] == len(needles)
    assert page["total_row"] >= COUNT
    assert page["last_page"] == -(-len(needles) // 3)


def test_an_error_in_a_worker_is_the_usual_400(big: Server) -> None:
    response = big.command("/alerts/alerts_view.json", {"regex": [["kismet.alert.text", "("]]})
    assert response.status_code == 400
    assert response.text.strip(), "the reason is given"
    response = big.command("/alerts/all_alerts.json", {"fields": 7})
    assert response.status_code == 400
