"""A data file rewritten whole with the latest state, off the event loop.

The memory store keeps its login sessions and silences in files it rewrites whole:
up to 4 096 sessions are ~850 KB of JSON, and the write ends in an fsync. Written on
the event loop, one login held every other client for 8–27 ms here (more on a busy
disk). Two writes in threads at once could also race on the one temporary file, or
land in the wrong order.

So each file has a Rewriter: one write at a time, in a thread, of the state as it is
when the write starts; changes made during a write go in the next one; and a file
asked for often is written at most once per `period`, unless a caller waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

State = TypeVar("State")


class Rewriter(Generic[State]):
    """`write(snapshot())` in a thread when asked. `snapshot` runs on the event loop
    and must copy what it needs; `write` runs in a thread and must not raise for a
    failing disk (say why on stderr and return)."""

    def __init__(
        self, snapshot: Callable[[], State], write: Callable[[State], None], period: float
    ) -> None:
        self._snapshot = snapshot
        self._write = write
        self._period = period
        self._asked = 0  # changes asked to be written, counted
        self._written = 0  # how many of them the last finished write included
        self._last_start = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def pending(self) -> bool:
        return self._written < self._asked

    def request(self) -> None:
        """The state changed: write it soon (within `period`), without waiting."""
        self._asked += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def save(self) -> None:
        """The state changed: write it now, and return once a write that includes
        this change has finished."""
        self.request()
        await self.flush()

    async def flush(self) -> None:
        """Return once everything asked so far is written; at once if nothing is
        pending."""
        if not self.pending:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((self._asked, waiter))
        self._hurry.set()
        await waiter

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                wait = self._last_start + self._period - loop.time()
                if wait > 0 and not self._waiters:
                    self._hurry.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._hurry.wait(), wait)
                including = self._asked
                state = self._snapshot()
                self._last_start = loop.time()
                await asyncio.to_thread(self._write, state)
                self._written = including
                self._wake(including)
        finally:
            self._task = None

    def _wake(self, written: int) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for asked, waiter in self._waiters:
            if asked <= written:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((asked, waiter))
        self._waiters = still
