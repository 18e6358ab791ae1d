"""Building responses: JSON answers, plain-text errors, no caching."""

from __future__ import annotations

from starlette.responses import Response

NO_CACHE = {"Cache-Control": "no-cache"}
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


def json_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status, headers=NO_CACHE, media_type=JSON)


def text_response(text: str, status: int = 200) -> Response:
    """One line of text, ending in a newline."""
    return Response(text.rstrip("\n") + "\n", status, headers=NO_CACHE, media_type=TEXT)


def empty_json(status: int) -> Response:
    """Kismet's `{}` answer for a missing alert or an unreadable path timestamp."""
    return Response(b"{}", status, headers=NO_CACHE, media_type=JSON)
