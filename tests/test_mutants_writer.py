"""The log writer on a real SQLite file, in process: what a failing disk does to it,
how it stops, what it leaves behind, and what it reports.

A failing disk is a trigger that aborts every insert into `messages` (dropped to make
the disk good again), or another connection holding SQLite's write lock past the
writer's busy timeout. The commit window's timing is tests/test_commit_window.py's.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kisalert.alert import Alert, AlertDraft
from kisalert.alertlog import LOG_NAME, LogError
from kisalert.alertlog.log import BULK_INSERTS, INSERT_ALERT, INSERT_MESSAGE
from kisalert.alertlog.rows import alert_row
from kisalert.alertlog.schema import SchemaError
from kisalert.alertlog.transfer import export_log
from kisalert.alertlog.writer import Write, Writer
from tests.slack import slack
from tests.test_alertlog import build_kismet_log

# A statement with no bulk form: a batch of several runs it once per row.
INSERT = "INSERT INTO messages (ts_sec, lat, lon, msgtype, message) VALUES (?, 0, 0, 'INFO', ?)"
FAIL = (
    "CREATE TRIGGER failing BEFORE INSERT ON messages "
    "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
)
ERROR = "disk on fire"


class Report:
    """The writer's commit reports: (tokens, error text or None), in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[Any], str | None]] = []
        self._lock = threading.Lock()

    def committed(self, batch: list[Write], error: BaseException | None) -> None:
        with self._lock:
            self.calls.append(([w.token for w in batch], None if error is None else str(error)))

    def snapshot(self) -> list[tuple[list[Any], str | None]]:
        with self._lock:
            return list(self.calls)


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + slack(10)
    while not check():
        assert time.monotonic() < deadline, f"still not {what}"
        time.sleep(0.01)


def alert(number: int) -> Alert:
    draft = AlertDraft("LOGGED", "OTHER", 10, -1, f"alert {number}")
    return Alert.from_draft(draft, 1_764_420_000_000_000 + number, number)


def write(token: Any) -> Write:
    return Write([(INSERT, (1_764_420_000, str(getattr(token, "header", token))))], token)


def logged(path: Path) -> list[str]:
    return [text for (text,) in query(path, "SELECT message FROM messages ORDER BY rowid")]


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def other_connection(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


@contextmanager
def started(
    path: Path,
    report: Report,
    sync: str = "batched",
    window: float = 0.0,
    bulk: dict[str, str] | None = None,
) -> Iterator[Writer]:
    writer = Writer(path, sync, report.committed, window, bulk)
    writer.start()
    try:
        yield writer
    finally:
        stop_within(writer, slack(10))


def stop_within(writer: Writer, seconds: float) -> None:
    """Stop the writer from another thread: a writer that never stops fails the test
    instead of hanging it."""
    stopper = threading.Thread(target=writer.stop, daemon=True)
    stopper.start()
    stopper.join(seconds)
    assert not stopper.is_alive(), "the writer did not stop"


# The log's threads only: other tests in this process leave their own behind (the
# access-log filter's sweeper lives as long as the process).
WRITER_THREADS = ("kisalert-log", "kisalert-checkpoint")


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name in WRITER_THREADS]


