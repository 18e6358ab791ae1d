"""Wrapping route handlers: output format, login and role, the command dictionary,
and turning errors into the spec's statuses."""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from kisalert.auth import Principal
from kisalert.config import IpNetwork
from kisalert.errors import AlertError
from kisalert.http.command import Command, read_command
from kisalert.http.errors import HttpError, status_of
from kisalert.http.notfound import unknown_format
from kisalert.http.origin import REFUSED, cross_site
from kisalert.http.responses import empty_json, text_response
from kisalert.http.scope import header, header_values
from kisalert.serializers import FORMATS
from kisalert.service import Service

COOKIE = "KISMET"
# What a 401 says. Wrong user and wrong password get one text (no user-name oracle).
LOGIN_FAILED = "Login failed: wrong user name or password"
LOGIN_TOKEN_REFUSED = "Login required: the API key or session is unknown, revoked or expired"
LOGIN_HEADER_UNREADABLE = (
    "Login required: unreadable Authorization header;"
    " send Basic <base64 of user:password> or Bearer <API key>"
)
LOGIN_MISSING = (
    "Login required: send HTTP Basic auth, an API key (Authorization: Bearer)"
    " or the KISMET session cookie"
)
# The scope key where `authenticate` leaves the login's name, for the access log.
USER_KEY = "kisalert.user"


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated API request, ready for a handler."""

    request: Request
    command: Command
    fmt: str
    principal: Principal


Handler = Callable[[Service, Call], Awaitable[Response]]


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # A header is read as Latin-1: a byte above 0x7F is no base64 (ValueError).
        raw = base64.b64decode(value.strip().encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        # RFC 7617 leaves the charset open, and python-requests sends Latin-1.
        decoded = raw.decode("latin-1")
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


# Every API request passes through these: they parse the cookie and query string
# only when the request has one.


def _query_credentials(request: HTTPConnection) -> tuple[str, str] | None:
    """User and password from `?user=&password=`, if the request has them."""
    if request.scope.get("query_string"):
        query = request.query_params
        if "user" in query:
            return query["user"], query.get("password", "")
    return None


def password_credentials(request: HTTPConnection) -> tuple[str, str] | None:
    """User and password from Basic auth or `?user=&password=`, if the request has them."""
    authorization = header(request, b"authorization")
    credentials = _basic(authorization) if authorization else None
    return credentials if credentials is not None else _query_credentials(request)


def session_token(request: HTTPConnection) -> str | None:
    authorization = header(request, b"authorization")
    if authorization is not None and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    token = request.cookies.get(COOKIE) if header(request, b"cookie") is not None else None
    if not token and request.scope.get("query_string"):
        token = request.query_params.get(COOKIE)
    return token or None


def client_address(request: HTTPConnection, trusted: tuple[IpNetwork, ...]) -> str:
    """The address a login attempt comes from: the direct peer, or behind trusted
    proxies the rightmost `X-Forwarded-For` address that is not one of them (the
    addresses left of it are whatever the client chose to send)."""
    peer = request.client.host if request.client else ""
    if not trusted:
        return peer
    forwarded = [
        hop.strip()
        for value in header_values(request, b"x-forwarded-for")
        for hop in value.split(",")
    ]
    client = peer
    for hop in reversed(forwarded):
        try:
            current = ipaddress.ip_address(client)
        except ValueError:
            break
        if not any(current in network for network in trusted):
            break
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:  # not an address: the proxy it came through answers for it
            break
    return client


@functools.lru_cache(maxsize=1024)
def session_cookie(token: str) -> bytes:
    """The Set-Cookie value for a session: built once per session, not per response."""
    return f"{COOKIE}={token}; HttpOnly; Path=/; SameSite=strict".encode("latin-1")


class RecentLogins:
    """Basic-auth headers that logged in moments ago, and the session each got.

    Most clients send Basic auth on every request and never return the cookie: for
    them, checking the password and finding their session again cost a raise more
    than the raise itself. A header seen within `HOLD` seconds, while the password
    is still the one it was checked against, is taken at once; what changes a
    session's fate (its expiry, a new password) ends the entry too. Entries are
    few, short-lived and the headers are kept only as long as that.
    """

    HOLD = 1.0
    MAX = 256

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Principal, str, bytes, float]] = {}

    def get(self, authorization: str, stamp: bytes, now: float) -> tuple[Principal, str] | None:
        entry = self._entries.get(authorization)
        if entry is None:
            return None
        principal, token, made_with, until = entry
        if now >= until or made_with != stamp:
            del self._entries[authorization]
            return None
        return principal, token

    def put(
        self, authorization: str, principal: Principal, token: str, stamp: bytes, until: float
    ) -> None:
        entries = self._entries
        if len(entries) >= self.MAX:
            entries.clear()  # bounded; a burst of distinct logins just starts over
        entries[authorization] = (principal, token, stamp, until)


async def authenticate(
    service: Service, request: HTTPConnection, recent: RecentLogins | None = None
) -> tuple[Principal, str | None]:
    """The caller, and a new session token to set as a cookie (or None).

    Credentials win over tokens: a request with a wrong password is refused even
    if it also carries a valid session.
    """
    token = session_token(request)
    session = await service.principal_for_token(token) if token else None
    authorization = header(request, b"authorization")
    credentials = _basic(authorization) if authorization else None
    if credentials is None:
        authorization = None  # not Basic: nothing to remember it by
        credentials = _query_credentials(request)
    if credentials is not None:
        client = client_address(request, service.config.trusted_proxies)
        guard = service.login_guard
        login = service.login
        # Before the check: a password changed during it must not stamp a session
        # made with the old one as current.
        stamp = login.stamp
        known = (
            recent.get(authorization, stamp, service.clock.now())
            if recent is not None and authorization is not None
            else None
        )
        # Known credentials need no slow check; a client locked out is refused even
        # so, or the right password would tell itself among the guesses.
        principal = known[0] if known is not None else login.recall(*credentials)
        # Unknown ones are counted before the slow check, so concurrent guesses
        # cannot all get past it; but the very same credentials already being
        # checked only wait for that answer (20 scripts starting at once with the
        # right password got ten 429s, "Too many failed logins", without one).
        shared = principal is None and login.in_flight(*credentials)
        counted = principal is None and not shared
        wait = guard.reserve(client) if counted else guard.retry_after(client)
        if wait is not None:
            retry = {"Retry-After": str(math.ceil(wait))}
            raise HttpError(429, "Too many failed logins", headers=retry)
        if principal is None:
            principal = await login.check(*credentials)
            if principal is None:
                raise HttpError(401, LOGIN_FAILED)
            if counted:
                guard.succeeded(client)
        request.scope[USER_KEY] = principal.name
        if session is not None:
            return principal, None
        if known is not None:
            return principal, known[1]
        token = await service.sessions.for_login(
            principal, *credentials, login=service.login, stamp=stamp
        )
        if recent is not None and authorization is not None:
            until = min(service.clock.now() + recent.HOLD, await service.sessions.expiry(token))
            recent.put(authorization, principal, token, stamp, until)
        return principal, token
    if session is not None:
        request.scope[USER_KEY] = session.name
        return session, None
    if token:
        # One text for a key or session that never existed, was revoked or has
        # expired: which of them it was would tell a guesser too much.
        raise HttpError(401, LOGIN_TOKEN_REFUSED)
    if header(request, b"authorization") is not None:
        raise HttpError(401, LOGIN_HEADER_UNREADABLE)
    raise HttpError(401, LOGIN_MISSING)


def error_response(exc: HttpError | AlertError) -> Response:
    if isinstance(exc, HttpError):
        if exc.json_body:
            return empty_json(exc.status)
        response = text_response(exc.text, exc.status)
        if exc.headers:
            response.headers.update(exc.headers)
        return response
    return text_response(str(exc), status_of(exc))


class Endpoint:
    """An API route's ASGI app: output format, login and role, the command dictionary,
    the handler, and errors as the spec's statuses. Being an ASGI app rather than a
    request function, Starlette calls it without its request adapter, and
    `ApiRoutes` calls it directly."""

    __slots__ = ("handler", "recent", "role", "service")

    def __init__(
        self, service: Service, role: str, handler: Handler, recent: RecentLogins | None = None
    ) -> None:
        self.service = service
        self.role = role
        self.handler = handler
        self.recent = recent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.run(Request(scope, receive, send))
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def run(self, request: Request) -> Response:
        fmt = request.path_params.get("fmt", "json")
        if fmt not in FORMATS:
            route = request.scope.get("route")
            template = route.path if isinstance(route, Route) else None
            text = unknown_format(self.service.config.uri_prefix, template)
            return text_response(text, 404)
        service = self.service
        if request.scope["method"] == "POST" and cross_site(request, service.config):
            return text_response(REFUSED, 403)
        try:
            principal, new_session = await authenticate(service, request, self.recent)
            if not principal.may(self.role):
                raise HttpError(403, f"Forbidden: this needs the {self.role} role")
            command = await read_command(request)
            response = await self.handler(service, Call(request, command, fmt, principal))
        except (HttpError, AlertError) as exc:
            return error_response(exc)
        if new_session is not None:
            headers = response.raw_headers
            # A handler that sets the cookie itself (login, logout) has the last word.
            if not any(name == b"set-cookie" for name, _ in headers):
                headers.append((b"set-cookie", session_cookie(new_session)))
        return response
