"""The /session routes: checking a login, and setting the admin password."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from kisalert.auth import ADMIN
from kisalert.http.command import read_command
from kisalert.http.endpoint import Call, authenticate
from kisalert.http.errors import HttpError
from kisalert.http.responses import text_response
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
    if service.login.username is not None:
        principal, _ = await authenticate(service, request)
        if not principal.may(ADMIN):
            raise HttpError(403, "Forbidden: this needs the admin role")
    command = await read_command(request)
    username = command.variables.get("username") or command.args.get("username")
    password = command.variables.get("password") or command.args.get("password")
    if not (isinstance(username, str) and isinstance(password, str) and username and password):
        raise HttpError(400, "Invalid request: username and password are required")
    # Hashing takes tens of milliseconds: keep it off the event loop.
    try:
        await asyncio.to_thread(service.login.set_password, username, password)
    except StoreError as exc:
        raise HttpError(503, f"Login not changed: {exc}") from None
    return text_response("Login configured")
