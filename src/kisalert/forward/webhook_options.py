"""A `type=webhook` line's own options, checked at config time.

No message here repeats the url=, a header value or the secret: webhook URLs carry
their token in the path, and these lines end up in logs and on terminals.
"""

from __future__ import annotations

import re
import ssl
import urllib.parse
from dataclasses import dataclass

from kisalert.forward.base import SpecError
from kisalert.forward.http1 import Target
from kisalert.forward.peer import split_url, tls_context

# RFC 9110 5.1: a field name is a token.
FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# What kisalert sets itself: a custom header may not change the framing or the
# signature's meaning.
RESERVED = frozenset(
    {"host", "content-type", "content-length", "transfer-encoding", "connection"}
    | {"x-kisalert-signature"}
)


@dataclass(frozen=True, slots=True)
class Options:
    url: str
    where: str  # scheme://host:port, to name the peer without its token
    json_format: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    secret: bytes | None = None
    ssl_context: ssl.SSLContext | None = None

    def scrub(self, text: str) -> str:
        """`text` (an error, a peer's answer) without the URL's path, query or
        password, the secret or a header value, should it echo one."""
        parts = urllib.parse.urlsplit(self.url)
        text = text.replace(self.url, self.where)
        secrets = [parts.path, parts.query, parts.password or "", *dict(self.headers).values()]
        if self.secret is not None:
            secrets.append(self.secret.decode())
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 4:  # shorter ones are no secret, and would mangle the text
                text = text.replace(secret, "…")
        return text


def parse_url(text: str) -> tuple[str, str]:
    """The url and its `where`. Raises SpecError, without repeating it."""
    url = text.strip()
    parts = split_url("url", url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise SpecError("url= must start with http:// or https://")
    try:
        port = parts.port
    except ValueError:
        raise SpecError(f"url= is not a usable {scheme}:// URL") from None
    if not parts.hostname:
        raise SpecError("url= names no host")
    try:
        Target.parse(url)
    except ValueError:
        raise SpecError(f"url= is not a usable {scheme}:// URL") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return url, f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def parse_headers(text: str) -> tuple[tuple[str, str], ...]:
    """`Name: value|Name: value`, as `http_headers=` gives them."""
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in text.split("|"):
        if not entry.strip():
            continue
        name, colon, value = entry.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not FIELD_NAME.fullmatch(name):
            raise SpecError("http_headers needs Name: value entries separated by '|'")
        if name.lower() in RESERVED:
            raise SpecError(f"http_headers may not set {name}: kisalert sets it")
        if name.lower() in seen:
            raise SpecError(f"http_headers gives {name} twice")
        if not value.isascii() or not all(c.isprintable() for c in value):
            raise SpecError(f"http_headers: the value of {name} must be printable ASCII")
        seen.add(name.lower())
        headers.append((name, value))
    if not headers:
        raise SpecError("http_headers needs Name: value entries separated by '|'")
    return tuple(headers)


def parse_options(options: dict[str, str]) -> Options:
    url, where = parse_url(options["url"])
    fmt = options.get("format", "json").lower()
    if fmt not in ("json", "text"):
        raise SpecError(f"format={fmt!r}: use json or text")
    secret = options.get("secret")
    if secret is not None and not secret:
        raise SpecError("secret= is empty: give the shared secret, or leave it out")
    headers = options.get("http_headers")
    return Options(
        url,
        where,
        fmt == "json",
        parse_headers(headers) if headers is not None else (),
        secret.encode() if secret is not None else None,
        tls_context(options, url.split(":", 1)[0].lower() == "https", "an https:// url="),
    )
