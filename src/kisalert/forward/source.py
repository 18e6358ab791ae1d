"""Where a runner takes its alerts from: the alert log after the output's cursor, or,
with no log (`--memory`), a bounded queue filled from the bus."""

from __future__ import annotations

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
        """The output is finished with `alert` and everything before it."""
        ...

    def backlog(self) -> int:
        """Alerts not yet done with (read or not)."""
        ...


class Log(Protocol):
    """The alert log as a source reads it (the server's, or a reader of its file)."""

    def alerts_after(self, after_us: int, limit: int) -> list[Alert]: ...

    def count_after(self, after_us: int) -> int: ...


class LogSource:
    """Reads the committed log after the cursor, so what was raised while the output
    was down, or the server stopped, is still there when it returns."""

    def __init__(self, log: Log, cursors: Cursors, name: str, start_us: int) -> None:
        self._log = log
        self._cursors = cursors
        self._name = name
        self._read_us = self._done_us = start_us
        self.dropped = 0  # the log keeps everything until it is pruned

    def read(self, limit: int) -> list[Alert]:
        batch = self._log.alerts_after(self._read_us, limit)
        if batch:
            self._read_us = batch[-1].timestamp_us
        return batch

    async def done(self, alert: Alert) -> None:
        await self._cursors.save(self._name, alert.timestamp_us, alert.alert_id)
        self._done_us = alert.timestamp_us

    def backlog(self) -> int:
        return self._log.count_after(self._done_us)


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

    def backlog(self) -> int:
        return len(self._queue) + len(self._taken)
