"""The API's route table as the server builds it, for tests that must cover every
route (the fuzz, the roles): a route added later fails them until it is covered."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from prometheus_client import CollectorRegistry
from starlette.routing import Route

from kisalert.http.app import routes
from kisalert.service import Service


def api_routes() -> list[Route]:
    # Building the table reads only this of the service; no server is started.
    service = cast(Service, SimpleNamespace(config=SimpleNamespace(metrics_public=False)))
    return [route for route in routes(service, CollectorRegistry()) if isinstance(route, Route)]
