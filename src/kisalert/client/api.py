"""Requests to the server's alert API, and the one-line errors a command prints."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

from kisalert.client.settings import Settings

TIMEOUT = 30.0


class ClientError(Exception):
    """A request failed; str() is one line: what was asked and what the server said."""


class Api:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._headers: dict[str, str] = {"User-Agent": "kisalert-client"}
        if settings.api_key is not None:
            # Kismet and kisalert both take an API key as the KISMET cookie.
            self._headers["Cookie"] = f"KISMET={settings.api_key}"
        elif settings.user is not None:
            pair = f"{settings.user}:{settings.password or ''}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        self._tls = self.tls_context()

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.settings.server.startswith("https:"):
            return None
        return ssl.create_default_context(cafile=self.settings.ca_file)

    @property
    def headers(self) -> dict[str, str]:
        return dict(self._headers)

    def get(self, path: str) -> Any:
        """The decoded JSON answer of GET `path`."""
        request = urllib.request.Request(self._url(path), method="GET")
        data = self._send(request)
        try:
            return json.loads(data)
        except ValueError:
            raise ClientError(f"GET {request.full_url}: the answer is not JSON") from None

    def command(self, path: str, args: dict[str, Any]) -> str:
        """POST `args` as Kismet's `json=` form to a `.cmd` route; the answer's text."""
        body = urlencode({"json": json.dumps(args)}).encode()
        request = urllib.request.Request(self._url(path), data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        return self._send(request).decode("utf-8", "replace")

    def _url(self, path: str) -> str:
        return self.settings.server + quote(path, safe="/.-_~")

    def _send(self, request: urllib.request.Request) -> bytes:
        for name, value in self._headers.items():
            request.add_header(name, value)
        where = f"{request.get_method()} {request.full_url}"
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT, context=self._tls) as answer:
                data: bytes = answer.read()
                return data
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace").strip() or exc.reason
            raise ClientError(f"{where}: {exc.code} {one_line(str(text))}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"{where}: {reason}") from None


def one_line(text: str) -> str:
    """The server's words as they are (Kismet's texts have double spaces), on one line."""
    return " ".join(part.strip() for part in text.strip().splitlines())
