"""kisalert.jsonbytes: JSON kept in memory takes the room of its content."""

from __future__ import annotations

import tracemalloc

import orjson

from kisalert.jsonbytes import kept_json

RECORD = {f"kismet.alert.field_{i}": "x" * 30 for i in range(15)}  # ~700 bytes of JSON


def held_per_object(make: object) -> float:
    assert callable(make)
    tracemalloc.start()
    try:
        kept = [make() for _ in range(500)]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept) == 500
    return held / 500


def test_kept_json_is_the_same_json() -> None:
    assert kept_json(RECORD) == orjson.dumps(RECORD)
    assert type(kept_json(RECORD)) is bytes


def test_kept_json_holds_no_more_than_its_content() -> None:
    size = len(orjson.dumps(RECORD))
    # orjson 3.11's own output holds an 8 KiB buffer for these ~700 bytes.
    assert held_per_object(lambda: kept_json(RECORD)) < size + 100
