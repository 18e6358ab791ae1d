"""The alert log: a `.kismet` file that every accepted alert reaches.

Runs on the event loop's thread, except for the writer (`writer.py`). Reads
(recovery at start, by-id for alerts that left the backlog) use their own
connection; in WAL mode they never wait for the writer.

In batched mode an alert is visible before its commit, so its id goes to the id
journal (`journal.py`) first; in strict mode the tracker shows an alert only once
it is committed, as `settled` reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kisalert import messages
from kisalert.alert import Alert
from kisalert.alertlog import reader, rows
from kisalert.alertlog.journal import IdJournal
from kisalert.alertlog.schema import ALERT_COLUMNS, MESSAGE_COLUMNS, SchemaError
from kisalert.alertlog.writer import LeftOut, Write, Writer, connect
from kisalert.definition import Definition
from kisalert.messages import Message

LOG_NAME = "kisalert.kismet"
# The id journal sits beside the log, named after it as SQLite's -wal and -shm are.
JOURNAL_SUFFIX = "-ids"
RECENT_IDS = 1 << 17
QUEUE_LIMIT = 65536

INSERT_ALERT = (
    "INSERT INTO alerts (ts_sec, ts_usec, phyname, devmac, lat, lon, header, json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_INDEX = "INSERT INTO kisalert_alerts (ts_us, hash, header) VALUES (?, ?, ?)"
INSERT_MESSAGE = "INSERT INTO messages (ts_sec, lat, lon, msgtype, message) VALUES (?, ?, ?, ?, ?)"


# The same inserts for a whole batch in one statement: the rows travel as one JSON
# array. executemany steps once per row, and the sqlite3 module lets go of the GIL
# and takes it back at every step; with the event loop running on the other side
# of that lock, the hand-offs cost the loop more CPU than the writer's own work.
def _bulk(table: str, columns: list[str], blobs: frozenset[int] = frozenset()) -> str:
    values = ", ".join(
        f"CAST(json_extract(value, '$[{i}]') AS BLOB)"
        if i in blobs
        else f"json_extract(value, '$[{i}]')"
        for i in range(len(columns))
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM json_each(?)"


BULK_INSERTS = {
    INSERT_ALERT: _bulk("alerts", ALERT_COLUMNS, frozenset({7})),
    INSERT_INDEX: _bulk("kisalert_alerts", ["ts_us", "hash", "header"]),
    INSERT_MESSAGE: _bulk("messages", MESSAGE_COLUMNS),
}

INSERT_DEFINITION = "INSERT OR IGNORE INTO kisalert_definitions (name, record) VALUES (?, ?)"

# An id a client may have seen whose alert a crash lost: an index row that no alert
# row joins (no header is empty), kept and pruned like the alert's would have been.
INSERT_LOST_ID = (
    "INSERT INTO kisalert_alerts (ts_us, hash, header) SELECT :ts, :id, '' WHERE NOT EXISTS "
    "(SELECT 1 FROM kisalert_alerts WHERE hash = :id AND ts_us = :ts)"
)

# Told, on the event loop, about the alerts of each transaction in the order they
# were appended: with None once they are committed; with the reason while their
# commit fails (the writer retries, and reports them again once it succeeds).
Settled = Callable[[list[Alert], str | None], None]
# Told, on the event loop, about the alerts of each committed transaction in order
# (readers of the log, such as the forwarding runners, wait for these).
Listener = Callable[[list[Alert]], None]


# `:id` itself if the log does not hold it, else the end of the run of taken ids
# that starts there, plus one (NULL when the run reaches 2**32 - 1).
FIRST_FREE = (
    "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM kisalert_alerts WHERE hash = :id) THEN :id "
    "ELSE (SELECT k.hash + 1 FROM kisalert_alerts k WHERE k.hash >= :id AND NOT EXISTS "
    "(SELECT 1 FROM kisalert_alerts j WHERE j.hash = k.hash + 1) ORDER BY k.hash LIMIT 1) END"
)


class IdFilter:
    """Which alert ids the log may hold: a fixed 4 MiB bit set over a hash of the id.

    A raise must check that its id is not taken. Asking SQLite every time costs a
    query per raise on the event loop; the filter answers "certainly not" for almost
    every id, and only a hit is checked in the database. Bits are never cleared
    (alerts pruned later only cause extra checks until the next start).
    """

    _SHIFT = 7  # 2**32 ids onto 2**25 bits

    def __init__(self) -> None:
        self._bits = bytearray(1 << (32 - self._SHIFT - 3))

    @classmethod
    def _slot(cls, alert_id: int) -> int:
        # Multiplicative hashing spreads the similar checksums of similar alerts.
        return ((alert_id * 0x9E3779B1) & 0xFFFFFFFF) >> cls._SHIFT

    def add(self, alert_id: int) -> None:
        slot = self._slot(alert_id)
        self._bits[slot >> 3] |= 1 << (slot & 7)

    def __contains__(self, alert_id: int) -> bool:
        slot = self._slot(alert_id)
        return bool(self._bits[slot >> 3] & (1 << (slot & 7)))


class LogError(Exception):
    """The log cannot be opened; str() is one line saying why."""


def alert_statements(alert: Alert) -> list[tuple[str, tuple[Any, ...]]]:
    """An alert's rows: the alert, its index entry and its message, in one commit."""
    return [
        (INSERT_ALERT, rows.alert_row(alert)),
        (INSERT_INDEX, (alert.timestamp_us, alert.alert_id, alert.header)),
        (INSERT_MESSAGE, rows.alert_message_row(alert)),
    ]


