"""Refusing requests a browser makes on another site's behalf (cross-site request
forgery, and cross-site websocket hijacking).

A browser attaches the `KISMET` cookie, and cached Basic credentials, to requests
that any page it shows may start. What changes state (every POST) and the eventbus
websocket (which the same-origin policy does not guard) are therefore refused when
the browser says they come from another origin, unless `httpd_allow_cors` lets that
origin in. Browsers say so in `Sec-Fetch-Site`, which a reverse proxy leaves intact,
and older ones only in `Origin`, compared with `Host`. Clients other than browsers
(curl, kismet-rest) send neither and are not affected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from kisalert.config import Config
from kisalert.http.scope import header

REFUSED = "Forbidden: cross-site request (this page's origin may not use this server)"
_SAME = ("same-origin", "none")


def cross_site(request: HTTPConnection, config: Config) -> bool:
    """Whether a browser sent this request for a page of another origin that CORS
    does not allow."""
    origin = site = None
    # One pass over the headers: this runs on every raise.
    for key, value in request.scope["headers"]:
        if key == b"origin":
            origin = value.decode("latin-1")
        elif key == b"sec-fetch-site":
            site = value.decode("latin-1")
    if site is not None:
        if site in _SAME:
            return False
    elif origin is None:
        return False
    elif origin != "null":
        host = header(request, b"host")
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:
            netloc = None
        if host is not None and netloc is not None and netloc.lower() == host.lower():
            return False
    return not (
        config.allow_cors
        and origin is not None
        and (config.allowed_origin is None or origin == config.allowed_origin)
    )
