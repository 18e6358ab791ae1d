"""Where a runner takes its alerts from: the alert log after the output's cursor, or,
with no log (`--memory`), a bounded queue filled from the bus."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Protocol

from kisalert.alert import Alert
from kisalert.forward.cursor import Cursors


class Source(Protocol):
    dropped: int

    def read(self, limit: int) -> list[Alert]:
        """The next alerts, oldest first; each is read once."""
        ...

    async def done(self, alert: Alert) -> None:
        """The output is finished with `alert` and everything before it. The position
        may be recorded later (within `save_due`), or at once. Raises CursorError."""
        ...

    def save_due(self) -> float | None:
        """Seconds until a position not yet recorded is due to be, or None."""
        ...

    async def flush(self) -> None:
        """Record the position now, if it has not been. Raises CursorError."""
        ...

    def backlog(self) -> int:
        """Alerts not yet done with, or done with and not yet recorded."""
        ...


class Log(Protocol):
    """The alert log as a source reads it (the server's, or a reader of its file)."""

    def alerts_after(self, after_us: int, limit: int) -> list[Alert]: ...

    def count_after(self, after_us: int) -> int: ...

    def newest_us(self) -> int: ...


class LogSource:
    """Reads the committed log after the cursor, so what was raised while the output
    was down, or the server stopped, is still there when it returns.

    Once a read has found everything committed so far, the source takes what the
    feed reads (`committed`) rather than reading and parsing it again: the same
    alerts in the same order. A runner that falls more than TAIL alerts behind goes
    back to the log.

    The cursor is written at most every SAVE_EVERY seconds, and within that of the
    output's last delivery: under a flood a file replaced and synced per batch per
    output took a fifth of the forwarding process's CPU (docs/performance.md). A
    crash repeats what was delivered since (at least once, as ever), never skips."""

    TAIL = 10_000
    SAVE_EVERY = 0.25

    def __init__(self, log: Log, cursors: Cursors, name: str, start_us: int) -> None:
        self._log = log
        self._cursors = cursors
        self._name = name
        self._read_us = self._saved_us = start_us
        self._unsaved: Alert | None = None  # done with, not yet recorded
        self._saved_at = float("-inf")  # the first position is recorded at once
        self._saving: asyncio.Future[None] | None = None
        self._tail: deque[Alert] | None = None  # None: not caught up, read the log
        self._tail_us = 0  # the newest stamp read or in the tail
        self.dropped = 0  # the log keeps everything until it is pruned

    @property
    def caught_up(self) -> bool:
        return self._tail is not None

    def committed(self, alerts: list[Alert]) -> None:
        """Alerts the feed read, in raise order."""
        tail = self._tail
        if tail is None:
            return
        # The feed may hand over some that this source's last read of the log found.
        skip = 0
        while skip < len(alerts) and alerts[skip].timestamp_us <= self._tail_us:
            skip += 1
        if skip == len(alerts):
            return
        if len(tail) + len(alerts) - skip > self.TAIL:
            self._tail = None  # too far behind: the log has them all
            return
        tail.extend(alerts[skip:] if skip else alerts)
        self._tail_us = alerts[-1].timestamp_us

    def fall_back(self) -> None:
        """The feed could not read: read the log from here on."""
        self._tail = None

    def read(self, limit: int) -> list[Alert]:
        tail = self._tail
        if tail is not None:
            batch = [tail.popleft() for _ in range(min(limit, len(tail)))]
        else:
            batch = self._log.alerts_after(self._read_us, limit)
            if len(batch) < limit:
                # Everything committed is read: the feed's next reads have the rest.
                self._tail = deque()
                self._tail_us = batch[-1].timestamp_us if batch else self._read_us
        if batch:
            self._read_us = batch[-1].timestamp_us
        return batch

    async def done(self, alert: Alert) -> None:
        self._unsaved = alert
        if time.monotonic() - self._saved_at >= self.SAVE_EVERY:
            await self.flush()

    def save_due(self) -> float | None:
        if self._unsaved is None:
            return None
        return max(0.0, self._saved_at + self.SAVE_EVERY - time.monotonic())

    async def flush(self) -> None:
        if self._saving is not None and not self._saving.done():
            # A save cut short by a stop: let it land before the newer one, or the
            # two threads could leave the older position in the file.
            await asyncio.wait([self._saving])
        alert = self._unsaved
        if alert is None:
            return
        self._saved_at = time.monotonic()  # a failing save is retried a period later
        self._saving = saving = asyncio.ensure_future(
            self._cursors.save(self._name, alert.timestamp_us, alert.alert_id)
        )
        # Its failure reaches the flush that awaits it; one cut short by a stop
        # retries the save, and its CursorError needs no other reader.
        saving.add_done_callback(_seen)
        await asyncio.shield(saving)
        self._saved_us = alert.timestamp_us
        if self._unsaved is alert:
            self._unsaved = None

    def backlog(self) -> int:
        return self._log.count_after(self._saved_us)


def _seen(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


class LogFeed:
    """Reads what the log commits once for every output, each of which would read
    and parse it again, and hands it to the sources that have caught up.

    Each of its reads follows every read a source made before it, so a source that
    caught up at stamp X gets from it everything after X (and some before, which it
    skips)."""

    READ = 1000

    def __init__(self, log: Log, sources: list[LogSource]) -> None:
        self._log = log
        self._sources = sources
        self._read_us = log.newest_us()

    def pull(self) -> None:
        if not any(source.caught_up for source in self._sources):
            # Nobody would take them: what they need, they read from the log.
            self._read_us = max(self._read_us, self._log.newest_us())
            return
        while True:
            try:
                batch = self._log.alerts_after(self._read_us, self.READ)
            except Exception:  # sqlite3.Error, a damaged row: each source reads (and says)
                for source in self._sources:
                    source.fall_back()
                return
            if not batch:
                return
            self._read_us = batch[-1].timestamp_us
            for source in self._sources:
                source.committed(batch)
            if len(batch) < self.READ:
                return


class QueueSource:
    """Alerts as the bus publishes them, at most `size` waiting: when it is full the
    oldest goes (counted in `dropped`), as the newest alerts matter most."""

    def __init__(self, size: int) -> None:
        self._queue: deque[Alert] = deque()
        self._size = size
        self._taken: deque[int] = deque()  # stamps read and not yet done with
        self.dropped = 0

    def put(self, alert: Alert) -> None:
        if len(self._queue) >= self._size:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(alert)

    def read(self, limit: int) -> list[Alert]:
        count = min(limit, len(self._queue))
        batch = [self._queue.popleft() for _ in range(count)]
        self._taken.extend(alert.timestamp_us for alert in batch)
        return batch

    async def done(self, alert: Alert) -> None:
        taken = self._taken
        while taken and taken[0] <= alert.timestamp_us:
            taken.popleft()

    def save_due(self) -> float | None:
        return None  # nothing to record: the queue is lost on a restart

    async def flush(self) -> None:
        pass

    def backlog(self) -> int:
        return len(self._queue) + len(self._taken)
