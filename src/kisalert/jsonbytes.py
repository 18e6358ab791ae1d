"""JSON that is kept in memory (alerts, messages).

orjson builds its output in a buffer of at least 8 KiB and returns it without
shrinking it, so a 600-byte alert kept in the backlog would hold 8 KiB. A copy is
exact-sized; it costs one small memcpy per alert, once.

And JSON that clients read as lines (itjson, ekjson) must not hold a character that
a line reader takes for a line break: Python's `str.splitlines()` (which kismet-rest
reads with) breaks at U+0085, U+2028 and U+2029 too, and orjson writes them raw.
"""

from __future__ import annotations

from typing import Any

import orjson

# In UTF-8 these bytes are those characters and nothing else.
_NEL, _LS, _PS = b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9"


def line_safe(data: bytes) -> bytes:
    """orjson's output with U+0085, U+2028 and U+2029 written as JSON escapes: the
    same JSON to any reader, and one line to every line reader."""
    if _NEL in data:
        data = data.replace(_NEL, b"\\u0085")
    if b"\xe2\x80" in data:
        data = data.replace(_LS, b"\\u2028").replace(_PS, b"\\u2029")
    return data


def dumps_line(value: Any) -> bytes:
    """`orjson.dumps(value)`, safe to read as one line."""
    return line_safe(orjson.dumps(value))


def kept_json(value: Any) -> bytes:
    """`orjson.dumps(value)` in an object no larger than its content, line-safe."""
    return line_safe(memoryview(orjson.dumps(value)).tobytes())
