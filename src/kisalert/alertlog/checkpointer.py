"""Folding the WAL into the log file, off the writer's commit path.

SQLite checkpoints on the committing connection once the WAL passes 1000 pages, so
every few megabytes one commit also copies the WAL into the file and syncs it: that
batch lands tens of milliseconds late, past the commit window the writer keeps. The
writer turns that off and this thread checkpoints instead, on its own connection,
at most once per interval after commits; a PASSIVE checkpoint never waits for the
writer nor holds it up.

But SQLite starts the WAL over only when a write begins after every frame has been
copied, and a writer that never pauses (strict mode under load) never lets that
happen: the WAL grew by ~28 KB per alert, to 1.5 GB for 135 MB of log. Past
WAL_LIMIT a RESTART checkpoint waits for the writer's transaction to end and holds
the next one back until all is copied, so that it starts the WAL over; the writer's
`journal_size_limit` then gives the disk space back.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path

INTERVAL_SECONDS = 1.0
WAL_LIMIT = 64 << 20  # bytes of WAL past which the checkpoint makes it start over


class Checkpointer:
    def __init__(
        self,
        db: sqlite3.Connection,
        wal: Path,
        interval: float = INTERVAL_SECONDS,
        wal_limit: int = WAL_LIMIT,
    ) -> None:
        """`db`: a connection of its own to the log, closed when the thread ends;
        `wal`: the log's -wal file."""
        self._db = db
        self._wal = wal
        self._wal_limit = wal_limit
        self._interval = interval
        self._committed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kisalert-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def committed(self) -> None:
        """Something was committed: checkpoint soon (called by the writer)."""
        if not self._committed.is_set():
            self._committed.set()

    def stop(self) -> None:
        self._stop.set()
        self._committed.set()
        self._thread.join()

    def _run(self) -> None:
        failing = False
        try:
            while True:
                self._committed.wait()
                if self._stop.is_set():
                    return
                self._committed.clear()
                try:
                    self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    if self._wal_size() > self._wal_limit:
                        self._db.execute("PRAGMA wal_checkpoint(RESTART)")
                    failing = False
                except sqlite3.Error as exc:
                    # Once per spell of failures; the WAL only grows meanwhile, and
                    # the writer's last checkpoint, at its stop, tries again.
                    if not failing:
                        print(f"kisalert: alert log checkpoint failed: {exc}", file=sys.stderr)
                    failing = True
                if self._stop.wait(self._interval):
                    return
        finally:
            self._db.close()

    def _wal_size(self) -> int:
        try:
            return self._wal.stat().st_size
        except OSError:
            return 0
