"""Log lines that clients can cause, aggregated: one line per kind per minute.

The server stack (uvicorn, the `websockets` handshake, asyncio) logs a warning or an
error for some things a client does, and a client needs no login to do them again and
again. Every such line goes through `Aggregate`: the first of a kind is written, the
next ones within `INTERVAL` seconds are only counted, and when the interval ends one
line says how many were left out. A steady stream of one kind thus writes one line a
minute, however fast it comes.

A kind is the logger, the level, the message before its arguments are filled in, and
the exception's class: the same warning about different clients is one kind. Kinds
are counted in a table of at most `MAX_KINDS`; past that, the rest of a logger's
lines at one level are one kind together, so a message that carries the client's own
text cannot grow the table.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

INTERVAL = 60.0
MAX_KINDS = 256
_MESSAGE_CHARS = 200  # of a message, to tell kinds apart
_SUMMARY = "kisalert_summary"  # marks the count line, which the filter lets through

Kind = tuple[str, int, str, str]


@dataclass
class _Window:
    ends: float
    left_out: int = 0


class Aggregate(logging.Filter):
    """Lets the first record of each kind through, then counts that kind for `interval`
    seconds and logs the count when they are over. One thread, started with the first
    window, ends the windows whose kind has stopped coming."""

    def __init__(
        self, interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._changed = threading.Condition()  # guards _windows
        self._windows: dict[Kind, _Window] = {}
        self._sweeper: threading.Thread | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _SUMMARY, False):
            return True
        with self._changed:
            kind = self._kind(record)
            window = self._windows.get(kind)
            if window is not None:
                window.left_out += 1
                return False
            self._windows[kind] = _Window(self._clock() + self.interval)
            if self._sweeper is None:
                self._sweeper = threading.Thread(
                    target=self._sweep, name="kisalert-logfilter", daemon=True
                )
                self._sweeper.start()
            self._changed.notify()
        return True

    def _kind(self, record: logging.LogRecord) -> Kind:
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, record.levelno, str(record.msg)[:_MESSAGE_CHARS], error)
        if kind in self._windows or len(self._windows) < MAX_KINDS:
            return kind
        return (record.name, record.levelno, "", "")

    def _sweep(self) -> None:
        while True:
            with self._changed:
                counts = self._end_windows(self._clock())
                if not counts:
                    ends = min((w.ends for w in self._windows.values()), default=None)
                    self._changed.wait(None if ends is None else max(ends - self._clock(), 0))
            for kind, left_out in counts:
                self._report(kind, left_out)

    def _end_windows(self, now: float) -> list[tuple[Kind, int]]:
        """Ends the windows that are over: a kind that was left out is counted for one
        more interval, and its count is returned to be logged; the others are closed."""
        counts = []
        for kind, window in list(self._windows.items()):
            if window.ends > now:
                continue
            if window.left_out:
                counts.append((kind, window.left_out))
                window.left_out, window.ends = 0, now + self.interval
            else:
                del self._windows[kind]
        return counts

    def flush(self) -> None:
        """Logs every count still open (at exit, so that none is lost)."""
        with self._changed:
            windows, self._windows = self._windows, {}
        for kind, window in windows.items():
            if window.left_out:
                self._report(kind, window.left_out)

    def _report(self, kind: Kind, left_out: int) -> None:
        name, level, message, _ = kind
        what = f'"{message.strip()}"' if message else "other messages"
        logging.getLogger(name).log(
            level,
            "%d more like %s not logged in the last %g s",
            left_out,
            what,
            self.interval,
            extra={_SUMMARY: True},
        )


def install(interval: float = INTERVAL) -> Aggregate:
    """Puts one `Aggregate` on every handler that writes the server stack's lines:
    uvicorn's own, and the last-resort handler that asyncio's and any unconfigured
    logger's warnings go to. Call it after uvicorn has configured logging (creating
    its Config does), which replaces uvicorn's handlers."""
    aggregate = Aggregate(interval)
    handlers = [*logging.getLogger("uvicorn").handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        handler.addFilter(aggregate)
    atexit.register(aggregate.flush)
    return aggregate
