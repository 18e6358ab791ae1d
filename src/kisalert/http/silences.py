"""The /forward/silences routes (admin): make, list and expire silences."""

from __future__ import annotations

from starlette.responses import Response

from kisalert import serializers
from kisalert.errors import Unavailable
from kisalert.forward.silences import ID, Silence, SilenceError, from_command
from kisalert.http.endpoint import Call
from kisalert.http.errors import HttpError, bad_request
from kisalert.http.records import plain_array
from kisalert.http.responses import json_response
from kisalert.service import Service


async def listing(service: Service, call: Call) -> Response:
    await service.forwarding.refresh()  # the hits the forwarding process counted
    now = service.clock.now()
    records = [silence.record(now) for silence in service.silences.all(now)]
    return json_response(plain_array(records, call.fmt, call.command.args))


async def create(service: Service, call: Call) -> Response:
    now = service.clock.now()
    try:
        silence = from_command(call.command.args, call.principal.name, now)
        service.silences.add(silence, now)
    except SilenceError as exc:
        raise bad_request(str(exc)) from None
    try:
        await _keep(service, silence)
    except HttpError:
        service.silences.discard(silence.id)
        raise
    return json_response(serializers.obj(silence.record(now), "json"))


async def expire(service: Service, call: Call) -> Response:
    text = call.request.path_params["id"]
    silence = service.silences.get(text) if ID.fullmatch(text) else None
    if silence is None:
        raise HttpError(404, f"no silence {text!r}")
    now = service.clock.now()
    try:
        service.silences.expire(silence, now)
    except SilenceError as exc:
        raise HttpError(409, str(exc)) from None
    await _keep(service, silence)
    await service.tidy_silences()  # at once: expiring in a loop must not pile them up
    return json_response(serializers.obj(silence.record(now), "json"))


async def _keep(service: Service, silence: Silence) -> None:
    try:
        await service.store.put_silence(silence)
    except Unavailable as exc:
        # An expiry is in force on this server all the same, until it restarts.
        raise HttpError(503, str(exc)) from None
