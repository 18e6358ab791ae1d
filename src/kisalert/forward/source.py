"""Where a runner takes its alerts from: the alert log after the output's cursor, or,
with no log (`--memory`), a bounded queue filled from the bus."""

from __future__ import annotations

from collections import deque
from typing import Protocol

from kisalert.alert import Alert
from kisalert.alertlog import AlertLog
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


class LogSource:
    """Reads the committed log after the cursor, so what was raised while the output
    was down, or the server stopped, is still there when it returns.

    Once a read has found everything committed so far, the alerts the log reports
    as committed are kept as they come (`committed`), and read from memory rather
    than read back and parsed from SQLite, the same alerts in the same order; a
    runner that falls more than TAIL alerts behind goes back to the log."""

    TAIL = 10_000

    def __init__(self, log: AlertLog, cursors: Cursors, name: str, start_us: int) -> None:
        self._log = log
        self._cursors = cursors
        self._name = name
        self._read_us = self._done_us = start_us
        self._tail: deque[Alert] | None = None  # None: not caught up, read the log
        self.dropped = 0  # the log keeps everything until it is pruned

    def committed(self, alerts: list[Alert]) -> None:
        tail = self._tail
        if tail is None:
            return
        if len(tail) + len(alerts) > self.TAIL:
            self._tail = None  # too far behind: the log has them all
            return
        tail.extend(alerts)

    def read(self, limit: int) -> list[Alert]:
        tail = self._tail
        if tail is not None:
            batch = [tail.popleft() for _ in range(min(limit, len(tail)))]
        else:
            batch = self._log.alerts_after(self._read_us, limit)
            if len(batch) < limit:
                # Everything committed is read; what commits next is reported (on
                # this thread, after this read), so the tail starts exactly here.
                self._tail = deque()
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
