"""The log writer: one thread that owns the write connection and commits in groups.

Raises hand items to a queue and return at once; the thread takes everything that
has queued up, writes it in one transaction and commits, so many raises share one
commit (and, in strict mode, one fsync). A failing disk never drops an item: the
batch is retried until it is written, and meanwhile the queue fills and raises
answer 503.

In batched mode the commit window is a deadline: every item is committed within
`window` of its submission while the writer keeps up. The writer starts a batch
`window` after its oldest item was submitted, less what recent batches took from
their planned start to their commit (an item queued while the previous batch was
being written has waited that long already).
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from kisalert.alertlog.checkpointer import WAL_LIMIT, Checkpointer
from kisalert.alertlog.schema import prepare
from kisalert.datadir import create_private, make_private
from kisalert.histogram import SECONDS, Histogram

MAX_BATCH = 5000
RETRY_SECONDS = 0.5
# How many recent batches the cost of the next one is judged by (their worst).
COST_HISTORY = 16
# Added to that cost, for what recent batches did not show: a thread woken from its
# sleep may wait for the GIL up to the interpreter's switch interval (5 ms) while the
# event loop runs, and on a busy machine for a CPU. A tenth of the window, at least
# the switch interval.
SLACK_SHARE = 0.1
SLACK_SECONDS = 0.005
WAL_FILES = ("-wal", "-shm", "-journal")


class LeftOut(Exception):
    """A write the log can never take (a value SQLite or JSON cannot hold: a bug
    upstream), left out so that the writes after it go in; str() says why."""


@dataclass(slots=True)
class Write:
    """One unit of work for the writer: SQL statements with their parameters, and
    whatever the submitter wants handed back when it is committed."""

    statements: list[tuple[str, tuple[Any, ...]]]
    token: Any = None
    submitted: float = field(default=0.0, compare=False)  # time.monotonic(), set by submit


# Called on the writer thread once per transaction: the writes it held, and the
# error if the commit failed (the writer then retries the same writes).
Committed = Callable[[list[Write], BaseException | None], None]


_STOP = object()


def connect(path: Path, sync: str, check: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode. With `check`, the file's tables are created or
    checked first, so that a file kisalert refuses is left exactly as it was.

    The log holds what was seen on the air, so like every other data file it is
    readable by its owner alone: created 0600, and (once checked) tightened to that
    along with its -wal and -shm files if an older version left them wider."""
    create_private(path)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout = 5000")
    if check:
        try:
            prepare(db, path)
            make_private(path, *(path.with_name(path.name + end) for end in WAL_FILES))
        except BaseException:
            db.close()
            raise
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"cannot use WAL journal mode (got {mode})")
    db.execute(f"PRAGMA synchronous = {'FULL' if sync == 'strict' else 'NORMAL'}")
    return db


