"""What /metrics reports about the running service: alerts, the eventbus, the backlog
and the alert log, in Prometheus' terms.

Nothing is counted through prometheus-client while serving: the service keeps plain
counters (the tracker's throttled raises, the hub's cut-offs, the writer's commit
times) and `ServiceCollector` turns them into metric families only when scraped.
The one counter kept here, alerts raised per header, costs a dictionary increment
per alert. Nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from kisalert import __version__
from kisalert.alert import Alert
from kisalert.bus import ALERT

if TYPE_CHECKING:
    from kisalert.service import Service

PREFIX = "kisalert_"


class RaisedAlerts:
    """Alerts raised per header, counted from the bus: every alert published, whoever
    raised it (the API, a capture source, the server itself)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def count(self, topic: str, alert: Alert) -> None:
        counts = self.counts
        header = alert.header
        counts[header] = counts.get(header, 0) + 1


def _per_header(name: str, text: str, counts: Mapping[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, text, labels=["header"])
    for header, count in sorted(counts.items()):
        family.add_metric([header], count)
    return family


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


class ServiceCollector(Collector):
    """The service's own figures, read when scraped."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self.raised = RaisedAlerts()
        service.bus.subscribe(ALERT, self.raised.count)

    def collect(self) -> Iterator[Metric]:
        service = self._service
        info = GaugeMetricFamily(PREFIX + "build_info", "The running kisalert", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        yield _per_header(PREFIX + "alerts_raised", "Alerts raised, per header", self.raised.counts)
        yield _per_header(
            PREFIX + "alerts_throttled",
            "Raises refused by the alert's throttle, per header",
            service.tracker.throttled,
        )
        yield _gauge(PREFIX + "backlog_alerts", "Alerts in the backlog", service.store.backlog_size)
        yield _gauge(
            PREFIX + "backlog_max_alerts",
            "Alerts the backlog holds at most (alertbacklog)",
            service.config.backlog,
        )
        hub = service.events
        yield _gauge(PREFIX + "eventbus_subscribers", "Eventbus websocket connections", len(hub))
        yield CounterMetricFamily(
            PREFIX + "eventbus_cutoffs",
            "Eventbus subscribers cut off for falling eventbus_queue frames behind",
            value=hub.cut_offs,
        )
        yield from _forwarding(service)
        log = service.log
        if log is None:  # --memory: there is no log to report on
            return
        yield _gauge(
            PREFIX + "log_queued_writes", "Writes waiting for the alert log's writer", log.queued
        )
        yield _gauge(
            PREFIX + "log_failing",
            "1 while the alert log cannot be written (raises answer 503), else 0",
            0 if log.failure is None else 1,
        )
        writer = log.writer
        buckets, total = writer.commit_seconds.buckets()
        yield HistogramMetricFamily(
            PREFIX + "log_commit_seconds",
            "Time the alert log's writer took per transaction, up to its commit",
            buckets=buckets,
            sum_value=total,
        )
        yield CounterMetricFamily(
            PREFIX + "log_commit_failures",
            "Alert log transactions that failed (each is retried until written)",
            value=writer.failed_commits,
        )


_OUTPUT_COUNTS = (
    ("delivered", "Alerts an output took"),
    ("failed", "Alerts an output gave up on"),
    ("dropped", "Alerts a full --memory queue lost before an output sent them"),
    ("held_back", "Alerts an output's rate= cap kept back"),
)


def _forwarding(service: Service) -> Iterator[Metric]:
    """Each forward= output: its counts, backlog and state, labelled by its name; and
    every silence's hits."""
    records = service.forwarding.records()
    prefix = "kisalert.forward."
    if records:
        for key, text in _OUTPUT_COUNTS:
            family = CounterMetricFamily(
                f"{PREFIX}forward_{key}_alerts", text, labels=["output", "kind"]
            )
            for record in records:
                family.add_metric(
                    [record[prefix + "name"], record[prefix + "kind"]], record[prefix + key]
                )
            yield family
        backlog = GaugeMetricFamily(
            PREFIX + "forward_backlog_alerts",
            "Alerts after an output's position, not yet sent",
            labels=["output", "kind"],
        )
        failing = GaugeMetricFamily(
            PREFIX + "forward_failing",
            "1 while an output's sends fail (it retries), else 0",
            labels=["output", "kind"],
        )
        for record in records:
            labels = [record[prefix + "name"], record[prefix + "kind"]]
            backlog.add_metric(labels, record[prefix + "backlog"])
            failing.add_metric(labels, 1 if record[prefix + "state"] == "failing" else 0)
        yield backlog
        yield failing
    silenced = CounterMetricFamily(
        PREFIX + "silence_hits", "Alerts a silence kept from the outputs", labels=["silence"]
    )
    for silence_id, hits in sorted(service.silences.hits().items()):
        silenced.add_metric([silence_id], hits)
    yield silenced


def registry(service: Service, *more: Collector) -> CollectorRegistry:
    """A registry of its own (not prometheus-client's global one, which would gather
    whatever else the process imports): the service, `more`, and the process's CPU,
    memory and descriptors under their standard `process_` names."""
    found = CollectorRegistry(auto_describe=False)
    found.register(ServiceCollector(service))
    for collector in more:
        found.register(collector)
    ProcessCollector(registry=found)
    return found
