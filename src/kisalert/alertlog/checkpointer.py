"""Folding the WAL into the log file, off the writer's commit path.

SQLite checkpoints on the committing connection once the WAL passes 1000 pages, so
every few megabytes one commit also copies the WAL into the file and syncs it: that
batch lands tens of milliseconds late, past the commit window the writer keeps. The
writer turns that off and this thread checkpoints instead, on its own connection,
at most once per interval after commits; a PASSIVE checkpoint never waits for the
writer nor holds it up.
"""

from __future__ import annotations

import sqlite3
import sys
import threading

INTERVAL_SECONDS = 1.0


class Checkpointer:
    def __init__(self, db: sqlite3.Connection, interval: float = INTERVAL_SECONDS) -> None:
        """`db`: a connection of its own to the log, closed when the thread ends."""
        self._db = db
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
