"""The ASGI application: routes, path clean-up and error pages."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketClose

from kisalert.auth import ADMIN, ANY_LOGIN, READONLY
from kisalert.console.assets import Assets
from kisalert.errors import AlertError
from kisalert.http import (
    alerts,
    apikeys,
    eventbus,
    forward,
    messagebus,
    metrics,
    session,
    silences,
    sources,
    system,
)
from kisalert.http.accesslog import AccessLog
from kisalert.http.console import console_routes
from kisalert.http.cors import Cors
from kisalert.http.endpoint import Endpoint, Handler, RecentLogins, error_response
from kisalert.http.errors import HttpError
from kisalert.http.notfound import NotFoundHints
from kisalert.http.responses import text_response
from kisalert.http.router import ApiRoutes
from kisalert.metrics import registry as metrics_registry
from kisalert.service import Service

_SLASHES = re.compile(r"//+")
UNPREFIXED = "/\0unprefixed"  # the path of a request outside the prefix: matches no route
# The scope key where CleanPath keeps such a request's own path, for the 404's hint.
OUTSIDE_KEY = "kisalert.outside_prefix"
GET_POST = ["GET", "POST"]
POST = ["POST"]


class CleanPath:
    """Collapses runs of slashes and strips `httpd_uri_prefix` before routing.

    Applied to each HTTP and websocket scope, in place, by the outermost layer
    (metrics.instrument) rather than being a layer of its own: each layer costs a
    request about as much as this does.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, scope: Scope) -> None:
        path = scope["path"]
        if "//" in path:
            path = _SLASHES.sub("/", path)
        if self.prefix:
            if path == self.prefix or path.startswith(self.prefix + "/"):
                path = path[len(self.prefix) :] or "/"
            else:
                scope[OUTSIDE_KEY] = path
                path = UNPREFIXED
        if path is not scope["path"]:
            scope["path"], scope["raw_path"] = path, path.encode()


