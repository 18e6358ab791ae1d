"""The id journal: ids a client may have seen before the commit that holds their alert.

In batched mode an alert is in the backlog and on the eventbus before its commit, so a
crash can lose an alert whose id a client already has; as the checksum collides
often (model.md), a new alert after the restart could then be given that same id.
Each id is appended here, with a plain write() and no fsync, before its alert is
visible: what batched mode promises to survive is the process dying, not the
machine. A clean stop leaves no journal; at the start after any other stop, the ids
in it that the log does not hold are kept as taken (`AlertLog.open`).

Entries of committed alerts are useless, so once the journal has grown past a bound
it is rewritten with the uncommitted ones alone: its size stays bounded.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterable
from pathlib import Path

from kisalert.alert import Alert

# One entry: the alert's stamp in microseconds and its id.
ENTRY = struct.Struct("<qI")
REWRITE_BYTES = 1 << 16
RETRY_SECONDS = 1.0
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_CLOEXEC


def _entries(alerts: Iterable[Alert]) -> bytes:
    return b"".join(ENTRY.pack(a.timestamp_us, a.alert_id) for a in alerts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class IdJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1
        self._size = 0
        # Why the journal cannot be written, while it cannot, and when to try again.
        self._failure: str | None = None
        self._retry_at = 0.0

    def leftovers(self) -> list[tuple[int, int]]:
        """(stamp_us, id) of every entry the previous run left: none after a clean stop."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        # A write cut short by the crash leaves a partial last entry: no id was seen.
        return list(ENTRY.iter_unpack(data[: len(data) - len(data) % ENTRY.size]))

    def start(self) -> None:
        """Begin an empty journal (once the leftovers are safe in the log)."""
        self._fd = os.open(self.path, _FLAGS, 0o600)
        self._size = 0

    def add(self, alert: Alert) -> None:
        """Record `alert`'s id. A failure is not raised (the alert is stamped and
        goes on) but kept: see `failing`."""
        try:
            written = os.write(self._fd, ENTRY.pack(alert.timestamp_us, alert.alert_id))
        except OSError as exc:
            self._fail(exc.strerror or str(exc))
            return
        self._size += written
        if written != ENTRY.size:  # the disk is full: the rewrite on retry realigns
            self._fail("short write")

    def failing(self, uncommitted: Iterable[Alert]) -> str | None:
        """Why ids cannot be journaled, or None. While they cannot, try again at most
        once a second: a new journal of the `uncommitted` alerts' ids."""
        if self._failure is None or time.monotonic() < self._retry_at:
            return self._failure
        self._retry(uncommitted)
        return self._failure

    def compact(self, uncommitted: Iterable[Alert], count: int) -> None:
        """After a commit: rewrite the journal with the `count` alerts still
        uncommitted alone, once it is big enough for that to be worth it."""
        if self._size >= REWRITE_BYTES and self._size >= 4 * count * ENTRY.size:
            self._retry(uncommitted)

    def _retry(self, uncommitted: Iterable[Alert]) -> None:
        try:
            self._rewrite(_entries(uncommitted))
            self._failure = None
        except OSError as exc:
            self._fail(exc.strerror or str(exc))

    def _fail(self, reason: str) -> None:
        self._failure = f"the id journal {self.path} cannot be written ({reason})"
        self._retry_at = time.monotonic() + RETRY_SECONDS

    def close(self, uncommitted: Iterable[Alert]) -> None:
        """At a stop: no journal when everything is committed, else the uncommitted ids
        (alerts the disk would not take: their ids stay taken)."""
        data = _entries(uncommitted)
        try:
            if data:
                self._rewrite(data)
            else:
                self.path.unlink(missing_ok=True)
        finally:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _rewrite(self, data: bytes) -> None:
        # A new file renamed over the old: whenever the process dies, one of the two
        # is in place, and each holds every id not yet committed.
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, _FLAGS, 0o600)
        try:
            _write_all(fd, data)
            os.replace(tmp, self.path)
        except BaseException:
            os.close(fd)
            raise
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = fd
        self._size = len(data)
