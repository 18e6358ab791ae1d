"""The /session routes: checking a login, setting the admin password, and the
console's login and logout."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from kisalert import serializers
from kisalert.auth import ADMIN, login_problem
from kisalert.http.command import read_command
from kisalert.http.endpoint import (
    COOKIE,
    Call,
    authenticate,
    password_credentials,
    session_cookie,
    session_token,
)
from kisalert.http.errors import HttpError
from kisalert.http.origin import REFUSED, cross_site
from kisalert.http.responses import json_response, text_response
from kisalert.service import Service
from kisalert.store import StoreError


async def check_session(service: Service, call: Call) -> Response:
    return text_response("Session valid")


async def check_login(service: Service, call: Call) -> Response:
    return text_response("Login valid")


async def check_setup_ok(service: Service, request: Request) -> Response:
    if service.login.from_config:
        return text_response("Login configured in global config", 406)
    return text_response("Login configured in user config")


async def set_password(service: Service, request: Request) -> Response:
    """First run and password change. A login, once it exists, is needed to change it."""
    if service.login.from_config:
        raise HttpError(403, "Login is fixed in a config file")
    if cross_site(request, service.config):
        raise HttpError(403, REFUSED)
    if service.login.username is not None:
        principal, _ = await authenticate(service, request)
        if not principal.may(ADMIN):
            raise HttpError(403, "Forbidden: this needs the admin role")
    command = await read_command(request)
    username = command.variables.get("username") or command.args.get("username")
    password = command.variables.get("password") or command.args.get("password")
    if not (isinstance(username, str) and isinstance(password, str) and username and password):
        raise HttpError(400, "Invalid request: username and password are required")
    problem = login_problem(username, password)
    if problem is not None:
        raise HttpError(400, f"Invalid request: {problem}")
    # Hashing takes tens of milliseconds: keep it off the event loop.
    try:
        await asyncio.to_thread(service.login.set_password, username, password)
    except StoreError as exc:
        raise HttpError(503, f"Login not changed: {exc}") from None
    return text_response("Login configured")


def _whoami(call: Call, fmt: str = "json") -> bytes:
    principal = call.principal
    return serializers.obj({"name": principal.name, "role": principal.role}, fmt)


async def whoami(service: Service, call: Call) -> Response:
    """Who the request's login is: the console's check at start. In the path's format
    (`ekjson` and `itjson`: one line, ended)."""
    return json_response(_whoami(call, call.fmt))


async def login(service: Service, call: Call) -> Response:
    """The console's login: the password (Basic) or an API key (Bearer) in, the
    `KISMET` cookie out. The cookie is always a new one for this login, whatever
    cookie the browser still held."""
    request = call.request
    response = json_response(_whoami(call))
    if password_credentials(request) is not None:
        token = await service.sessions.for_new_login(
            call.principal, login=service.login, stamp=service.login.stamp
        )
    else:
        token = session_token(request) or ""
    response.raw_headers.append((b"set-cookie", session_cookie(token)))
    return response


_CLEARED = f"{COOKIE}=; HttpOnly; Path=/; SameSite=strict; Max-Age=0".encode("latin-1")


async def logout(service: Service, call: Call) -> Response:
    """Ends the request's session (an API key lives on: revoking it is another
    thing) and clears the cookie."""
    token = session_token(call.request)
    if token:
        await service.sessions.end(token)
    response = text_response("Logged out")
    response.raw_headers.append((b"set-cookie", _CLEARED))
    return response
