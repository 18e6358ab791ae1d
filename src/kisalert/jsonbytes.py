"""JSON that is kept in memory (alerts, messages).

orjson builds its output in a buffer of at least 8 KiB and returns it without
shrinking it, so a 600-byte alert kept in the backlog would hold 8 KiB. A copy is
exact-sized; it costs one small memcpy per alert, once.
"""

from __future__ import annotations

from typing import Any

import orjson


def kept_json(value: Any) -> bytes:
    """`orjson.dumps(value)` in an object no larger than its content."""
    return memoryview(orjson.dumps(value)).tobytes()
