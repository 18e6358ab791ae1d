"""The /forward routes: each output of `forward=` lines, its state and its counts."""

from __future__ import annotations

from starlette.responses import Response

from kisalert.http.endpoint import Call
from kisalert.http.records import plain_array
from kisalert.http.responses import json_response
from kisalert.service import Service


async def status(service: Service, call: Call) -> Response:
    await service.forwarding.refresh()
    records = service.forwarding.records()
    return json_response(plain_array(records, call.fmt, call.command.args))