def _public(
    service: Service, handler: Callable[[Service, Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            return await handler(service, request)
        except (HttpError, AlertError) as exc:
            return error_response(exc)

    return run


def routes(service: Service, registry: CollectorRegistry) -> list[BaseRoute]:
    recent = RecentLogins()

    def route(path: str, role: str, handler: Handler, methods: list[str]) -> Route:
        return Route(path, Endpoint(service, role, handler, recent), methods=methods)

    scrape = metrics.scrape_handler(registry)

    # Starlette tries routes in this order: raising, the busiest route, comes first.
    return [
        route("/alerts/raise_alerts.cmd", ADMIN, alerts.raise_alert, POST),
        route("/alerts/raise_alert.cmd", ADMIN, alerts.raise_alert, POST),
        route("/alerts/definitions.{fmt}", READONLY, alerts.definitions, GET_POST),
        route("/alerts/definitions/state.{fmt}", READONLY, alerts.definition_states, GET_POST),
        route("/alerts/all_alerts.{fmt}", READONLY, alerts.all_alerts, GET_POST),
        route("/alerts/last-time/{ts}/alerts.{fmt}", READONLY, alerts.last_time, GET_POST),
        route(
            "/alerts/wrapped/last-time/{ts}/alerts.{fmt}",
            READONLY,
            alerts.wrapped_last_time,
            GET_POST,
        ),
        route("/alerts/alerts_view.{fmt}", READONLY, alerts.alerts_view, GET_POST),
        route("/alerts/by-id/{id}/alert.{fmt}", READONLY, alerts.by_id, GET_POST),
        route("/alerts/definitions/define_alert.cmd", ADMIN, alerts.define_alert, POST),
        route("/messagebus/all_messages.{fmt}", READONLY, messagebus.all_messages, GET_POST),
        route(
            "/messagebus/last-time/{ts}/messages.{fmt}", READONLY, messagebus.last_time, GET_POST
        ),
        route("/system/timestamp.{fmt}", READONLY, system.timestamp, ["GET"]),
        route("/sources/all_sources.{fmt}", READONLY, sources.all_sources, GET_POST),
        route("/forward/status.{fmt}", ADMIN, forward.status, ["GET"]),
        route("/forward/silences/all_silences.{fmt}", ADMIN, silences.listing, GET_POST),
        route("/forward/silences/create.cmd", ADMIN, silences.create, POST),
        route("/forward/silences/by-id/{id}/expire.cmd", ADMIN, silences.expire, POST),
        route("/session/check_session", ANY_LOGIN, session.check_session, ["GET"]),
        route("/session/check_login", ADMIN, session.check_login, ["GET"]),
        route("/session/whoami.{fmt}", ANY_LOGIN, session.whoami, ["GET"]),
        route("/session/login", ANY_LOGIN, session.login, POST),
        route("/session/logout", ANY_LOGIN, session.logout, POST),
        Route("/session/check_setup_ok", _public(service, session.check_setup_ok), methods=["GET"]),
        Route("/session/set_password", _public(service, session.set_password), methods=POST),
        Route("/healthz", _public(service, system.healthz), methods=["GET"]),
        Route(metrics.PATH, _public(service, scrape), methods=["GET"])
        if service.config.metrics_public
        else route(metrics.PATH, READONLY, scrape, ["GET"]),
        route("/auth/apikey/generate.cmd", ADMIN, apikeys.generate, POST),
        route("/auth/apikey/revoke.cmd", ADMIN, apikeys.revoke, POST),
        route("/auth/apikey/list.{fmt}", ADMIN, apikeys.listing, GET_POST),
    ]


EVENTBUS_PATH = "/eventbus/events.ws"


class Websockets:
    """Routes websocket connections to the eventbus, outside Starlette's middleware,
    so that the eventbus talks to the server's own websocket `send` (which lets it
    write many frames at once; see TransportSink)."""

    def __init__(self, app: ASGIApp, service: Service, hints: NotFoundHints) -> None:
        self.app = app
        self.service = service
        self.hints = hints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
        elif scope["path"] == EVENTBUS_PATH:
            await eventbus.events(self.service, WebSocket(scope, receive, send))
        else:
            websocket = WebSocket(scope, receive, send)
            try:
                await websocket.send_denial_response(text_response(self.hints.for_websocket(), 404))
            except RuntimeError:  # the server cannot answer a websocket with HTTP
                await WebSocketClose(code=1008)(scope, receive, send)


def _http_exception(
    hints: NotFoundHints,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def answer(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = exc.detail
        if exc.status_code == 404:
            # A path no route takes: say what exists instead of a bare "Not Found".
            outside = request.scope.get(OUTSIDE_KEY)
            path = outside if outside is not None else request.scope["path"]
            detail = hints.for_path(path, unprefixed=outside is not None)
        response = text_response(detail, exc.status_code)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    return answer


def make_app(service: Service, access_log: AccessLog | None = None) -> ASGIApp:
    stats = metrics.RequestStats()
    registry = metrics_registry(service, metrics.RequestCollector(stats, access_log))
    table = routes(service, registry)
    templates = [route.path for route in table if isinstance(route, Route)]
    config = service.config
    hints = NotFoundHints(templates, config.uri_prefix, EVENTBUS_PATH, config.console)
    handlers = {HTTPException: _http_exception(hints)}
    pages: list[BaseRoute] = []
    if config.console:
        pages = [*console_routes(Assets.packaged(config.uri_prefix))]
    app = Starlette(routes=[*table, *pages], exception_handlers=handlers)
    wrapped: ASGIApp = Websockets(ApiRoutes(app, table), service, hints)
    if service.config.allow_cors:
        wrapped = Cors(wrapped, service.config.allowed_origin)
    return metrics.instrument(wrapped, CleanPath(service.config.uri_prefix), stats, access_log)
