"""The /messagebus routes."""

from __future__ import annotations

from starlette.responses import Response

from kisalert import serializers
from kisalert.fields import simplifier
from kisalert.http.endpoint import Call
from kisalert.http.errors import HttpError
from kisalert.http.records import render
from kisalert.http.responses import json_response
from kisalert.service import Service
from kisalert.timestamps import parse_path_timestamp, resolve


async def all_messages(service: Service, call: Call) -> Response:
    return json_response(render(await service.messages(), call.fmt, call.command.args))


async def last_time(service: Service, call: Call) -> Response:
    ts = parse_path_timestamp(call.request.path_params["ts"])
    if ts is None:
        raise HttpError(400, "{}", json_body=True)
    now = service.clock.now()
    after = resolve(ts, now)
    messages = [m for m in await service.messages() if m.time > after]
    simplify = simplifier(call.command.args.get("fields"))
    body = {
        "kismet.messagebus.list": [simplify(m.record) if simplify else m.record for m in messages],
        "kismet.messagebus.timestamp": int(now),
    }
    return json_response(serializers.obj(body, call.fmt))
