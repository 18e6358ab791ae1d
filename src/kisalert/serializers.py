"""The four output formats: json, itjson, ekjson and prettyjson.

Alerts and messages carry their JSON bytes, serialized once when they were made;
json and itjson answers are joined from those bytes without re-encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from kisalert.field_docs import FIELD_DOCS
from kisalert.jsonbytes import dumps_line

FORMATS = frozenset({"json", "itjson", "ekjson", "prettyjson"})


def ek_keys(value: Any) -> Any:
    """ekjson: every `.` in a key becomes `_`."""
    if isinstance(value, dict):
        return {key.replace(".", "_"): ek_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [ek_keys(item) for item in value]
    return value


def described(value: Any, docs: dict[str, str] | None = None) -> Any:
    """prettyjson: each record key `k` is preceded by `description.k`."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            doc = (docs or FIELD_DOCS).get(key) or FIELD_DOCS.get(key)
            if doc is not None:
                out["description." + key] = doc
            out[key] = described(item)
        return out
    if isinstance(value, list):
        return [described(item) for item in value]
    return value


def array(records: Sequence[Any], fmt: str, raw: Sequence[bytes] | None = None) -> bytes:
    """An array result. `raw`, when given, holds each record's json bytes."""
    if fmt == "json":
        if raw is not None:
            return b"[" + b",".join(raw) + b"]"
        return orjson.dumps(records)
    if fmt == "itjson":
        if raw is not None:
            return b"".join([part + b"\n" for part in raw])
        return b"".join([dumps_line(record) + b"\n" for record in records])
    if fmt == "ekjson":
        return b"".join([dumps_line(ek_keys(record)) + b"\n" for record in records])
    return orjson.dumps(described(list(records)), option=orjson.OPT_INDENT_2)


def obj(value: Any, fmt: str, docs: dict[str, str] | None = None) -> bytes:
    """An object result."""
    if fmt == "json":
        return orjson.dumps(value)
    if fmt == "itjson":
        return dumps_line(value) + b"\n"
    if fmt == "ekjson":
        return dumps_line(ek_keys(value)) + b"\n"
    return orjson.dumps(described(value, docs), option=orjson.OPT_INDENT_2)
