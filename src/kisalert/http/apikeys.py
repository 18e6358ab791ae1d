"""The /auth/apikey routes: making, revoking and listing API keys (admin only)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from kisalert.apikeys import DuplicateKey, UnknownKey, check_duration
from kisalert.credentials import ApiKeyError
from kisalert.http.command import Command, missing
from kisalert.http.endpoint import Call
from kisalert.http.errors import HttpError, bad_request
from kisalert.http.records import plain_array
from kisalert.http.responses import json_response
from kisalert.service import Service


def _arg(command: Command, key: str) -> str:
    if key not in command.args:
        raise missing(command, key)  # not "must be a string": it is not there at all
    value = command.args[key]
    if not isinstance(value, str):
        raise bad_request(f"'{key}' must be a string")
    return value


async def generate(service: Service, call: Call) -> Response:
    args = call.command.args
    name, role = _arg(call.command, "name"), _arg(call.command, "role")
    try:
        duration = check_duration(args.get("duration"))
        token = await service.api_keys.generate(name, role, duration)
    except DuplicateKey as exc:
        raise HttpError(409, str(exc)) from None
    except ApiKeyError as exc:
        raise bad_request(str(exc)) from None
    return json_response(token.encode())


async def revoke(service: Service, call: Call) -> Response:
    try:
        await service.api_keys.revoke(_arg(call.command, "name"))
    except UnknownKey as exc:
        raise HttpError(404, str(exc)) from None
    return json_response(b"revoked\n")


async def listing(service: Service, call: Call) -> Response:
    keys = service.api_keys
    records = []
    for key in await keys.all():
        record: dict[str, Any] = {
            "kismet.httpd.auth.name": key.name,
            "kismet.httpd.auth.role": key.role,
            "kismet.httpd.auth.expiration": int(key.expires),
        }
        if keys.allow_view and key.token is not None:
            record["kismet.httpd.auth.token"] = key.token
        records.append(record)
    return json_response(plain_array(records, call.fmt, call.command.args))
