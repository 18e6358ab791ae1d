"""The alert log's layout: Kismet's `.kismet` tables (db_version 9) and kisalert's own.

Kismet's tables are created exactly as Kismet creates them, so every reader of
Kismet logs reads ours. kisalert's extra tables carry their own schema version in
`kisalert_meta`, so later releases can migrate them forward.
"""

from __future__ import annotations

import sqlite3

from kisalert import __version__

DB_VERSION = 9
SCHEMA_VERSION = 1

KISMET_TABLES: dict[str, str] = {
    "KISMET": "CREATE TABLE KISMET (kismet_version TEXT, db_version INT, db_module TEXT)",
    "devices": (
        "CREATE TABLE devices (first_time INT, last_time INT, devkey TEXT, phyname TEXT, "
        "devmac TEXT, strongest_signal INT, min_lat REAL, min_lon REAL, max_lat REAL, "
        "max_lon REAL, avg_lat REAL, avg_lon REAL, bytes_data INT, type TEXT, device BLOB, "
        "UNIQUE(phyname, devmac) ON CONFLICT REPLACE)"
    ),
    "packets": (
        "CREATE TABLE packets (ts_sec INT, ts_usec INT, phyname TEXT, sourcemac TEXT, "
        "destmac TEXT, transmac TEXT, frequency REAL, devkey TEXT, lat REAL, lon REAL, "
        "alt REAL, speed REAL, heading REAL, packet_len INT, signal INT, datasource TEXT, "
        "dlt INT, packet BLOB, error INT, tags TEXT, datarate REAL, hash INT, packetid INT, "
        "packet_full_len INT)"
    ),
    "data": (
        "CREATE TABLE data (ts_sec INT, ts_usec INT, phyname TEXT, devmac TEXT, lat REAL, "
        "lon REAL, alt REAL, speed REAL, heading REAL, datasource TEXT, type TEXT, json BLOB )"
    ),
    "datasources": (
        "CREATE TABLE datasources (uuid TEXT, typestring TEXT, definition TEXT, name TEXT, "
        "interface TEXT, json BLOB, UNIQUE(uuid) ON CONFLICT REPLACE)"
    ),
    "alerts": (
        "CREATE TABLE alerts (ts_sec INT, ts_usec INT, phyname TEXT, devmac TEXT, lat REAL, "
        "lon REAL, header TEXT, json BLOB )"
    ),
    "messages": (
        "CREATE TABLE messages (ts_sec INT, lat REAL, lon REAL, msgtype TEXT, message TEXT )"
    ),
    "snapshots": (
        "CREATE TABLE snapshots (ts_sec INT, ts_usec INT, lat REAL, lon REAL, snaptype TEXT, "
        "json BLOB )"
    ),
}

ALERT_COLUMNS = ["ts_sec", "ts_usec", "phyname", "devmac", "lat", "lon", "header", "json"]
MESSAGE_COLUMNS = ["ts_sec", "lat", "lon", "msgtype", "message"]

# kisalert's own tables. `kisalert_alerts` indexes the alerts table by id and by
# definition (for by-id and for rebuilding throttle windows); it joins `alerts` on
# the timestamp, which is unique among the alerts a server stamps.
KISALERT_TABLES = (
    "CREATE TABLE IF NOT EXISTS kisalert_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS kisalert_definitions ("
    "seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, record BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS kisalert_alerts ("
    "ts_us INTEGER NOT NULL, hash INTEGER NOT NULL, header TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS kisalert_alerts_hash ON kisalert_alerts (hash)",
    "CREATE INDEX IF NOT EXISTS kisalert_alerts_header_ts ON kisalert_alerts (header, ts_us)",
    # An index is not a column: readers that check Kismet's columns are unaffected.
    "CREATE INDEX IF NOT EXISTS kisalert_alerts_by_time ON alerts (ts_sec, ts_usec)",
)


class SchemaError(Exception):
    """A file that is not a Kismet log kisalert can use; str() says why."""


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def create_kismet_tables(db: sqlite3.Connection, version: str) -> None:
    """An empty Kismet log, as Kismet creates one."""
    for ddl in KISMET_TABLES.values():
        db.execute(ddl)
    db.execute(
        "INSERT INTO KISMET (kismet_version, db_version, db_module) VALUES (?, ?, ?)",
        (version, DB_VERSION, "kismetlog"),
    )


def check_kismet_tables(db: sqlite3.Connection, path: object) -> None:
    """Refuse files whose Kismet tables kisalert cannot read or write correctly."""
    tables = _tables(db)
    if "KISMET" not in tables or "alerts" not in tables:
        raise SchemaError(f"{path} is not a Kismet log (no KISMET or alerts table)")
    row = db.execute("SELECT db_version FROM KISMET").fetchone()
    if row is None or row[0] != DB_VERSION:
        found = row[0] if row else "none"
        raise SchemaError(f"{path} is a Kismet log of db_version {found}; kisalert needs 9")
    for table, expected in (("alerts", ALERT_COLUMNS), ("messages", MESSAGE_COLUMNS)):
        if _columns(db, table) != expected:
            raise SchemaError(f"{path}: table {table} does not have Kismet's columns")


def prepare(db: sqlite3.Connection, path: object) -> None:
    """Create or check every table of the log; migrate kisalert's own tables.

    All in one transaction: on a connection in autocommit mode (isolation_level=None)
    `with db` alone would commit, and sync, each statement on its own."""
    with db:
        db.execute("BEGIN")
        if not _tables(db):
            create_kismet_tables(db, f"kisalert {__version__}")
        check_kismet_tables(db, path)
        for ddl in KISALERT_TABLES:
            db.execute(ddl)
        row = db.execute("SELECT value FROM kisalert_meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            db.execute(
                "INSERT INTO kisalert_meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        elif int(row[0]) > SCHEMA_VERSION:
            raise SchemaError(
                f"{path} was written by a newer kisalert (schema {row[0]}); upgrade kisalert"
            )
