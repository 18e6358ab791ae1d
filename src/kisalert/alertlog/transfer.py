"""Moving alerts between logs: importing a log Kismet wrote, exporting a time range."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from kisalert.alert_id import next_free
from kisalert.alertlog.log import INSERT_ALERT, INSERT_INDEX, INSERT_MESSAGE, LogError
from kisalert.alertlog.schema import ALERT_COLUMNS, SchemaError
from kisalert.alertlog.writer import connect


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    present: int  # already in the log: from an earlier import of the same file
    unreadable: int
    first_unreadable: str = ""  # why the first unreadable row was left out


class _IdsInLog:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __contains__(self, alert_id: object) -> bool:
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
    except orjson.JSONDecodeError:
        return "its json is not JSON"
    if not isinstance(record, dict) or not isinstance(record.get("kismet.alert.hash"), int):
        return "its json has no integer kismet.alert.hash"
    return record


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
    taken = _IdsInLog(db)
    imported = present = unreadable = 0
    first_unreadable = ""
    try:
        db.execute("BEGIN IMMEDIATE")
        for row in src.execute(
            "SELECT rowid, ts_sec, ts_usec, phyname, devmac, lat, lon, header, json FROM alerts "
            "ORDER BY ts_sec, ts_usec"
        ):
            rowid, ts_sec, ts_usec, phyname, devmac, lat, lon, header, blob = row
            record = _parse(blob)
            if isinstance(record, dict) and not (
                isinstance(ts_sec, int) and isinstance(ts_usec, int)
            ):
                record = "its ts_sec or ts_usec is not an integer"
            if isinstance(record, str):
                unreadable += 1
                first_unreadable = first_unreadable or f"row {rowid}: {record}"
                continue
            ts_us = ts_sec * 1_000_000 + ts_usec
            alert_id = record["kismet.alert.hash"]
            found = db.execute(
                "SELECT 1 FROM kisalert_alerts k JOIN alerts a "
                "ON a.ts_sec = ? AND a.ts_usec = ? AND a.header = k.header "
                "WHERE k.ts_us = ? AND k.header = ? LIMIT 1",
                (ts_sec, ts_usec, ts_us, header),
            ).fetchone()
            if found is not None:
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
    return ImportResult(imported, present, unreadable, first_unreadable)


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
        raise LogError(f"export to {target} failed: {exc}") from None
    finally:
        src.close()
        db.close()
    return count
