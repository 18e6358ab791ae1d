"""Reading a request's headers straight from the ASGI scope.

Every API request reads a few headers (login, body length and type). Starlette's
`request.headers` builds a multi-dict of all of them first, which costs more than
the few lookups a request needs.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection


def header(request: HTTPConnection, name: bytes) -> str | None:
    """The first value of header `name` (lower case, as ASGI gives names), if any."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def header_values(request: HTTPConnection, name: bytes) -> list[str]:
    """Every value of header `name`, in the order the request sent them."""
    return [value.decode("latin-1") for key, value in request.scope["headers"] if key == name]
