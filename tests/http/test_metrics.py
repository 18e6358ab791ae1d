"""GET /metrics: scraped from a real server and read with prometheus-client's own parser."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.forward.receivers import DatagramReceiver
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server, free_port, wait_for
from tests.test_eventbus import LOGIN, StalledSubscriber, api_key, ws_url

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample, by name and labels; prometheus-client's parser refuses bad text."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(server: Server) -> Samples:
    response = server.get("/metrics")
    assert response.status_code == 200, response.text
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a labelled sample not reported (a count never made)."""
    key = (name, frozenset(labels.items()))
    if key not in samples:
        assert labels, f"{name} is not reported"
        return 0.0
    return samples[key]


@pytest.fixture(scope="module")
def metrics_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of this module's own, so that request counts are exactly ours."""
    workdir = tmp_path_factory.mktemp("metrics")
    with Server(workdir, BASE_CONFIG + "alertbacklog=5\neventbus_queue=16\n") as server:
        yield server


def test_alerts_raised_and_throttled_per_header(metrics_server: Server, unique_name: str) -> None:
    server = metrics_server
    other = unique_name + "_OTHER"
    assert server.define(unique_name, throttle="3/min", burst="3/min").status_code == 200
    define_fast(server, other)
    statuses = [server.raise_alert(unique_name).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    raise_ok(server, other)

    samples = scrape(server)
    assert value(samples, "kisalert_alerts_raised_total", header=unique_name) == 3
    assert value(samples, "kisalert_alerts_throttled_total", header=unique_name) == 2
    assert value(samples, "kisalert_alerts_raised_total", header=other) == 1
    assert value(samples, "kisalert_alerts_throttled_total", header=other) == 0


def test_requests_are_counted_by_route_template_and_status(metrics_server: Server) -> None:
    server = metrics_server
    by_id = "/alerts/by-id/{id}/alert.{fmt}"
    before = scrape(server)
    for alert_id in (1, 2, 3):  # no such alerts: 404 from the route itself
        assert server.get(f"/alerts/by-id/{alert_id}/alert.json").status_code == 404
    assert server.get("/alerts/all_alerts.json").status_code == 200
    made_up = f"/no/such/{uuid.uuid4().hex}"
    for _ in range(2):
        assert server.get(made_up).status_code == 404
    response = requests.get(server.url + "/alerts/all_alerts.json", timeout=10)
    assert response.status_code == 401
    after = scrape(server)

    def counted(samples: Samples, route: str, code: str) -> float:
        return value(samples, "kisalert_http_requests_total", route=route, code=code)

    def grew(route: str, code: str) -> float:
        return counted(after, route, code) - counted(before, route, code)

    assert grew(by_id, "404") == 3
    assert grew("/alerts/all_alerts.{fmt}", "200") == 1
    assert grew("/alerts/all_alerts.{fmt}", "401") == 1
    assert grew("unmatched", "404") == 2
    # The scrape `before` was answered before `after` was made.
    assert grew("/metrics", "200") == 1
    # However many paths are made up, the labels are the routes' templates.
    routes = {dict(labels).get("route") for _, labels in after}
    assert made_up not in routes
    assert not any(route and "/no/such" in route for route in routes)


def test_latency_histograms_count_every_request(metrics_server: Server) -> None:
    server = metrics_server
    route = "/system/timestamp.{fmt}"
    for _ in range(7):
        assert server.get("/system/timestamp.json").status_code == 200
    samples = scrape(server)
    name = "kisalert_http_request_duration_seconds"
    buckets = sorted(
        (float(dict(labels)["le"]), count)
        for (sample, labels), count in samples.items()
        if sample == name + "_bucket" and dict(labels)["route"] == route
    )
    assert len(buckets) > 5
    counts = [count for _, count in buckets]
    assert counts == sorted(counts), "buckets are cumulative"
    assert buckets[-1] == (float("inf"), 7)
    assert value(samples, name + "_count", route=route) == 7
    assert value(samples, "kisalert_http_requests_total", route=route, code="200") == 7
    assert 0 < value(samples, name + "_sum", route=route) < 7 * 10


def subscribers(server: Server) -> float:
    return value(scrape(server), "kisalert_eventbus_subscribers")


def test_eventbus_subscribers_gauge_follows_connections(metrics_server: Server) -> None:
    server = metrics_server
    before = subscribers(server)
    with connect(ws_url(server, LOGIN)) as websocket:
        websocket.send('{"SUBSCRIBE": "ALERT"}')
        wait_for(lambda: subscribers(server) == before + 1, what="the subscriber counted")
    wait_for(lambda: subscribers(server) == before, what="the subscriber gone")


def test_a_cut_off_subscriber_is_counted(metrics_server: Server, unique_name: str) -> None:
    """eventbus_queue=16: a subscriber that stops reading is cut off (1013)."""
    server = metrics_server
    define_fast(server, unique_name)
    cutoffs = "kisalert_eventbus_cutoffs_total"
    before = value(scrape(server), cutoffs)
    stalled = StalledSubscriber(server, LOGIN)
    try:
        stalled.send({"SUBSCRIBE": "ALERT"})
        wait_for(lambda: subscribers(server) >= 1, what="the subscriber counted")
        filler = "x" * 16_000
        for batch in range(40):
            for i in range(20):
                raise_ok(server, unique_name, f"{batch}-{i} {filler}")
            if value(scrape(server), cutoffs) > before:
                break
        assert value(scrape(server), cutoffs) == before + 1
    finally:
        stalled.close()


def test_backlog_size(metrics_server: Server, unique_name: str) -> None:
    """alertbacklog=5: the gauge follows the backlog up to its size."""
    server = metrics_server
    define_fast(server, unique_name)
    for i in range(6):
        raise_ok(server, unique_name, f"fill {i}")
    samples = scrape(server)
    assert value(samples, "kisalert_backlog_max_alerts") == 5
    assert value(samples, "kisalert_backlog_alerts") == 5
    assert len(server.alerts()) == 5


def test_process_memory(metrics_server: Server) -> None:
    assert value(scrape(metrics_server), "process_resident_memory_bytes") > 1 << 20


def test_log_writer_metrics(tmp_path: Path, unique_name: str) -> None:
    """With the alert log: queued writes, commit times and failed commits."""
    with Server(tmp_path) as server:
        define_fast(server, unique_name)
        for i in range(5):
            raise_ok(server, unique_name, f"logged {i}")

        def committed(samples: Samples) -> float:
            return value(samples, "kisalert_log_commit_seconds_count")

        samples = wait_for(
            lambda: (s := scrape(server)) and value(s, "kisalert_log_queued_writes") == 0 and s,
            what="every write committed",
        )
        assert committed(samples) >= 1
        assert value(samples, "kisalert_log_commit_seconds_bucket", le="+Inf") == committed(samples)
        assert value(samples, "kisalert_log_commit_failures_total") == 0
        assert value(samples, "kisalert_log_failing") == 0

        # Another process holds the write lock past the writer's busy timeout (5 s).
        blocker = sqlite3.connect(server.data_dir / "kisalert.kismet", isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            raise_ok(server, unique_name, "while locked")
            samples = wait_for(
                lambda: (s := scrape(server)) and value(s, "kisalert_log_failing") == 1 and s,
                timeout=20,
                what="the log failing",
            )
            assert value(samples, "kisalert_log_commit_failures_total") >= 1
            assert value(samples, "kisalert_log_queued_writes") >= 1
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        samples = wait_for(
            lambda: (s := scrape(server)) and value(s, "kisalert_log_queued_writes") == 0 and s,
            timeout=20,
            what="the retry committed",
        )
        assert value(samples, "kisalert_log_failing") == 0
        assert committed(samples) >= 2


def test_memory_mode_reports_no_log(tmp_path: Path) -> None:
    with Server(tmp_path, extra_args=["--memory"]) as server:
        names = {name for name, _ in scrape(server)}
    assert "kisalert_backlog_alerts" in names
    assert not any(name.startswith("kisalert_log_") for name in names)


def test_metrics_need_a_readonly_login(metrics_server: Server) -> None:
    server = metrics_server
    response = requests.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 401
    assert "kisalert_" not in response.text
    _, token = api_key(server, role="readonly")
    response = requests.get(
        server.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    assert "kisalert_build_info" in {name for name, _ in parse(response.text)}


def test_metrics_public_needs_no_login(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "metrics_public=true\n") as server:
        response = requests.get(server.url + "/metrics", timeout=10)
        assert response.status_code == 200
        assert response.headers["content-type"] == CONTENT_TYPE_LATEST
        assert value(parse(response.text), "kisalert_eventbus_subscribers") == 0
        # Only /metrics: the API still needs a login.
        assert requests.get(server.url + "/alerts/all_alerts.json", timeout=10).status_code == 401


def test_forwarding_outputs_and_silences(tmp_path: Path, unique_name: str) -> None:
    dead = free_port()  # nothing listens there: the TCP output keeps failing
    with DatagramReceiver() as peer:
        config = (
            BASE_CONFIG
            + f"forward=up:type=syslog,target=udp://127.0.0.1:{peer.port},headers={unique_name}\n"
            + f"forward=down:type=syslog,target=tcp://127.0.0.1:{dead},headers={unique_name}\n"
            + f'silence=header={unique_name},text="^hush",comment="quiet please"\n'
        )
        with Server(tmp_path, config) as server:
            define_fast(server, unique_name)
            for text in ("one", "hush", "two"):
                raise_ok(server, unique_name, text)
            peer.wait_for_count(2)

            def settled() -> Samples | None:
                samples = scrape(server)
                up = {"output": "up", "kind": "syslog"}
                down = {"output": "down", "kind": "syslog"}
                if (
                    value(samples, "kisalert_forward_delivered_alerts_total", **up) == 2
                    and value(samples, "kisalert_forward_failing", **down) == 1
                    and value(samples, "kisalert_forward_backlog_alerts", **up) == 0
                ):
                    return samples
                return None

            samples = wait_for(settled, what="the outputs' figures")
            down = {"output": "down", "kind": "syslog"}
            assert value(samples, "kisalert_forward_failing", output="up", kind="syslog") == 0
            assert value(samples, "kisalert_forward_delivered_alerts_total", **down) == 0
            assert value(samples, "kisalert_forward_backlog_alerts", **down) >= 3
            assert value(samples, "kisalert_forward_failed_alerts_total", **down) == 0
            [silence] = server.get("/forward/silences/all_silences.json").json()
            silence_id = silence["kisalert.silence.id"]
            assert value(samples, "kisalert_silence_hits_total", silence=silence_id) == 1
