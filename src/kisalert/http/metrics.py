"""GET /metrics, and what every request adds to it (and to the access log).

`instrument` wraps the whole application, once: per request it notes the status
and time and, when the access log is on, the body size. A request is counted under
its route's template (`/alerts/by-id/{id}/alert.{fmt}`), or under `unmatched` when no
route took it, so however many paths clients make up the label set stays the
routes'. The counts are plain dictionaries and lists; prometheus-client sees them
only when /metrics is scraped (`RequestCollector`).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from time import perf_counter, time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.routing import Route
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

    def observe(self, route: Route | None, status: int, seconds: float) -> None:
        """Count a request that `route` answered (None: no route took it)."""
        template = UNMATCHED if route is None else route.path
        stats = self._routes.get(template)
        if stats is None:
            stats = self._routes[template] = _Route(template)
        codes = stats.codes
        codes[status] = codes.get(status, 0) + 1
        latency = stats.latency  # Histogram.observe, inlined: this runs per request
        latency.counts[bisect_left(SECONDS, seconds)] += 1
        latency.total += seconds

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
        await service.forwarding.refresh()  # the forwarding process's counts
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


def instrument(
    app: ASGIApp,
    prepare: Callable[[Scope], None],
    stats: RequestStats,
    access_log: AccessLog | None,
) -> ASGIApp:
    """The outermost layer: applies `prepare` to each HTTP and websocket scope (in
    place: app.py's path clean-up, done here to save a layer of its own), counts
    every HTTP request into `stats` and, with an access log, logs every HTTP request
    and websocket connection (once it ends).

    Being outside everything that routes, it finds the route Starlette or ApiRoutes
    picked in the scope once the request is answered. A function rather than a class
    with `__call__`, as this runs on every request: see bench/raise_throughput.py.
    """
    if access_log is not None:
        return _logged(app, prepare, stats, access_log)
    observe = stats.observe

    async def counted(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                prepare(scope)
            await app(scope, receive, send)
            return
        prepare(scope)
        status = 500  # what uvicorn answers if the application fails before answering

        def noting(message: Message) -> Awaitable[None]:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        started = perf_counter()
        try:
            await app(scope, receive, noting)
        finally:
            observe(scope.get("route"), status, perf_counter() - started)

    return counted


def _logged(
    app: ASGIApp, prepare: Callable[[Scope], None], stats: RequestStats, log: AccessLog
) -> ASGIApp:
    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        websocket = kind == "websocket"
        # The request as the client sent it, before `prepare` cleans its path.
        original = {key: scope[key] for key in ("path", "raw_path", "query_string") if key in scope}
        prepare(scope)
        answer = _Answer(send)
        started = perf_counter()
        try:
            await app(scope, receive, answer)
        finally:
            seconds = perf_counter() - started
            status = answer.status
            if not websocket:
                stats.observe(scope.get("route"), status, seconds)
            # The eventbus writes its frames past `send`: their size is not known.
            size = answer.size if not websocket or status != WEBSOCKET_OPEN else None
            log.record({**scope, **original}, status, size, seconds, time())

    return logged
