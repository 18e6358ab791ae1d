"""Building big answers off the event loop.

A read over a large backlog (a search, a sort or a regex over 100 000 alerts) is tens
of milliseconds to a second of Python. On the event loop it would hold up every
raise and every eventbus subscriber for that long; in a worker thread the loop still
gets the interpreter every few milliseconds. Records are never changed once made, so
a worker may read them while the loop goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from kisalert.http.records import Serialized

T = TypeVar("T")

BIG = 2000  # records: smaller answers are built in about a millisecond, on the loop
# Bytes of record JSON that a regex filter reads: one pattern can cost tens of
# milliseconds per long alert text, so a few long alerts are already big.
BIG_TEXT = 64 * 1024
# Two at a time: more would only share the interpreter, and the loop's turn, further.
_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kisalert-read")


def weight(records: Sequence[Serialized], args: Mapping[str, object]) -> int:
    """What building an answer over `records` costs, in records: their number, or,
    when regex filters (`regex` or `regex_all`) read their text, at least the same
    share of BIG as the bytes they read (each rule reads every record) are of
    BIG_TEXT (counted only up to that)."""
    count = len(records)
    rules = _rules(args.get("regex")) + _rules(args.get("regex_all"))
    if count >= BIG or not rules:
        return count
    size = 0
    for record in records:
        size += len(record.json) * rules
        if size >= BIG_TEXT:
            return BIG
    return count


def _rules(spec: object) -> int:
    if not spec:
        return 0
    return len(spec) if isinstance(spec, list) else 1


async def build(records: int, make: Callable[[], T]) -> T:
    """`make()`, in a worker thread when it works over `records` ≥ BIG records
    (or what `weight` counts as that many)."""
    if records < BIG:
        return make()
    return await off_loop(make)


async def off_loop(make: Callable[[], T]) -> T:
    """`make()` in a worker thread."""
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, make)
