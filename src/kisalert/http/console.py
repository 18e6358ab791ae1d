"""Serving the console: the index page at `/` and its versioned files.

These need no login (the page asks for one); every API route still does. Each
answer carries a strict Content-Security-Policy: the console's own scripts and
styles only, no inline script, no `eval`, connections to this server only, and no
framing, so an alert's attacker-chosen text can never run as code even if it were
ever put into the page as markup.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kisalert.console.assets import Assets
from kisalert.http.responses import text_response

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_SECURITY = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_INDEX_HEADERS = {**_SECURITY, "Cache-Control": "no-cache"}
_ASSET_HEADERS = {**_SECURITY, "Cache-Control": "public, max-age=31536000, immutable"}


def console_routes(assets: Assets) -> list[Route]:
    async def index(request: Request) -> Response:
        return Response(assets.index, headers=_INDEX_HEADERS, media_type="text/html")

    async def static(request: Request) -> Response:
        asset = assets.get(request.path_params["version"], request.path_params["path"])
        if asset is None:
            response = text_response(
                "Not Found: no such console file (the console was updated: reload the page)",
                404,
            )
            response.headers.update(_SECURITY)
            return response
        return Response(asset.body, headers=_ASSET_HEADERS, media_type=asset.content_type)

    return [
        Route("/", index, methods=["GET"]),
        Route("/static/{version}/{path:path}", static, methods=["GET"]),
    ]
