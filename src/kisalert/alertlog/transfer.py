"""Moving alerts between logs: importing a log Kismet wrote, exporting a time range."""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from kisalert.alert_id import next_free
from kisalert.alertlog.journal import IdJournal
from kisalert.alertlog.log import (
    INSERT_ALERT,
    INSERT_INDEX,
    INSERT_MESSAGE,
    JOURNAL_SUFFIX,
    LogError,
)
from kisalert.alertlog.schema import ALERT_COLUMNS, SchemaError
from kisalert.alertlog.writer import WAL_FILES, connect
from kisalert.timestamps import LAST_MOMENT

ID_KEY = "kismet.alert.hash"
FUTURE_SLACK = 86_400.0  # seconds past the import's clock an alert may be stamped


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    present: int  # already in the log: from an earlier import of the same file
    unreadable: int
    first_unreadable: str = ""  # why the first unreadable row was left out
    future: int = 0  # stamped after the import (and a day): left out


class _IdsInLog:
    def __init__(self, db: sqlite3.Connection, journal: list[tuple[int, int]]) -> None:
        self._db = db
        self._journaled = {alert_id for _, alert_id in journal}

    def __contains__(self, alert_id: object) -> bool:
        if alert_id in self._journaled:
            return True
        row = self._db.execute(
            "SELECT 1 FROM kisalert_alerts WHERE hash = ? LIMIT 1", (alert_id,)
        ).fetchone()
        return row is not None