class AlertLog:
    def __init__(
        self,
        path: Path,
        sync: str = "batched",
        commit_ms: int = 100,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self.path = path
        self.strict = sync == "strict"
        self._limit = queue_limit
        window = 0.0 if self.strict else commit_ms / 1000
        self._writer = Writer(path, sync, self._committed, window, BULK_INSERTS)
        self._reader: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queued = 0
        self._pending: dict[int, Alert] = {}  # accepted, not yet committed, by id
        self._failure: str | None = None
        self._journal = IdJournal(path.with_name(path.name + JOURNAL_SUFFIX))
        self._lost_newest_us = 0  # the newest stamp among the ids a crash lost
        self.settled: Settled | None = None
        # Besides `settled`, which the tracker (strict mode) or the cluster owns.
        self.listeners: list[Listener] = []
        self._ids = IdFilter()
        # The ids of the newest alerts, exactly: similar alerts have nearby checksums,
        # so most collisions are with recent alerts and are settled without SQLite.
        self._recent: set[int] = set()
        self._recent_order: deque[int] = deque()

    # Life cycle

    def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            self._writer.start()
            self._keep_lost_ids()
            if not self.strict:
                self._journal.start()
            self._reader = connect(self.path, "batched")
            self._reader.execute("PRAGMA query_only = ON")
            for (alert_id,) in self._reader.execute(
                "SELECT hash FROM kisalert_alerts ORDER BY rowid"
            ):
                self._remember(alert_id)
        except SchemaError as exc:
            raise LogError(str(exc)) from None
        except (sqlite3.Error, OSError) as exc:
            raise LogError(f"cannot open the alert log {self.path}: {exc}") from None

    def _keep_lost_ids(self) -> None:
        """After a crash in batched mode: commit the journal's ids that the log does not
        hold as taken, then drop the journal."""
        lost = self._journal.leftovers()
        if lost:
            db = connect(self.path, "strict")
            try:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(INSERT_LOST_ID, [{"ts": ts, "id": i} for ts, i in lost])
                db.execute("COMMIT")
            finally:
                db.close()
            self._lost_newest_us = max(ts for ts, _ in lost)
        self._journal.path.unlink(missing_ok=True)

    async def close(self) -> None:
        """Commit everything queued and checkpoint, so the file alone holds every alert."""
        await asyncio.to_thread(self._writer.stop)
        if not self.strict:
            # What the writer could not commit (it gave up on a failing disk) stays taken.
            with contextlib.suppress(OSError):
                self._journal.close(self._pending.values())
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # Writing (event loop thread)

    def has_room(self) -> bool:
        return self.failure is None and self._queued < self._limit

    @property
    def failure(self) -> str | None:
        return self._failure or self._journal.failing(self._pending.values())

    @property
    def queued(self) -> int:
        """Writes submitted and not yet committed (for /metrics)."""
        return self._queued

    @property
    def writer(self) -> Writer:
        return self._writer

    def append(self, alert: Alert) -> None:
        """Queue an alert; `settled` hears of its commit. In batched mode, before the
        alert is visible: if its id cannot be journaled, later raises are refused."""
        if not self.strict:
            self._journal.add(alert)
        self._pending[alert.alert_id] = alert
        self._remember(alert.alert_id)
        self._submit(Write(alert_statements(alert), alert))

    def _remember(self, alert_id: int) -> None:
        self._ids.add(alert_id)
        if alert_id not in self._recent:
            self._recent.add(alert_id)
            self._recent_order.append(alert_id)
            if len(self._recent_order) > RECENT_IDS:
                self._recent.discard(self._recent_order.popleft())

    def message(self, message: Message) -> None:
        """Log a server message. An alert's own message is written with the alert."""
        if message.flags & messages.ALERT:
            return
        self._submit(Write([(INSERT_MESSAGE, rows.message_row(message))]))

    def save_definition(self, definition: Definition) -> None:
        statement = (INSERT_DEFINITION, (definition.name, rows.definition_blob(definition)))
        self._submit(Write([statement]))

    def prune(self, before_us: int) -> None:
        """Delete alerts (and messages) stamped before `before_us`."""
        sec, usec = divmod(before_us, 1_000_000)
        # Pruned ids become free again; forget which were recent rather than track it.
        self._recent.clear()
        self._recent_order.clear()
        self._submit(
            Write(
                [
                    (
                        "DELETE FROM alerts WHERE ts_sec < ? OR (ts_sec = ? AND ts_usec < ?)",
                        (sec, sec, usec),
                    ),
                    ("DELETE FROM kisalert_alerts WHERE ts_us < ?", (before_us,)),
                    ("DELETE FROM messages WHERE ts_sec < ?", (sec,)),
                ]
            )
        )

    def _submit(self, write: Write) -> None:
        self._queued += 1
        self._writer.submit(write)

    def _committed(self, batch: list[Write], error: BaseException | None) -> None:
        # On the writer thread: hand the result to the event loop in one call.
        assert self._loop is not None
        # RuntimeError: the loop is closed, we are shutting down and nobody waits.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._settle, batch, error)

    def _settle(self, batch: list[Write], error: BaseException | None) -> None:
        alerts: list[Alert] = [write.token for write in batch if write.token is not None]
        if isinstance(error, LeftOut):
            # Never to be written: no longer queued or pending, and a strict-mode
            # raise waiting for it is answered 503. The log goes on.
            self._queued -= len(batch)
            for alert in alerts:
                self._pending.pop(alert.alert_id, None)
            if alerts and self.settled is not None:
                self.settled(alerts, f"the alert log cannot store this alert ({error})")
            return
        if error is not None:
            self._failure = f"the alert log cannot be written ({error})"
            if alerts and self.settled is not None:
                self.settled(alerts, self._failure)
            return
        self._failure = None
        self._queued -= len(batch)
        pending = self._pending
        for alert in alerts:
            pending.pop(alert.alert_id, None)
        if not self.strict:
            self._journal.compact(pending.values(), len(pending))
        if alerts and self.settled is not None:
            self.settled(alerts, None)
        if alerts:
            for listener in self.listeners:
                listener(alerts)

    # Reading (event loop thread)

    def _db(self) -> sqlite3.Connection:
        assert self._reader is not None
        return self._reader

    def first_free(self, alert_id: int) -> int:
        """The smallest id from `alert_id` on (mod 2**32) that the log does not hold.

        Similar alerts have similar checksums, so taken ids come in runs; SQLite
        walks a run in one query instead of one query per id.
        """
        candidate = alert_id
        while True:
            if candidate in self._recent or candidate in self._pending:
                candidate = (candidate + 1) & 0xFFFFFFFF
                continue
            if candidate not in self._ids:
                return candidate
            row = self._db().execute(FIRST_FREE, {"id": candidate}).fetchone()
            if row[0] == candidate:
                return candidate
            candidate = row[0] & 0xFFFFFFFF if row[0] is not None else 0

    def by_id(self, alert_id: int) -> Alert | None:
        # A pending alert is visible in batched mode only; strict mode shows it once
        # it is committed, and then it is found below.
        pending = None if self.strict else self._pending.get(alert_id)
        if pending is not None:
            return pending
        for (blob,) in self._db().execute(
            "SELECT a.json FROM kisalert_alerts k JOIN alerts a "
            "ON a.ts_sec = k.ts_us / 1000000 AND a.ts_usec = k.ts_us % 1000000 "
            "AND a.header = k.header WHERE k.hash = ?",
            (alert_id,),
        ):
            alert = Alert.from_json(blob)
            if alert is not None and alert.alert_id == alert_id:
                return alert
        return None

    def recent(self, count: int) -> list[Alert]:
        """The newest `count` alerts, oldest first."""
        if count <= 0:
            return []
        found = (
            self._db()
            .execute("SELECT json FROM alerts ORDER BY ts_sec DESC, ts_usec DESC LIMIT ?", (count,))
            .fetchall()
        )
        loaded = (Alert.from_json(blob) for (blob,) in reversed(found))
        return [alert for alert in loaded if alert is not None]

    def newest_us(self) -> int:
        """The newest stamp a client may have seen: of the log's alerts, or of those
        a crash lost."""
        return max(reader.newest_us(self._db()), self._lost_newest_us)

    def last_sent(self, header: str) -> int:
        row = (
            self._db()
            .execute("SELECT MAX(ts_us) FROM kisalert_alerts WHERE header = ?", (header,))
            .fetchone()
        )
        return int(row[0]) if row and row[0] is not None else 0

    def definitions(self) -> list[Definition]:
        """Definitions made over the API, in the order they were made."""
        return [
            rows.definition_from_blob(blob)
            for (blob,) in self._db().execute(
                "SELECT record FROM kisalert_definitions ORDER BY seq"
            )
        ]

    def sent_times(self, header: str, after_us: int, limit: int) -> Sequence[int]:
        """Stamps of the newest `limit` alerts of `header` after `after_us`, oldest first."""
        found = (
            self._db()
            .execute(
                "SELECT ts_us FROM kisalert_alerts WHERE header = ? AND ts_us > ? "
                "ORDER BY ts_us DESC LIMIT ?",
                (header, after_us, limit),
            )
            .fetchall()
        )
        return [ts for (ts,) in reversed(found)]
