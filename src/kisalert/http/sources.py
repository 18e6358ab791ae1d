"""The /sources route: the WIDS engine's capture sources, what each is doing and what
it has read (kisalert's own; Kismet's datasources are another record)."""

from __future__ import annotations

from starlette.responses import Response

from kisalert.http.endpoint import Call
from kisalert.http.records import plain_array
from kisalert.http.responses import json_response
from kisalert.service import Service


async def all_sources(service: Service, call: Call) -> Response:
    records = [source.record() for source in service.sources.running]
    return json_response(plain_array(records, call.fmt, call.command.args))
