"""Cross-origin requests: off unless `httpd_allow_cors=true`."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"


class Cors:
    """Answers preflights and adds Access-Control-* headers for allowed origins.

    With `origin` set (`httpd_allowed_origin`), only that origin is allowed;
    otherwise the requesting origin is echoed. Credentials are allowed, so the
    origin is never `*`.
    """

    def __init__(self, app: ASGIApp, origin: str | None) -> None:
        self.app = app
        self.origin = origin

    def _allowed(self, requested: str) -> bool:
        return self.origin is None or requested == self.origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        requested = Headers(scope=scope).get("origin")
        if requested is None or not self._allowed(requested):
            await self.app(scope, receive, send)
            return
        cors = [
            (b"access-control-allow-origin", requested.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS":
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        *cors,
                        (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                        (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                        (b"access-control-max-age", b"600"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
