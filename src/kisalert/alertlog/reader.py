"""Reading committed alerts in raise order: the queries the server's log and the
forwarding process share (the second reads a file the first writes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kisalert.alert import Alert
from kisalert.alertlog.writer import connect


def alerts_after(db: sqlite3.Connection, after_us: int, limit: int) -> list[Alert]:
    """Up to `limit` committed alerts stamped after `after_us`, in raise order
    (stamps increase with every raise)."""
    sec, usec = divmod(after_us, 1_000_000)
    found = db.execute(
        "SELECT ts_sec, ts_usec, json FROM alerts WHERE (ts_sec, ts_usec) > (?, ?) "
        "ORDER BY ts_sec, ts_usec LIMIT ?",
        (sec, usec, limit),
    )
    # Stamped from the columns the query compares, so that a reader's position
    # taken from these alerts is exactly where the next query starts.
    loaded = (
        Alert.from_json(blob, ts_sec * 1_000_000 + ts_usec) for ts_sec, ts_usec, blob in found
    )
    return [alert for alert in loaded if alert is not None]


def count_after(db: sqlite3.Connection, after_us: int) -> int:
    """How many committed alerts are stamped after `after_us`."""
    sec, usec = divmod(after_us, 1_000_000)
    row = db.execute(
        "SELECT COUNT(*) FROM alerts WHERE (ts_sec, ts_usec) > (?, ?)", (sec, usec)
    ).fetchone()
    return int(row[0])


def newest_us(db: sqlite3.Connection) -> int:
    """The newest stamp in the log, 0 when it holds no alert."""
    # Through the alerts table's time index: kisalert_alerts has none of its own.
    row = db.execute(
        "SELECT ts_sec, ts_usec FROM alerts ORDER BY ts_sec DESC, ts_usec DESC LIMIT 1"
    ).fetchone()
    return int(row[0]) * 1_000_000 + int(row[1]) if row else 0


class LogReader:
    """A read-only view of a log that another process writes. In WAL mode its reads
    never wait for the writer, nor the writer for them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path, "batched")
        self._db.execute("PRAGMA query_only = ON")

    def alerts_after(self, after_us: int, limit: int) -> list[Alert]:
        return alerts_after(self._db, after_us, limit)

    def count_after(self, after_us: int) -> int:
        return count_after(self._db, after_us)

    def newest_us(self) -> int:
        return newest_us(self._db)

    def close(self) -> None:
        self._db.close()
