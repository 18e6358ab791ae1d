"""Building big answers off the event loop.

A read over a large backlog (a search, a sort or a regex over 100 000 alerts) is tens
of milliseconds to a second of Python. On the event loop it would hold up every
raise and every eventbus subscriber for that long; in a worker thread the loop still
gets the interpreter every few milliseconds. Records are never changed once made, so
a worker may read them while the loop goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

BIG = 2000  # records: smaller answers are built in about a millisecond, on the loop
# Two at a time: more would only share the interpreter, and the loop's turn, further.
_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kisalert-read")


async def build(records: int, make: Callable[[], T]) -> T:
    """`make()`, in a worker thread when it works over `records` ≥ BIG records."""
    if records < BIG:
        return make()
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, make)