class Writer:
    def __init__(
        self,
        path: Path,
        sync: str,
        committed: Committed,
        window: float = 0.0,
        bulk: dict[str, str] | None = None,
        wal_limit: int = WAL_LIMIT,
    ) -> None:
        """`window`: seconds to gather writes into one commit (strict mode: 0, commit
        as soon as the writer is free; concurrent raises still share the commit);
        `wal_limit`: bytes of WAL past which it is made to start over."""
        self._path = path
        self._wal_limit = wal_limit
        self._sync = sync
        self._window = window
        self._slack = max(SLACK_SECONDS, window * SLACK_SHARE)
        # statement -> the same insert taking all rows as one JSON array
        self._bulk = bulk or {}
        self._queue: queue.SimpleQueue[Write | object] = queue.SimpleQueue()
        self._committed = committed
        self._thread: threading.Thread | None = None
        self._checkpointer: Checkpointer | None = None
        # Set by stop(): also cuts the writer's sleep short, so that a clean stop
        # does not wait out the window.
        self._stopping = threading.Event()
        # For /metrics: each transaction's time, BEGIN to COMMIT, and failed ones.
        self.commit_seconds = Histogram(SECONDS)
        self.failed_commits = 0

    def start(self) -> None:
        db = connect(self._path, self._sync, check=True)  # errors surface at start-up
        db.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's job
        # When the WAL starts over, its file is cut back to this.
        db.execute(f"PRAGMA journal_size_limit = {int(self._wal_limit)}")
        wal = self._path.with_name(self._path.name + "-wal")
        self._checkpointer = Checkpointer(
            connect(self._path, self._sync), wal, wal_limit=self._wal_limit
        )
        self._checkpointer.start()
        self._thread = threading.Thread(target=self._run, args=(db,), name="kisalert-log")
        self._thread.daemon = True
        self._thread.start()

    def submit(self, write: Write) -> None:
        write.submitted = time.monotonic()
        self._queue.put(write)

    def stop(self) -> None:
        """Write everything queued, checkpoint the WAL into the main file, and stop."""
        self._stopping.set()
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join()

    def _run(self, db: sqlite3.Connection) -> None:
        stop = False
        # Seconds each recent batch took from its planned start to its last commit:
        # oversleeping, waiting for the GIL and for SQLite's lock included.
        costs: deque[float] = deque(maxlen=COST_HISTORY)
        while not stop:
            first = self._queue.get()
            start = time.monotonic()
            if self._window and isinstance(first, Write) and not self._stopping.is_set():
                # Let the window fill. Sleeping (on the stop event, which nothing
                # but stop() sets) rather than waiting on the queue matters: a
                # thread woken by every put takes the GIL from the event loop once
                # per raise.
                due = first.submitted + self._window - max(costs, default=0.0) - self._slack
                if due > start:
                    self._stopping.wait(due - start)
                    start = due
            batch, stop = self._drain()
            if first is _STOP:
                stop = True
            elif isinstance(first, Write):
                batch.insert(0, first)
            for offset in range(0, len(batch), MAX_BATCH):
                if self._write(db, batch[offset : offset + MAX_BATCH]):
                    stop = True
            costs.append(time.monotonic() - start)
        if self._checkpointer is not None:
            self._checkpointer.stop()
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            print(f"kisalert: alert log checkpoint failed: {exc}", file=sys.stderr)
        db.close()

    def _drain(self) -> tuple[list[Write], bool]:
        """Everything queued now, and whether a stop request was among it."""
        writes: list[Write] = []
        stop = False
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return writes, stop
            if item is _STOP:
                stop = True
            elif isinstance(item, Write):
                writes.append(item)

    def _write(self, db: sqlite3.Connection, batch: list[Write]) -> bool:
        """Commit `batch`, retrying until it is written (or, stopping, until it is
        clear that it cannot be). Returns whether a stop request came meanwhile."""
        failures = 0
        stop = False
        while True:
            began = time.perf_counter()
            try:
                db.execute("BEGIN IMMEDIATE")
                for sql, rows in _grouped(batch).items():
                    bulk = self._bulk.get(sql)
                    data = _json(rows) if bulk is not None and len(rows) > 1 else None
                    if bulk is not None and data is not None:
                        db.execute(bulk, (data,))
                    else:
                        db.executemany(sql, rows)
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                failures += 1
                self.failed_commits += 1
                if failures == 1:
                    self._committed(list(batch), exc)
                # Writes queued behind a failing one learn of the failure too, so
                # that no strict-mode raise waits for a commit that is not coming.
                late, stopped = self._drain()
                stop = stop or stopped
                if late:
                    batch.extend(late)
                    self._committed(late, exc)
                if (stop or self._stopping.is_set()) and failures >= 3:
                    _give_up(batch, exc)
                    return True
                time.sleep(RETRY_SECONDS)
                continue
            except Exception as exc:  # the writer thread must not die
                # Not the disk: a value that can never be stored. Retrying would
                # stop the log for good, and letting the thread die would lose
                # every write after it without a word. Find the write and leave
                # it out; the others go in.
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                if len(batch) > 1:
                    for write in batch:
                        stop = self._write(db, [write]) or stop
                    return stop
                print(
                    f"kisalert: alert log: left out a write it cannot store "
                    f"({type(exc).__name__}: {exc})",
                    file=sys.stderr,
                    flush=True,
                )
                self._committed(batch, LeftOut(f"{type(exc).__name__}: {exc}"))
                return stop
            self.commit_seconds.observe(time.perf_counter() - began)
            self._committed(batch, None)
            if self._checkpointer is not None:
                self._checkpointer.committed()
            return stop


def _grouped(batch: list[Write]) -> dict[str, list[tuple[Any, ...]]]:
    """The batch's statements as one executemany per statement, in first-seen order.

    Safe because no write depends on the order of another's rows: inserts are of new
    rows, and pruning deletes only rows older than anything being inserted.
    """
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for write in batch:
        for sql, params in write.statements:
            rows = groups.get(sql)
            if rows is None:
                groups[sql] = [params]
            else:
                rows.append(params)
    return groups


def _json(rows: list[tuple[Any, ...]]) -> bytes | None:
    """The rows as one JSON array for a bulk insert, or None if they must go one by
    one: SQLite's JSON functions end a string at a NUL character (a raise's text may
    hold one), and the rows must reach the log whole."""
    data = orjson.dumps(rows, default=_text)
    return None if b"\\u0000" in data else data


def _text(value: object) -> str:
    """orjson's fallback: blobs (alert JSON) travel as text and are cast back."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode()
    raise TypeError(f"cannot log a {type(value).__name__}")


def _give_up(batch: list[Write], error: BaseException) -> None:
    """Shutting down with writes the disk will not take: put the alerts where an
    operator can find them rather than dropping them silently."""
    alerts = [w.token for w in batch if w.token is not None]
    print(
        f"kisalert: the alert log could not be written ({error}); "
        f"{len(alerts)} alerts not in the log follow, one JSON record per line:",
        file=sys.stderr,
    )
    for alert in alerts:
        print(alert.json.decode(), file=sys.stderr)
    sys.stderr.flush()
