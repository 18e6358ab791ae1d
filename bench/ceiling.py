"""The ceiling for bench/raise_throughput.py: a bare ASGI app on kisalert's own server stack.

It reads the request body and answers every request 200 with the body a raise
answers, on the same uvicorn protocol classes, settings and event loop as `kisalert
serve` (`kisalert.serve.server_config`), so the difference between the two is
kisalert's own work per request.

    .venv/bin/python bench/ceiling.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kisalert.serve import bind, run_loop, server_config

START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"13")],
}
BODY: Message = {"type": "http.response.body", "body": b"Alert raised\n"}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    await send(START)
    await send(BODY)


def serve_app(asgi: ASGIApp, port: int) -> None:
    """Serve `asgi` on 127.0.0.1:`port` on kisalert's server stack until stopped."""
    sock = bind("127.0.0.1", port)
    server = uvicorn.Server(server_config(asgi, None, None))

    async def serve() -> None:
        await server.serve(sockets=[sock])

    run_loop(serve)


def main() -> None:
    serve_app(app, int(sys.argv[1]))


if __name__ == "__main__":
    main()
