"""Building responses: JSON answers, plain-text errors, no caching."""

from __future__ import annotations

from starlette.responses import Response

NO_CACHE = {"Cache-Control": "no-cache"}
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"

_NO_CACHE = (b"cache-control", b"no-cache")
_JSON_TYPE = (b"content-type", JSON.encode())
_TEXT_TYPE = (b"content-type", TEXT.encode())


class Answer(Response):
    """A complete body with kisalert's headers, made without `Response.__init__`.

    Every API answer is one of these; building the headers by hand saves a raise a
    tenth of its framework overhead. They are the headers, in the order, that
    `Response(body, status, headers=NO_CACHE, media_type=...)` gives
    (tests/http/test_fast_path.py holds them to it).
    """

    def __init__(self, body: bytes, status: int, content_type: tuple[bytes, bytes]) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = [_NO_CACHE, (b"content-length", b"%d" % len(body)), content_type]


def json_response(body: bytes, status: int = 200) -> Response:
    return Answer(body, status, _JSON_TYPE)


# Every character str.splitlines() breaks at. Reasons may quote what a client sent
# (an unknown alert name), and a client may read the answer as lines.
_LINE_BREAKS = {
    ord(c): f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"
    for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
}


def text_response(text: str, status: int = 200) -> Response:
    """One line of text, ending in a newline: line breaks inside are escaped."""
    line = text.rstrip("\n").translate(_LINE_BREAKS)
    return Answer((line + "\n").encode(), status, _TEXT_TYPE)


def empty_json(status: int) -> Response:
    """Kismet's `{}` answer for a missing alert or an unreadable path timestamp."""
    return Answer(b"{}", status, _JSON_TYPE)
