"""The /system routes."""

from __future__ import annotations

from starlette.responses import Response

from kisalert.http.endpoint import Call
from kisalert.http.records import render_one
from kisalert.http.responses import json_response
from kisalert.service import Service
from kisalert.timestamps import to_micros


async def timestamp(service: Service, call: Call) -> Response:
    now_us = to_micros(service.clock.now())
    record = {
        "kismet.system.timestamp.sec": now_us // 1_000_000,
        "kismet.system.timestamp.usec": now_us % 1_000_000,
    }
    return json_response(render_one(record, call.fmt, call.command.args))