def _open_source(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise LogError(f"{path}: no such file")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        columns = [row[1] for row in db.execute("PRAGMA table_info(alerts)")]
    except sqlite3.Error as exc:
        raise LogError(f"{path} is not a readable Kismet log: {exc}") from None
    if columns != ALERT_COLUMNS:
        db.close()
        raise LogError(f"{path} is not a Kismet log (no alerts table with Kismet's columns)")
    return db


def _open_target(path: Path) -> sqlite3.Connection:
    try:
        db = connect(path, "strict", check=True)
    except SchemaError as exc:
        raise LogError(str(exc)) from None
    except (sqlite3.Error, OSError) as exc:
        raise LogError(f"cannot open the alert log {path}: {exc}") from None
    return db


def _parse(blob: Any) -> dict[str, Any] | str:
    """The alert record in a row's `json`, or why there is none."""
    try:
        record = orjson.loads(blob)
    except (orjson.JSONDecodeError, TypeError):
        return "its json is not JSON"
    if not isinstance(record, dict) or not isinstance(record.get("kismet.alert.hash"), int):
        return "its json has no integer kismet.alert.hash"
    return record


def _unusable(record: dict[str, Any], ts_sec: Any, ts_usec: Any, header: Any) -> str | None:
    """Why the server could not serve this row as an alert, or None. What is left
    out here once stopped every later start with a traceback (a record without a
    header, a text timestamp) or answered by-id with a 500."""
    alert_id = record["kismet.alert.hash"]
    if isinstance(alert_id, bool) or not 0 <= alert_id <= 0xFFFFFFFF:
        return "its kismet.alert.hash is not a 32-bit unsigned number"
    if not (type(ts_sec) is int and type(ts_usec) is int):
        return "its ts_sec or ts_usec is not an integer"
    if not (0 <= ts_sec <= LAST_MOMENT and 0 <= ts_usec < 1_000_000):
        return "its ts_sec or ts_usec is out of range"
    if not isinstance(header, str) or not header:
        return "it has no header"
    if record.get("kismet.alert.header") != header:
        return "its json's kismet.alert.header is not the row's header"
    stamp = record.get("kismet.alert.timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not math.isfinite(stamp):
        return "its json's kismet.alert.timestamp is not a number"
    return None


def _record(blob: Any) -> dict[str, Any] | None:
    record = _parse(blob)
    return record if isinstance(record, dict) else None


def newest_alert_us(path: Path) -> int | None:
    """The newest alert stamp a log holds, read without writing to it; None if it
    cannot be read (missing, not a log, not ours to read)."""
    try:
        db = _open_source(path)
    except LogError:
        return None
    try:
        row = db.execute(
            "SELECT ts_sec, ts_usec FROM alerts ORDER BY ts_sec DESC, ts_usec DESC LIMIT 1"
        ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return int(row[0]) * 1_000_000 + int(row[1]) if row else 0


def import_log(source: Path, target: Path) -> ImportResult:
    """Copy the alerts of a Kismet log into `target`, keeping ids unique.

    Importing the same file twice adds nothing the second time.
    """
    src = _open_source(source)
    db = _open_target(target)
    # Ids a client may have seen before a crash lost their alerts (the journal a
    # batched-mode server left) are taken too: by-id must not find another alert.
    taken = _IdsInLog(db, IdJournal(target.with_name(target.name + JOURNAL_SUFFIX)).leftovers())
    imported = present = unreadable = future = 0
    first_unreadable = ""
    # A sensor's clock set ahead: alerts stamped later than this would move every
    # later alert's stamp past them, and throttle their names until then.
    latest_us = round((time.time() + FUTURE_SLACK) * 1_000_000)
    try:
        db.execute("BEGIN IMMEDIATE")
        for row in src.execute(
            "SELECT rowid, ts_sec, ts_usec, phyname, devmac, lat, lon, header, json FROM alerts "
            "ORDER BY ts_sec, ts_usec"
        ):
            rowid, ts_sec, ts_usec, phyname, devmac, lat, lon, header, blob = row
            record = _parse(blob)
            if isinstance(record, dict):
                record = _unusable(record, ts_sec, ts_usec, header) or record
            if isinstance(record, str):
                unreadable += 1
                first_unreadable = first_unreadable or f"row {rowid}: {record}"
                continue
            ts_us = ts_sec * 1_000_000 + ts_usec
            if ts_us > latest_us:
                future += 1
                continue
            alert_id = record["kismet.alert.hash"]
            if _present(db, record, ts_sec, ts_usec, header):
                present += 1
                continue
            unique = next_free(alert_id, taken)
            if unique != alert_id:
                record["kismet.alert.hash"] = unique
                blob = orjson.dumps(record)
            data = blob.encode() if isinstance(blob, str) else bytes(blob)
            db.execute(INSERT_ALERT, (ts_sec, ts_usec, phyname, devmac, lat, lon, header, data))
            db.execute(INSERT_INDEX, (ts_us, unique, header))
            imported += 1
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise LogError(f"import into {target} failed: {exc}") from None
    finally:
        src.close()
        db.close()
    return ImportResult(imported, present, unreadable, first_unreadable, future)


def _present(
    db: sqlite3.Connection, record: dict[str, Any], ts_sec: int, ts_usec: int, header: str
) -> bool:
    """Whether the log holds this alert already (an earlier import of the same file):
    the same stamp and name, and the same record but for an id moved on import.
    Alerts that only share a stamp and a name are different alerts."""
    for (blob,) in db.execute(
        "SELECT json FROM alerts WHERE ts_sec = ? AND ts_usec = ? AND header = ?",
        (ts_sec, ts_usec, header),
    ):
        held = _record(blob)
        if held is not None and {**held, ID_KEY: 0} == {**record, ID_KEY: 0}:
            return True
    return False


def export_log(source: Path, target: Path, since_us: int | None, until_us: int | None) -> int:
    """Write the alerts (and messages) of `source` stamped in [since, until] to a new
    Kismet log at `target`. Returns how many alerts were written."""
    if target.exists():
        raise LogError(f"{target} exists; export writes a new file")
    src = _open_source(source)
    low = since_us if since_us is not None else 0
    high = until_us if until_us is not None else 2**62
    db = _open_target(target)
    count = 0
    try:
        db.execute("BEGIN IMMEDIATE")
        for row in src.execute(
            "SELECT ts_sec, ts_usec, phyname, devmac, lat, lon, header, json FROM alerts "
            "WHERE ts_sec * 1000000 + ts_usec BETWEEN ? AND ? ORDER BY ts_sec, ts_usec",
            (low, high),
        ):
            db.execute(INSERT_ALERT, row)
            record = _record(row[7])
            if record is not None:
                db.execute(
                    INSERT_INDEX,
                    (row[0] * 1_000_000 + row[1], record["kismet.alert.hash"], row[6]),
                )
            count += 1
        for row in src.execute(
            "SELECT ts_sec, lat, lon, msgtype, message FROM messages "
            "WHERE ts_sec BETWEEN ? AND ? ORDER BY rowid",
            (low // 1_000_000, high // 1_000_000),
        ):
            db.execute(INSERT_MESSAGE, row)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        db.close()
        # A half-written file would refuse the retry ("exists"): it goes.
        for leftover in (target, *(target.with_name(target.name + end) for end in WAL_FILES)):
            leftover.unlink(missing_ok=True)
        raise LogError(f"export to {target} failed: {_why(exc)}") from None
    finally:
        src.close()
        db.close()
    return count


def _why(exc: sqlite3.Error) -> str:
    # SQLite reports a full disk during a write as "disk I/O error" at times.
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower():
        return "the disk is full"
    return str(exc)