def test_a_failing_disk_never_drops_a_write(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / LOG_NAME
    report = Report()
    with started(path, report) as writer:
        assert writer.failed_commits == 0
        db = other_connection(path)
        db.execute(FAIL)
        writer.submit(write("first"))
        eventually(lambda: len(report.snapshot()) == 1, "told of the failure")
        # A write queued behind the failing one is told of the failure too (in strict
        # mode its raise is answered 503 rather than left waiting).
        writer.submit(write("second"))
        eventually(lambda: len(report.snapshot()) == 2, "told of the failure")
        # Retried past the three tries a stop allows, and nothing given up.
        eventually(lambda: writer.failed_commits >= 4, "retried")
        db.execute("DROP TRIGGER failing")
        db.close()
        eventually(lambda: len(report.snapshot()) == 3, "committed")
        assert report.snapshot() == [
            (["first"], ERROR),
            (["second"], ERROR),
            (["first", "second"], None),
        ]
        assert logged(path) == ["first", "second"]
    assert capfd.readouterr().err == ""


def failing_writer(path: Path) -> Writer:
    """A started batched writer on a log whose inserts into `messages` all fail."""
    writer = Writer(path, "batched", Report().committed)
    writer.start()
    db = other_connection(path)
    db.execute(FAIL)
    db.close()
    return writer


def test_a_stop_while_the_disk_fails_gives_up_after_three_tries_and_prints_the_alerts(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    writer = failing_writer(tmp_path / LOG_NAME)
    lost = [alert(1), alert(2)]
    writer.submit(Write([(INSERT, (1, "first"))], lost[0]))
    writer.submit(Write([(INSERT, (2, "second"))], lost[1]))
    writer.submit(Write([(INSERT, (3, "a message, not an alert"))]))
    stop_within(writer, slack(10))
    assert writer.failed_commits == 3
    assert capfd.readouterr().err == (
        f"kisalert: the alert log could not be written ({ERROR}); "
        "2 alerts not in the log follow, one JSON record per line:\n"
        + "".join(f"{a.json.decode()}\n" for a in lost)
    )
    assert not writer_threads()


def test_a_stop_asked_for_while_the_disk_fails_gives_up_the_same(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    writer = failing_writer(tmp_path / LOG_NAME)
    lost = alert(1)
    writer.submit(Write([(INSERT, (1, "first"))], lost))
    eventually(lambda: writer.failed_commits >= 1, "failed")
    stop_within(writer, slack(10))
    assert capfd.readouterr().err.endswith(f"{lost.json.decode()}\n")
    assert not writer_threads()


def test_a_stop_while_the_disk_fails_stops_once_the_disk_is_good_again(tmp_path: Path) -> None:
    path = tmp_path / LOG_NAME
    report = Report()
    writer = Writer(path, "batched", report.committed)
    writer.start()
    blocker = other_connection(path)
    blocker.execute("BEGIN IMMEDIATE")  # held past the writer's 5 s busy timeout, twice
    writer.submit(write("held"))
    eventually(lambda: writer.failed_commits == 1, "failed once")
    stopper = threading.Thread(target=writer.stop, daemon=True)
    stopper.start()
    eventually(lambda: writer.failed_commits == 2, "failed again, with the stop asked for")
    blocker.execute("ROLLBACK")
    blocker.close()
    stopper.join(slack(15))
    assert not stopper.is_alive(), "the writer did not stop"
    assert report.snapshot() == [(["held"], "database is locked"), (["held"], None)]
    assert logged(path) == ["held"]


def test_several_rows_of_one_statement_are_committed_together(tmp_path: Path) -> None:
    path = tmp_path / LOG_NAME
    report = Report()
    # A commit window of a second: the three writes, queued at once, are one batch.
    writer = Writer(path, "batched", report.committed, window=1.0)
    writer.start()
    try:
        for name in ("one", "two", "three"):
            writer.submit(write(name))
        eventually(lambda: bool(report.snapshot()), "committed")
        assert report.snapshot() == [(["one", "two", "three"], None)]
        assert logged(path) == ["one", "two", "three"]
    finally:
        stop_within(writer, slack(10))


def test_the_writer_thread_sleeps_when_idle_and_leaves_nothing_running_behind(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / LOG_NAME
    report = Report()
    with started(path, report) as writer:
        threads = {t.name: t for t in writer_threads()}
        assert sorted(threads) == ["kisalert-checkpoint", "kisalert-log"]
        # Neither keeps the process alive should the server die without stopping it.
        assert all(t.daemon for t in threads.values())
        log_thread = threads["kisalert-log"]
        assert log_thread.native_id is not None
        before = cpu_ticks(log_thread.native_id)
        time.sleep(slack(0.5))
        assert cpu_ticks(log_thread.native_id) - before <= 2, "the idle writer is busy"
        writer.submit(write("one"))
        eventually(lambda: bool(report.snapshot()), "committed")
        # While it runs, the log file alone (a copy without its -wal) soon holds what
        # was committed: the checkpointer folds the WAL into it.
        eventually(lambda: main_file_messages(path) == ["one"], "checkpointed")
    assert not writer_threads()
    assert capfd.readouterr().err == ""
    assert query(path, "SELECT message FROM messages") == [("one",)]


def cpu_ticks(native_id: int) -> int:
    """User and system CPU time of one of this process's threads, in clock ticks."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main_file_messages(path: Path) -> list[str]:
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return [text for (text,) in db.execute("SELECT message FROM messages")]
    except sqlite3.Error:
        return []
    finally:
        db.close()


def test_commit_times_are_reported_for_metrics(tmp_path: Path) -> None:
    path = tmp_path / LOG_NAME
    report = Report()
    with started(path, report) as writer:
        writer.submit(write("one"))
        eventually(lambda: report.snapshot()[-1:] == [(["one"], None)], "committed")
        writer.submit(write("two"))
        eventually(lambda: report.snapshot()[-1:] == [(["two"], None)], "committed")
        _, total = writer.commit_seconds.buckets()
        assert sum(writer.commit_seconds.counts) == 2
        assert 0 < total < slack(5)


def test_files_an_older_version_left_readable_are_made_private(tmp_path: Path) -> None:
    path = tmp_path / LOG_NAME
    report = Report()
    with started(path, report):
        pass
    siblings = [path.with_name(path.name + end) for end in ("-wal", "-shm")]
    for file in (path, *siblings):
        file.touch()
        os.chmod(file, 0o644)
    with started(path, report):
        assert {f.name: f.stat().st_mode & 0o777 for f in (path, *siblings)} == {
            f.name: 0o600 for f in (path, *siblings)
        }


def test_a_file_that_is_not_a_kismet_log_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / LOG_NAME
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (name TEXT)")
    db.close()
    writer = Writer(path, "batched", Report().committed)
    with pytest.raises(SchemaError) as info:
        writer.start()
    assert str(info.value) == f"{path} is not a Kismet log (no KISMET or alerts table)"


def test_a_failed_commit_is_reported_at_once_and_again_once_it_succeeds(tmp_path: Path) -> None:
    # In strict mode the first report answers the raise 503 rather than leaving it
    # waiting out the retries.
    path = tmp_path / LOG_NAME
    report = Report()
    with started(path, report, sync="strict") as writer:
        fails_once(path, writer, "one")
        eventually(lambda: report.snapshot()[-1:] == [(["one"], None)], "committed")
        assert report.snapshot() == [(["one"], ERROR), (["one"], None)]


def fails_once(path: Path, writer: Writer, name: str) -> None:
    """Submit the write `name` on a failing disk, and make the disk good again once its
    first commit has failed (the writer retries half a second later)."""
    db = other_connection(path)
    db.execute(FAIL)
    writer.submit(write(name))
    eventually(lambda: writer.failed_commits >= 1, "failed")
    db.execute("DROP TRIGGER failing")
    db.close()


class Ages(Report):
    """Commit reports, and each write's age (from its submission) at its commit."""

    def __init__(self) -> None:
        super().__init__()
        self.ages: dict[Any, float] = {}

    def committed(self, batch: list[Write], error: BaseException | None) -> None:
        now = time.monotonic()
        if error is None:
            for w in batch:
                self.ages[w.token] = now - w.submitted
        super().committed(batch, error)


def committed(writer: Writer, ages: Ages, name: str) -> None:
    """Submit the write `name` and wait for its commit."""
    writer.submit(write(name))
    eventually(lambda: name in ages.ages, f"{name} committed")


def test_writes_within_one_window_share_a_commit_made_before_the_window_ends(
    tmp_path: Path,
) -> None:
    path = tmp_path / LOG_NAME
    ages = Ages()
    window = slack(0.5)
    with started(path, ages, window=window) as writer:
        writer.submit(write("first"))
        # Well inside the window: the writer is still gathering.
        time.sleep(window / 4)
        committed(writer, ages, "second")
        assert ages.snapshot() == [(["first", "second"], None)]
        # The window is a deadline: the writer commits a little before it ends.
        assert ages.ages["first"] <= window, ages.ages


def test_after_a_slow_batch_writes_are_committed_at_once_until_it_is_forgotten(
    tmp_path: Path,
) -> None:
    """A write queued after a batch that took longer than the window has waited long
    enough: it is committed at once. Once sixteen quick batches have followed, the
    slow one no longer counts and writes are gathered again."""
    path = tmp_path / LOG_NAME
    ages = Ages()
    window = 0.2  # shorter than one retry of a failed commit
    with started(path, ages, window=window) as writer:
        fails_once(path, writer, "slow")
        eventually(lambda: "slow" in ages.ages, "committed")
        for number in range(16):
            committed(writer, ages, f"quick-{number}")
            assert ages.ages[f"quick-{number}"] <= window, ages.ages
        writer.submit(write("first"))
        time.sleep(window / 4)
        committed(writer, ages, "second")
        assert ages.snapshot()[-1] == (["first", "second"], None)


def test_a_text_with_a_nul_character_is_logged_whole_in_a_batch(tmp_path: Path) -> None:
    path = tmp_path / LOG_NAME
    report = Report()
    texts = ["before\x00after", "plain", "\x00"]
    with started(path, report, window=0.2, bulk=BULK_INSERTS) as writer:
        for text in texts:
            writer.submit(Write([(INSERT_MESSAGE, (1_764_420_000, 0, 0, "ALERT", text))], text))
        eventually(lambda: bool(report.snapshot()), "committed")
        assert report.snapshot() == [(texts, None)]
        assert logged(path) == texts


def test_a_failed_checkpoint_at_the_stop_is_told_on_stderr_and_the_stop_still_ends(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / LOG_NAME
    report = Report()
    writer = Writer(path, "batched", report.committed)
    writer.start()
    writer.submit(write("one"))
    # Once "one" is checkpointed the checkpointer rests for a second, so "two" is
    # left in the WAL for the writer's own checkpoint at its stop.
    eventually(lambda: main_file_messages(path) == ["one"], "checkpointed")
    writer.submit(write("two"))
    eventually(lambda: len(report.snapshot()) == 2, "committed")
    # The disk loses the WAL under the log: the checkpoint cannot read "two" back.
    os.truncate(path.with_name(path.name + "-wal"), 0)
    stop_within(writer, slack(10))
    assert not writer_threads()
    out, err = capfd.readouterr()
    assert out == ""
    # (On a machine stalled past that second the checkpointer says the same first.)
    assert err.endswith("kisalert: alert log checkpoint failed: disk I/O error\n"), err


def test_export_to_a_file_sqlite_keeps_in_memory_says_why_it_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite takes the name ":memory:" for a database in memory, which has no WAL mode:
    # the export is refused with the journal mode SQLite gave instead.
    source = build_kismet_log(tmp_path / "kismet.kismet")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LogError) as refused:
        export_log(source, Path(":memory:"), None, None)
    assert str(refused.value) == (
        "cannot open the alert log :memory:: cannot use WAL journal mode (got memory)"
    )


def test_alerts_written_together_keep_their_json_records_whole(tmp_path: Path) -> None:
    """Several alerts in one transaction go in as one bulk insert, their JSON blobs
    carried as text: each row must hold its alert's record exactly."""
    path = tmp_path / LOG_NAME
    report = Report()
    alerts = [alert(n) for n in range(3)]
    with started(path, report, window=0.2, bulk=BULK_INSERTS) as writer:
        for item in alerts:
            writer.submit(Write([(INSERT_ALERT, alert_row(item))], item.alert_id))
        eventually(lambda: bool(report.snapshot()), "committed")
    assert report.snapshot() == [([0, 1, 2], None)]
    rows = query(path, "SELECT json FROM alerts ORDER BY rowid")
    assert [bytes(blob) for (blob,) in rows] == [item.json for item in alerts]


def test_a_write_that_can_never_be_stored_is_left_out_and_the_rest_go_in(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A value SQLite cannot bind (an int past 64 bits; a lone surrogate) raised out of
    the writer thread: it died, and every later write was lost without a word."""
    path = tmp_path / LOG_NAME
    report = Report()
    with started(path, report, window=0.2) as writer:
        writer.submit(write("before"))
        writer.submit(Write([(INSERT, (2**70, "too big"))], "bad"))
        writer.submit(Write([(INSERT, (1_764_420_000, "\udcff"))], "surrogate"))
        writer.submit(write("after"))
        eventually(lambda: len(report.snapshot()) >= 3, "the batch settled")
        writer.submit(write("later"))
        eventually(lambda: "later" in logged(path), "a later write")
    assert logged(path) == ["before", "after", "later"]
    left_out = {tokens[0]: error for tokens, error in report.snapshot() if error}
    assert set(left_out) == {"bad", "surrogate"}
    assert "OverflowError" in left_out["bad"]
    assert capfd.readouterr().err.count("kisalert: alert log: left out a write") == 2


def test_a_writer_that_never_pauses_still_lets_the_wal_start_over(tmp_path: Path) -> None:
    """Strict mode under load: SQLite starts the WAL over only when a write begins
    after every frame was copied, which a busy writer never allowed. It grew by
    ~28 KB per alert (1.5 GB for 135 MB of log) until the checkpoint made it."""
    path = tmp_path / LOG_NAME
    report = Report()
    limit = 1 << 20
    wal = path.with_name(path.name + "-wal")
    largest = 0
    writer = Writer(path, "strict", report.committed, 0.0, None, wal_limit=limit)
    writer.start()
    try:
        deadline = time.monotonic() + 5.0
        number = 0
        while time.monotonic() < deadline:
            # Always a few writes queued, so the writer never waits for one.
            for _ in range(20):
                number += 1
                writer.submit(Write([(INSERT, (1_764_420_000, "x" * 2000 + str(number)))], number))
            while committed_count(report) < number - 40:
                time.sleep(0.001)
            time.sleep(0.005)  # about a server's pace: the writer still never waits
            largest = max(largest, wal.stat().st_size if wal.exists() else 0)
    finally:
        stop_within(writer, slack(10))
    assert len(logged(path)) == number
    size = path.stat().st_size
    print(f"largest WAL {largest} bytes, log {size} bytes, {number} writes")
    # It starts over about once a second, the checkpoint's pace: it never holds more
    # than a second or so of writes (here about a sixth of them), where before it
    # held them all.
    assert largest < size / 2, f"the WAL reached {largest} bytes for a log of {size}"


def committed_count(report: Report) -> int:
    return sum(len(tokens) for tokens, error in report.snapshot() if error is None)
