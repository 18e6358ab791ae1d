"""The /system routes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from kisalert.http.endpoint import Call
from kisalert.http.records import render_one
from kisalert.http.responses import json_response, text_response
from kisalert.service import Service
from kisalert.timestamps import to_micros


async def timestamp(service: Service, call: Call) -> Response:
    now_us = to_micros(service.clock.now())
    record = {
        "kismet.system.timestamp.sec": now_us // 1_000_000,
        "kismet.system.timestamp.usec": now_us % 1_000_000,
    }
    return json_response(render_one(record, call.fmt, call.command.args))


async def healthz(service: Service, request: Request) -> Response:
    """For load balancers and supervisors, with no login: `ok`, or 503 and why not.

    Unhealthy means raises are being refused: the alert log cannot be written, or
    the Redis that several servers share is away.
    """
    log = service.log
    if log is not None and log.failure is not None:
        return text_response(f"unhealthy: {log.failure}", 503)
    away = service.store_away()
    if away is not None:
        return text_response(f"unhealthy: {away}", 503)
    return text_response("ok")
