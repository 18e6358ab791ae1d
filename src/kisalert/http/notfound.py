"""What a 404 says: where the API lives, and the route a mistyped path most likely meant.

The status and type stay the spec's (404, one line of plain text); only the line is
more useful than `Not Found`. Route names are public documentation, so naming them
tells a client without a login nothing a login protects. Nothing the client sent is
echoed back.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from kisalert import __version__

# serializers.FORMATS, in the spec's order.
FORMATS_TEXT = "json, itjson, ekjson or prettyjson"
# A 404 compares at most this much of a path with the routes: its cost stays bounded
# however long a path a client sends.
MAX_PATH = 256
# How alike a path and a route must be (difflib's ratio) for the route to be named.
CUTOFF = 0.6
# Routes whose likeness is this close to the best one's are named too (at most 2).
TIE = 0.05
# How many routes, picked by a cheap bound, are compared in full.
SHORTLIST = 8
_FMT = ".{fmt}"
# A path segment made of digits, as timestamps and alert ids are: stands for any value.
_NUMBER = re.compile(r"[-+]?[0-9][0-9.]*")
# The routes a newcomer reads first.
_START = ("/alerts/definitions.json", "/alerts/all_alerts.json")


class _Route:
    """One route as a 404 compares paths with it: its key (the template without its
    format, parameters as `*`) and the key's last segment, each held by a matcher that
    has indexed it already, so that a 404 only indexes the path."""

    __slots__ = ("has_fmt", "key", "leaf", "shown")

    def __init__(self, template: str, prefix: str) -> None:
        self.shown = prefix + template  # as an answer names it
        self.has_fmt = template.endswith(_FMT)
        if self.has_fmt:
            template = template[: -len(_FMT)]
        key = "/".join("*" if part.startswith("{") else part for part in template.split("/"))
        self.key = _matcher(key)
        self.leaf = _matcher(key.rpartition("/")[2])

    def bound(self, key: str) -> float:
        """An upper bound of how alike `key` is to this route's key: from the lengths
        alone when that is below CUTOFF, else from the characters."""
        matcher = self.key
        matcher.set_seq1(key)
        bound = matcher.real_quick_ratio()
        return bound if bound < CUTOFF else matcher.quick_ratio()

    def likeness(self, key: str) -> float:
        """How alike `key` (after `bound`) is to this route's, 0 to 1: the mean of the
        whole key's likeness and the last segment's, which tells routes in one folder
        apart."""
        leaf = self.leaf
        leaf.set_seq1(key.rpartition("/")[2])
        return (self.key.ratio() + leaf.ratio()) / 2


def _matcher(text: str) -> difflib.SequenceMatcher[str]:
    matcher: difflib.SequenceMatcher[str] = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(text)
    return matcher


def _path_keys(path: str) -> tuple[str, str]:
    """A request path's keys: (without its last extension, as it is); numbers as `*`."""
    segments = ["*" if _NUMBER.fullmatch(part) else part for part in path.split("/")]
    full = "/".join(segments)
    last = segments[-1]
    if "." in last and last != "*":
        segments[-1] = last.rsplit(".", 1)[0]
    return "/".join(segments), full


class NotFoundHints:
    """The line a 404 answers with, from the server's own route table."""

    def __init__(
        self, templates: Iterable[str], prefix: str, websocket: str, console: bool = True
    ) -> None:
        self.prefix = prefix
        self.console = console
        self._websocket = websocket
        self.websocket = prefix + websocket
        self._routes = [_Route(t, prefix) for t in dict.fromkeys([*templates, websocket])]
        areas = [f"{prefix}/alerts/", f"{prefix}/messagebus/", f"{prefix}/system/"]
        self._areas = ", ".join([*areas, self.websocket])
        self._start = ", ".join(prefix + path for path in _START)

    def root(self) -> str:
        """For `/` when it is not the console: where the console and the API are."""
        where = (
            f"the console is at {self.prefix}/"
            if self.console
            else "the console is off here (httpd_console=false)"
        )
        return (
            f"kisalert {__version__}: {where}; the API lives under {self._areas};"
            f" see {self._start} (log in with HTTP Basic)"
        )

    def closest(self, path: str) -> list[_Route]:
        """The routes `path` most likely meant, best first (none if nothing is alike)."""
        stripped, full = _path_keys(path[:MAX_PATH])
        bounds = []
        for route in self._routes:
            key = stripped if route.has_fmt else full
            bound = route.bound(key)
            if bound >= CUTOFF:
                bounds.append((bound, key, route))
        # difflib's full ratio costs ten times its bound: only for the likeliest few.
        bounds.sort(key=lambda item: -item[0])
        scored = []
        for _, key, route in bounds[:SHORTLIST]:
            route.bound(key)  # the matcher holds the path again
            likeness = route.likeness(key)
            if likeness >= CUTOFF:
                scored.append((likeness, route))
        if not scored:
            return []
        best = max(ratio for ratio, _ in scored)
        near = [(ratio, route) for ratio, route in scored if ratio >= best - TIE]
        near.sort(key=lambda item: -item[0])  # stable: ties keep the table's order
        return [route for _, route in near[:2]]

    def for_path(self, path: str, unprefixed: bool = False) -> str:
        """The line for a path no route matched. `unprefixed`: the path was outside
        `httpd_uri_prefix`, so it is shown the routes under the prefix."""
        if path in ("/", ""):
            return self.root()
        where = f" (this server's API is under {self.prefix}/)" if unprefixed else ""
        if path == self._websocket and not unprefixed:
            return f"Not Found; {self.websocket} takes websocket connections only"
        routes = self.closest(path)
        if not routes:
            return (
                f"Not Found{where}; the API lives under {self._areas};"
                f" see {self._start} (log in with HTTP Basic)"
            )
        names = " or ".join(route.shown for route in routes)
        formats = f" ({{fmt}} is {FORMATS_TEXT})" if any(route.has_fmt for route in routes) else ""
        return f"Not Found{where}; did you mean {names}?{formats}"

    def for_websocket(self) -> str:
        """The line for a websocket opened at a path other than the eventbus's."""
        return f"Not Found; the eventbus websocket is {self.websocket}"


def unknown_format(prefix: str, template: str | None) -> str:
    """The line for a route asked for in a format it does not have."""
    if template is None or not template.endswith(_FMT):
        return f"Not Found: unknown format; formats are {FORMATS_TEXT}"
    return (
        f"Not Found: unknown format; {prefix}{template} takes {{fmt}} = {FORMATS_TEXT}"
        f", e.g. {prefix}{template[: -len(_FMT)]}.json"
    )
