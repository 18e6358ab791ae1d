"""The console's files, loaded once at start and named by a hash of their contents.

Assets are served under `static/<version>/`, where the version is a hash of every
file: a browser may keep them for a year, and a new release is new URLs. Only
`index.html` is fetched each time; its `{{base}}` and `{{version}}` are filled in
here, once.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

STATICS = "statics"
INDEX = "index.html"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str


def _walk(folder: Traversable, prefix: str = "") -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.is_dir():
            files.update(_walk(entry, name + "/"))
        elif not entry.name.startswith("."):
            files[name] = entry.read_bytes()
    return files


class Assets:
    """The console as served: the filled-in index page and the versioned files."""

    def __init__(self, files: dict[str, bytes], base: str) -> None:
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name] + b"\0")
        self.version = digest.hexdigest()[:16]
        template = files.get(INDEX, b"").decode()
        self.index = (
            template.replace("{{base}}", html.escape(base, quote=True))
            .replace("{{version}}", self.version)
            .encode()
        )
        self.files = {
            name: Asset(body, TYPES.get(_suffix(name), "application/octet-stream"))
            for name, body in files.items()
            if name != INDEX and _suffix(name) in TYPES
        }

    @classmethod
    def packaged(cls, uri_prefix: str) -> Assets:
        """The console shipped in the package, for a server under `uri_prefix`."""
        folder = resources.files("kisalert.console").joinpath(STATICS)
        return cls(_walk(folder), uri_prefix + "/")

    def get(self, version: str, path: str) -> Asset | None:
        """The file at `static/<version>/<path>`; None for another version or no file."""
        if version != self.version:
            return None
        return self.files.get(path)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > name.rfind("/") else ""
