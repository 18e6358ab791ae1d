"""uvicorn's `websockets` protocol, made to take any bytes in a websocket upgrade request.

The legacy `websockets` handshake decodes header values with `surrogateescape`, while
uvicorn expects them as ISO-8859-1 (what `websockets` 17 documents for its new
implementation) and re-encodes them so: a single byte over 0x7F in any header ended
in a 500 and a traceback. Here such values are turned back into ISO-8859-1 text, as
the HTTP routes see them, so the request goes on to authentication like any other.
A request line that is not ASCII cannot be a URL and is answered 400.
"""

from __future__ import annotations

import http
import warnings

from websockets.datastructures import Headers
from websockets.legacy.server import HTTPResponse

# Chosen on purpose (see serve.py): importing it is what warns.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The `websockets` implementation is deprecated")
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol

_ESCAPED = range(0xDC80, 0xDD00)  # surrogateescape's stand-ins for the bytes 0x80-0xFF


def latin1(value: str) -> str:
    """`value` with each `surrogateescape` stand-in replaced by the byte's ISO-8859-1
    character."""
    if value.isascii():
        return value
    return "".join(chr(ord(c) - 0xDC00) if ord(c) in _ESCAPED else c for c in value)


def refusal(status: http.HTTPStatus, text: str) -> HTTPResponse:
    body = f"{text}\n".encode()
    headers = Headers(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
    )
    return status, headers, body


class SafeWebSocketProtocol(WebSocketProtocol):
    async def process_request(self, path: str, request_headers: Headers) -> HTTPResponse | None:
        # httptools refuses such a request line first today; this holds if it stops.
        if not path.isascii():
            return refusal(http.HTTPStatus.BAD_REQUEST, "Invalid request: the URL is not ASCII")
        headers = Headers()
        for name, value in request_headers.raw_items():
            value = latin1(value)
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:  # not from decoding bytes: nothing to pass on
                return refusal(
                    http.HTTPStatus.BAD_REQUEST, f"Invalid request: undecodable header {name}"
                )
            headers[name] = value
        return await super().process_request(path, headers)
