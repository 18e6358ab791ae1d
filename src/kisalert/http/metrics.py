"""GET /metrics, and what every request adds to it (and to the access log).

`Instrument` wraps the whole application, once: per request it notes the status
and time and, when the access log is on, the body size. A request is counted under
its route's template (`/alerts/by-id/{id}/alert.{fmt}`), or under `unmatched` when no
route took it, so however many paths clients make up the label set stays the
routes'. The counts are plain dictionaries and lists; prometheus-client sees them
only when /metrics is scraped (`RequestCollector`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from time import perf_counter, time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kisalert.histogram import SECONDS, Histogram
from kisalert.http.accesslog import AccessLog
from kisalert.metrics import PREFIX
from kisalert.service import Service

PATH = "/metrics"
UNMATCHED = "unmatched"
WEBSOCKET_OPEN = 101
# What uvicorn answers a websocket closed before it was accepted.
WEBSOCKET_REFUSED = 403


class _Route:
    __slots__ = ("codes", "latency", "template")

    def __init__(self, template: str) -> None:
        self.template = template
        self.codes: dict[int, int] = {}
        self.latency = Histogram(SECONDS)


class RequestStats:
    """HTTP requests per route and status, and their latency per route."""

    def __init__(self) -> None:
        # By route template: the routes' own, and UNMATCHED.
        self._routes: dict[str, _Route] = {}

    def observe(self, route: BaseRoute | None, status: int, seconds: float) -> None:
        """Count a request that `route` answered (None: no route took it)."""
        template = UNMATCHED if route is None else getattr(route, "path", UNMATCHED)
        stats = self._routes.get(template)
        if stats is None:
            stats = self._routes[template] = _Route(template)
        codes = stats.codes
        codes[status] = codes.get(status, 0) + 1
        stats.latency.observe(seconds)

    def routes(self) -> list[_Route]:
        return sorted(self._routes.values(), key=lambda stats: stats.template)


class RequestCollector(Collector):
    def __init__(self, stats: RequestStats, access_log: AccessLog | None) -> None:
        self._stats = stats
        self._access_log = access_log

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            PREFIX + "http_requests",
            "HTTP requests answered, by route template and status code",
            labels=["route", "code"],
        )
        latency = HistogramMetricFamily(
            PREFIX + "http_request_duration_seconds",
            "Time from the start of a request's handling to the end of its answer, by route",
            labels=["route"],
        )
        for stats in self._stats.routes():
            for code, count in sorted(stats.codes.items()):
                requests.add_metric([stats.template, str(code)], count)
            buckets, total = stats.latency.buckets()
            latency.add_metric([stats.template], buckets, total)
        yield requests
        yield latency
        if self._access_log is not None:
            yield CounterMetricFamily(
                PREFIX + "access_log_dropped_lines",
                "Access log lines dropped because the log could not be written fast enough",
                value=self._access_log.dropped,
            )


class _Collected:
    """Metric families already collected, for generate_latest to render."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def scrape_handler(
    registry: CollectorRegistry,
) -> Callable[[Service, object], Awaitable[Response]]:
    """The /metrics handler, for a route with or without a login."""

    async def scrape(service: Service, _: object) -> Response:
        # Collecting reads live counters, so it runs on the event loop; rendering the
        # text is most of a scrape's time (milliseconds for a few hundred samples)
        # and works on the collected copies only, so it runs in a worker thread.
        collected = _Collected(list(registry.collect()))
        text = await asyncio.to_thread(generate_latest, collected)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    return scrape


class _Answer:
    """The server's `send`, noting the status and body size of the answer.

    Its `__self__` is that of the server's own `send`: the eventbus finds the
    connection's protocol through it (TransportSink.of), as it would without this.
    """

    __slots__ = ("__self__", "_send", "size", "status")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.__self__ = getattr(send, "__self__", None)
        self.status = 500  # what uvicorn answers if the application fails first
        self.size = 0

    def __call__(self, message: Message) -> Awaitable[None]:
        event = message["type"]
        if event in ("http.response.body", "websocket.http.response.body"):
            self.size += len(message.get("body", b""))
        elif event in ("http.response.start", "websocket.http.response.start"):
            self.status = message["status"]
        elif event == "websocket.accept":
            self.status = WEBSOCKET_OPEN
        elif event == "websocket.close" and self.status == 500:
            self.status = WEBSOCKET_REFUSED
        return self._send(message)


class Instrument:
    """Counts every HTTP request into `stats` and, with an access log, logs every HTTP
    request and websocket connection (once it ends).

    It must sit outside everything that routes, so that it sees the route Starlette
    picked in the request's scope (CleanPath changes the scope in place for this).
    """

    def __init__(self, app: ASGIApp, stats: RequestStats, access_log: AccessLog | None) -> None:
        self.app = app
        self.stats = stats
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.access_log is not None:
            await self._logged(self.access_log, scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The common case, and the only per-request cost of metrics: keep it small.
        status = 500  # what uvicorn answers if the application fails before answering

        def noting(message: Message) -> Awaitable[None]:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        started = perf_counter()
        try:
            await self.app(scope, receive, noting)
        finally:
            self.stats.observe(scope.get("route"), status, perf_counter() - started)

    async def _logged(self, log: AccessLog, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        websocket = kind == "websocket"
        # The request as the client sent it: routing may rewrite the scope's path.
        original = {key: scope[key] for key in ("path", "raw_path", "query_string") if key in scope}
        answer = _Answer(send)
        started = perf_counter()
        try:
            await self.app(scope, receive, answer)
        finally:
            seconds = perf_counter() - started
            status = answer.status
            if not websocket:
                self.stats.observe(scope.get("route"), status, seconds)
            # The eventbus writes its frames past `send`: their size is not known.
            size = answer.size if not websocket or status != WEBSOCKET_OPEN else None
            log.record({**scope, **original}, status, size, seconds, time())
