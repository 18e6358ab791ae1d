"""Dispatching the API's routes without Starlette's per-request layers.

Starlette's application wraps every request in two middlewares, a router walk, a
request/response adapter and an exception wrapper: on the raise route that cost more
than kisalert's own work (bench/raise_throughput.py). The API's endpoints are ASGI
apps that answer every error themselves, so they need none of it: `ApiRoutes` finds
the route (exact paths by one dict lookup, then the templated ones in order) and
calls its endpoint. Only routes whose endpoint is an ASGI app of its own are taken
(the others need Starlette's request adapter). A path that matches no route here,
or a method a route does not take, goes on to Starlette, which answers 404 and 405
as it always has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send


class ApiRoutes:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        # Starlette tries routes in order and takes the first whose path and method
        # match; exact paths cannot overlap a templated one here, so looking them up
        # first gives the same answers.
        self._exact: dict[str, Route] = {}
        self._templated: list[Route] = []
        for route in routes:
            if not isinstance(route, Route) or route.app is not route.endpoint:
                continue
            if "{" in route.path:
                self._templated.append(route)
            else:
                self._exact.setdefault(route.path, route)

    def _find(self, path: str, method: str) -> tuple[Route, dict[str, Any]] | None:
        route = self._exact.get(path)
        if route is not None:
            if route.methods is None or method in route.methods:
                return route, {}
            return None
        for route in self._templated:
            match = route.path_regex.match(path)
            if match is not None and (route.methods is None or method in route.methods):
                params = match.groupdict()
                for key, value in params.items():
                    params[key] = route.param_convertors[key].convert(value)
                return route, params
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self._find(scope["path"], scope["method"])
            if found is not None:
                route, params = found
                # What Starlette's router puts in the scope, for whatever reads it.
                scope["route"] = route
                scope["endpoint"] = route.endpoint
                scope["path_params"] = params
                await route.app(scope, receive, send)
                return
        await self.app(scope, receive, send)
