"""Durability of the alert log (storage.md, "Durability"), with real processes and signals.

Every test runs `kisalert serve` as a subprocess, raises alerts from several client
threads, stops the server the hard way (SIGKILL), the clean way (SIGTERM) or by filling
its disk (RLIMIT_FSIZE), and then reads `kisalert.kismet` with sqlite3 and through a
restarted server:

- strict mode: no acknowledged alert is ever lost, none is duplicated;
- batched mode: a crash loses at most the alerts acknowledged in the last commit
  window (100 ms) before it;
- a clean stop checkpoints the WAL, so the main file alone is complete;
- a full disk turns raises into 503s, never into silently dropped alerts.

Throughput (acknowledged raises per second) is printed; run with `-s` to see it.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.http.test_metrics import scrape, value
from tests.server import BASE_CONFIG, PASSWORD, USER, Server, free_port, wait_for
from tests.slack import slack
from tests.soak import rounds

NAME = "CRASH"
RAISE_PATH = "/alerts/raise_alerts.cmd"
# Rates no test reaches: the throttle must never answer 429 here.
CONFIG = BASE_CONFIG + f"alert={NAME},1000000/sec,1000000/sec\n"
LOG = "kisalert.kismet"
THREADS = 8
# kis_log_commit_ms's default; what the tests allow is stretched by the slack factor
# (a loaded machine's writer falls behind the window it aims at).
COMMIT_WINDOW = 0.100
MARGIN = 0.400
# Alerts with some text: bigger batches, whose writes take long enough to matter.
TEXT_SIZE = 2000
SEED = 20240917


# Client side: threads that raise alerts and record every answer.


@dataclass(slots=True)
class Outcome:
    text: str
    worker: int
    sent_at: float  # time.monotonic() when the request was sent
    answered_at: float  # ... when its answer (or the error) came
    status: int | None  # None: no answer (connection error or timeout)
    body: str


@dataclass
class Load:
    """Client threads raising uniquely texted alerts until told to stop."""

    url: str
    prefix: str
    threads: int = THREADS
    text_size: int = 0  # pad texts to about this many bytes
    timeout: float = slack(10.0)
    # Stop a thread after this many answers other than 200; None: only on stop()
    # or when the server is gone (a connection error).
    max_failures: int | None = None
    deadline: float = float("inf")
    outcomes: list[Outcome] = field(default_factory=list)
    started_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        self.started_at = time.monotonic()
        for number in range(self.threads):
            worker = threading.Thread(target=self._run, args=(number,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 30.0) -> None:
        end = time.monotonic() + slack(timeout)
        for worker in self._workers:
            worker.join(max(0.0, end - time.monotonic()))
        assert not any(w.is_alive() for w in self._workers), "client threads did not finish"

    def acked(self) -> dict[str, float]:
        """Text -> when its 200 arrived."""
        with self._lock:
            return {o.text: o.answered_at for o in self.outcomes if o.status == 200}

    def sent(self) -> set[str]:
        with self._lock:
            return {o.text for o in self.outcomes}

    def _run(self, number: int) -> None:
        session = requests.Session()
        session.auth = (USER, PASSWORD)
        pad = "x" * self.text_size
        failures = 0
        count = 0
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            text = f"{self.prefix}-w{number}-{count}" + (f"-{pad}" if pad else "")
            count += 1
            body = {"json": json.dumps({"name": NAME, "text": text})}
            sent_at = time.monotonic()
            status: int | None
            try:
                response = session.post(self.url + RAISE_PATH, data=body, timeout=self.timeout)
                status, answer = response.status_code, response.text
            except requests.Timeout as exc:
                status, answer = None, f"no answer within {self.timeout} s: {type(exc).__name__}"
            except requests.RequestException as exc:
                status, answer = None, f"connection error: {type(exc).__name__}"
            outcome = Outcome(text, number, sent_at, time.monotonic(), status, answer)
            with self._lock:
                self.outcomes.append(outcome)
            if status != 200:
                failures += 1
                gone = status is None and answer.startswith("connection error")
                if gone or (self.max_failures is not None and failures >= self.max_failures):
                    break
        session.close()


# Server side.


def define(server_url: str) -> None:
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    body = {"name": NAME, "description": "durability test", "throttle": "1000000/sec"}
    body["burst"] = "1000000/sec"
    response = session.post(
        server_url + "/alerts/definitions/define_alert.cmd",
        data={"json": json.dumps(body)},
        timeout=10,
    )
    session.close()
    assert response.status_code == 200, response.text


def start(workdir: Path, sync: str | None = None) -> Server:
    config = CONFIG + (f"kis_log_sync={sync}\n" if sync else "")
    server = Server(workdir, config)
    define(server.url)
    return server


def log_path(workdir: Path) -> Path:
    return workdir / "data" / LOG


@dataclass
class LogContents:
    integrity: str
    texts: Counter[str]  # text -> rows holding it (alerts of NAME only)
    ids: dict[str, int]  # text -> kismet.alert.hash


def read_log(db_file: Path, scratch: Path, with_wal: bool = True) -> LogContents:
    """Copy the log (and its WAL, never the -shm) to `scratch` and read the copy,
    so the real data dir is left exactly as the server left it."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    copy = scratch / db_file.name
    shutil.copyfile(db_file, copy)
    wal = db_file.with_name(db_file.name + "-wal")
    if with_wal and wal.exists():
        shutil.copyfile(wal, scratch / wal.name)
    db = sqlite3.connect(copy)
    try:
        integrity = "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
        texts: Counter[str] = Counter()
        ids: dict[str, int] = {}
        for (blob,) in db.execute("SELECT json FROM alerts WHERE header = ?", (NAME,)):
            record = json.loads(blob)
            text = record["kismet.alert.text"]
            texts[text] += 1
            ids[text] = record["kismet.alert.hash"]
    finally:
        db.close()
    return LogContents(integrity, texts, ids)


def check_log(
    log: LogContents, must_hold: Iterable[str], context: str, ack_times: dict[str, float]
) -> None:
    assert log.integrity == "ok", f"{context}: integrity_check says {log.integrity}"
    doubled = sorted(text for text, n in log.texts.items() if n > 1)
    assert not doubled, f"{context}: {len(doubled)} alerts logged twice, e.g. {doubled[:3]}"
    missing = sorted(text for text in must_hold if log.texts[text] == 0)
    assert not missing, (
        f"{context}: {len(missing)} acknowledged alerts missing from the log, e.g. "
        + ", ".join(f"{t[:40]} (200 at t={ack_times.get(t, 0):.3f})" for t in missing[:5])
    )


def check_by_id(server: Server, log: LogContents, texts: list[str], rng: random.Random) -> None:
    """The restarted server finds a sample of acknowledged alerts by id (most have left
    the 50-alert backlog, so these come from the log)."""
    sample = rng.sample(texts, min(25, len(texts))) + texts[-5:]
    for text in sample:
        response = server.get(f"/alerts/by-id/{log.ids[text]}/alert.json")
        assert response.status_code == 200, f"by-id for {text!r}: {response.status_code}"
        assert response.json()["kismet.alert.text"] == text


# 1 and 2: SIGKILL while clients raise.


def crash_cycles(tmp_path: Path, sync: str, cycles: int) -> tuple[dict[str, float], float]:
    """Kill the server `cycles` times while raising; after each restart check the log.

    Returns every acknowledged text (with when its 200 came) and the seconds spent raising.
    """
    rng = random.Random(SEED + (sync == "strict"))
    must_hold: dict[str, float] = {}  # acknowledged and safe: must be logged, once
    acked_all: dict[str, float] = {}
    sent_all: set[str] = set()
    raising = 0.0

    def by_time() -> list[str]:
        return sorted(must_hold, key=must_hold.__getitem__)

    log: LogContents | None = None  # as the last kill left it
    for cycle in range(cycles):
        server = start(tmp_path, sync)  # opens the log the kill left behind
        try:
            if log is not None:
                check_by_id(server, log, by_time(), rng)
            load = Load(server.url, f"{sync}-c{cycle}", text_size=TEXT_SIZE).start()
            time.sleep(slack(rng.uniform(0.2, 1.0)))  # the kill comes at a random moment
        finally:
            killed_at = time.monotonic()
            server.stop(signal.SIGKILL)
        load.join()
        raising += killed_at - load.started_at
        acked = load.acked()
        assert acked, f"cycle {cycle}: no raise was acknowledged"
        refused = Counter(o.status for o in load.outcomes if o.status not in (200, None))
        assert not refused, f"cycle {cycle}: raises refused: {refused}"
        acked_all.update(acked)
        sent_all |= load.sent()
        if sync == "strict":
            must_hold.update(acked)
        else:
            # Acknowledged earlier than the window before the kill: submitted to the
            # writer earlier still, so its commit was due before the kill.
            cutoff = killed_at - slack(COMMIT_WINDOW)
            must_hold.update({t: at for t, at in acked.items() if at <= cutoff})
        log = read_log(log_path(tmp_path), tmp_path / "scratch")
        check_log(log, must_hold, f"{sync}, after kill {cycle + 1}", acked_all)
        assert set(log.texts) <= sent_all, "the log holds texts nobody sent"
        lost = sorted(killed_at - at for t, at in acked.items() if log.texts[t] == 0)
        print(
            f"\n{sync} cycle {cycle}: {len(acked)} acknowledged, {len(load.sent())} sent, "
            f"{len(lost)} acknowledged but not logged after SIGKILL"
            + (
                f" (their 200s came {-lost[-1]:+.3f} to {-lost[0]:+.3f} s from the kill)"
                if lost
                else ""
            )
        )

    # The end: a last restart finds everything, and a clean stop leaves it in place.
    assert log is not None
    with start(tmp_path, sync) as server:
        check_by_id(server, log, by_time(), rng)
    log = read_log(log_path(tmp_path), tmp_path / "scratch", with_wal=False)
    check_log(log, must_hold, f"{sync}, after the final clean stop", acked_all)
    return acked_all, raising


# Two kills: the second comes to a server that opened the log the first left behind.
# KISALERT_TEST_SOAK=2 and more kill it more often, at more random moments.
CRASHES = rounds(2)


def test_strict_mode_loses_no_acknowledged_alert_on_sigkill(tmp_path: Path) -> None:
    acked, seconds = crash_cycles(tmp_path, "strict", cycles=CRASHES)
    print(f"\nstrict: {len(acked)} raises acknowledged, {len(acked) / seconds:.0f}/s")


def test_batched_mode_loses_at_most_the_last_commit_window_on_sigkill(tmp_path: Path) -> None:
    acked, seconds = crash_cycles(tmp_path, "batched", cycles=CRASHES)
    print(f"\nbatched: {len(acked)} raises acknowledged, {len(acked) / seconds:.0f}/s")


# 3: a clean stop.


def test_sigterm_after_a_burst_commits_and_checkpoints_everything(tmp_path: Path) -> None:
    server = start(tmp_path)
    load = Load(server.url, "term").start()
    deadline = time.monotonic() + slack(10)
    while len(load.acked()) < 1000 and time.monotonic() < deadline:
        time.sleep(0.01)
    # SIGTERM while the clients are still raising: every 200 they get, up to the
    # last one before the port closes, must be in the file.
    code = server.stop(signal.SIGTERM)
    load.join()
    acked = load.acked()
    assert code == 0, f"exit code {code}: {server.stderr()}"
    assert len(acked) >= 100
    wal = log_path(tmp_path).with_name(LOG + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the WAL was not checkpointed"
    log = read_log(log_path(tmp_path), tmp_path / "scratch", with_wal=False)
    check_log(log, acked, "the main file alone, after SIGTERM", acked)
    print(f"\nclean stop: {len(acked)} acknowledged, all in {LOG} alone")


# 4: a full disk.

# Bytes per file. The new log's WAL is ~190 KB; the WAL is checkpointed at ~4 MB, so
# with 6 MB the main file fills first (after ~1000 alerts of 2 KB), then the WAL.
FILE_LIMIT = 6_000_000
FILL_TIMEOUT = slack(3.0)  # a raise must be answered within this
FURTHER_ATTEMPTS = 10  # each client stops after this many answers other than 200
FILL_THREADS = 8


def start_limited(workdir: Path, config: str, limit: int) -> subprocess.Popen[bytes]:
    conf = workdir / "kisalert.conf"
    conf.write_text(config)
    port = free_port()
    out, err = workdir / "limited-stdout.txt", workdir / "limited-stderr.txt"
    args = [sys.executable, "-m", "kisalert", "serve", "--config", str(conf)]
    args += ["--data-dir", str(workdir / "data"), "--listen", f"127.0.0.1:{port}"]
    with out.open("wb") as out_file, err.open("wb") as err_file:
        proc = subprocess.Popen(
            args,
            stdout=out_file,
            stderr=err_file,
            # CPython ignores SIGXFSZ: a write past the limit fails with EFBIG.
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
        )
    proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    deadline = time.monotonic() + slack(20)
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited {proc.returncode}: {err.read_text()}"
        if "listening on" in out.read_text(errors="replace"):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return proc
            except OSError:
                pass
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    raise AssertionError(f"server did not start: {err.read_text()}")


@pytest.mark.parametrize("sync", ["strict", "batched"])
def test_a_full_disk_answers_503_and_loses_nothing_silently(tmp_path: Path, sync: str) -> None:
    config = CONFIG + f"kis_log_sync={sync}\n"
    proc = start_limited(tmp_path, config, FILE_LIMIT)
    url: str = proc.url  # type: ignore[attr-defined]
    try:
        define(url)
        load = Load(
            url,
            f"full-{sync}",
            threads=FILL_THREADS,
            text_size=2000,
            timeout=FILL_TIMEOUT,
            max_failures=1 + FURTHER_ATTEMPTS,
            deadline=time.monotonic() + slack(20),
        ).start()
        load.join(timeout=40)
        outcomes = sorted(load.outcomes, key=lambda o: o.answered_at)
        seconds = max(o.answered_at for o in outcomes) - load.started_at
        # A clean stop of the server whose disk is full: it must still exit.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(slack(8))
            stopped = f"exit code {proc.returncode} after SIGTERM"
        except subprocess.TimeoutExpired:
            stopped = f"still running {slack(8):g} s after SIGTERM"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    stderr = (tmp_path / "limited-stderr.txt").read_text(errors="replace")

    acked = {o.text: o.answered_at for o in outcomes if o.status == 200}
    refused = [o for o in outcomes if o.status == 503]
    unanswered = [o for o in outcomes if o.status is None]
    other = Counter(o.status for o in outcomes if o.status not in (200, 503, None))
    assert refused or unanswered, f"the disk never filled: {len(acked)} raises in {slack(20):g} s"
    first_refusal = min(o.answered_at for o in refused + unanswered)
    late_200s = [o for o in outcomes if o.status == 200 and o.sent_at > first_refusal]

    # Restart without the limit and see what the log holds.
    with start(tmp_path, sync):
        log = read_log(log_path(tmp_path), tmp_path / "scratch")
    missing = sorted((acked[t], t) for t in acked if log.texts[t] == 0)
    print(
        f"\n{sync}, disk full at {FILE_LIMIT} bytes: {len(acked)} acknowledged "
        f"({len(acked) / seconds:.0f}/s), {len(refused)} answered 503, "
        f"{len(unanswered)} not answered within {FILL_TIMEOUT} s, {len(late_200s)} answered "
        f"200 though sent after the first refusal; {stopped}; after a restart without "
        f"the limit {len(missing)} acknowledged alerts are missing"
        + (
            f", their 200s came {missing[0][0] - first_refusal:+.3f} to "
            f"{missing[-1][0] - first_refusal:+.3f} s from the first refusal"
            if missing
            else ""
        )
        + f"; server stderr: {stderr.strip().splitlines()}"
    )

    assert log.integrity == "ok", log.integrity
    doubled = [text for text, n in log.texts.items() if n > 1]
    assert not doubled, f"{len(doubled)} alerts logged twice"
    if sync == "strict":
        assert not missing, f"{len(missing)} acknowledged alerts lost, e.g. {missing[:3]}"
    else:
        # At most the last commit window: whatever was acknowledged earlier than that
        # before the failure showed must have been committed.
        old = [t for at, t in missing if at <= first_refusal - slack(COMMIT_WINDOW + MARGIN)]
        assert not old, f"{len(old)} alerts acknowledged well before the failure lost"
    for outcome in refused:
        lines = outcome.body.split("\n")
        assert lines[-1] == "" and len(lines) == 2 and lines[0].strip(), outcome.body
    assert not other, f"unexpected answers: {other}"
    assert not unanswered, (
        f"{len(unanswered)} raises were never answered (waited {FILL_TIMEOUT} s), "
        f"e.g. {unanswered[0].body}; see "
        "test_strict_raises_queued_behind_a_failed_commit_are_answered"
    )
    assert len(late_200s) <= FILL_THREADS, f"{len(late_200s)} raises answered 200 after a 503"
    for worker in range(FILL_THREADS):
        last = [o for o in outcomes if o.worker == worker][-1]
        assert last.status == 503, f"client {worker} ended with {last.status}"
    assert "after SIGTERM" in stopped and proc.returncode == 0, stopped


# The same failure made deterministic: a commit that fails because another process
# holds the database's write lock (as `sqlite3 kisalert.kismet` with an open
# transaction would) for longer than the writer's busy timeout.

# How long a raise may take to be answered while the lock is held: the writer's
# first attempt waits out its 5 s busy timeout, a raise that reached the writer just
# after that attempt gave up waits for the next (0.5 s later, 5 s more).
ANSWER_TIMEOUT = 15.0
KEPT = "Alert kept in memory, not yet logged: "
NOT_RAISED = "Alert not raised: "


@dataclass(frozen=True)
class Answer:
    number: int
    seconds: float
    status: int | None  # None: no answer within ANSWER_TIMEOUT
    text: str


def queued_writes(server: Server) -> float:
    """Writes handed to the log's writer and not yet committed."""
    return value(scrape(server), "kisalert_log_queued_writes")


def test_strict_raises_queued_behind_a_failed_commit_are_answered(tmp_path: Path) -> None:
    """Another process holds the log's write lock until every raise has its answer.
    Each raise is answered, 503 with a one-line reason, none waits for a commit that
    is not coming; a raise told it is kept in memory is logged (once) when the lock
    is gone, a raise told it was not raised never is."""
    with start(tmp_path, "strict") as server:
        wait_for(lambda: queued_writes(server) == 0, what="the writer to commit the definition")
        blocker = sqlite3.connect(log_path(tmp_path), isolation_level=None, timeout=5)

        def raise_one(number: int) -> Answer:
            with requests.Session() as session:
                session.auth = (USER, PASSWORD)
                body = {"json": json.dumps({"name": NAME, "text": f"locked-{number}"})}
                sent = time.monotonic()
                try:
                    response = session.post(
                        server.url + RAISE_PATH, data=body, timeout=slack(ANSWER_TIMEOUT)
                    )
                except requests.RequestException as exc:
                    return Answer(number, time.monotonic() - sent, None, type(exc).__name__)
                return Answer(number, time.monotonic() - sent, response.status_code, response.text)

        with ThreadPoolExecutor(THREADS) as pool:
            try:
                blocker.execute("BEGIN IMMEDIATE")  # held until every raise is answered
                first = pool.submit(raise_one, 0)
                # Raise 0 is with the writer, which waits for the lock; the others queue
                # behind it.
                wait_for(
                    lambda: first.done() or queued_writes(server) >= 1,
                    what="raise 0 to reach the writer",
                )
                rest = [pool.submit(raise_one, n) for n in range(1, THREADS)]
                answers = [future.result() for future in [first, *rest]]
                # A definition the log cannot keep would be gone at the next start
                # (it was answered 200 here, and lost to a kill -9).
                refused = server.command(
                    "/alerts/definitions/define_alert.cmd", {"name": "UNKEPT", "description": "d"}
                )
                assert refused.status_code == 503, refused.text
                assert refused.text.startswith("Alert not defined: the alert log cannot be")
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()

        def answered(kind: str) -> set[int]:
            return {a.number for a in answers if a.status == 503 and a.text.startswith(kind)}

        kept, not_raised = answered(KEPT), answered(NOT_RAISED)

        def shown() -> set[int]:
            return {int(t.removeprefix("locked-")) for t in backlog_texts(server)}

        # The lock is gone: the writer's retry commits the kept raises, which are then shown.
        wait_for(lambda: kept <= shown(), what=f"raises {sorted(kept)} to be shown")
        backlog = shown()
        code = server.stop(signal.SIGTERM)
    log = read_log(log_path(tmp_path), tmp_path / "scratch", with_wal=False)
    print(
        "\nstrict, write lock held elsewhere: "
        + ", ".join(
            f"raise {a.number}: {a.status or a.text} after {a.seconds:.1f} s" for a in answers
        )
        + f"; afterwards in the backlog: {sorted(backlog)}, in the log: {sorted(log.texts)}"
    )
    unanswered = [a for a in answers if a.status is None]
    assert not unanswered, (
        f"raises never answered (waited {slack(ANSWER_TIMEOUT):g} s): {unanswered}"
    )
    for a in answers:
        assert a.status == 503 and a.text.endswith("\n") and a.text.count("\n") == 1, a
        assert a.number in kept | not_raised, a
    assert 0 in kept, "raise 0 was with the writer when its commit failed"
    assert code == 0, server.stderr()
    assert log.integrity == "ok"
    assert backlog == kept
    assert log.texts == Counter({f"locked-{n}": 1 for n in kept})


def backlog_texts(server: Server) -> list[str]:
    """The texts of the server's alerts of this module's alert."""
    return [a["kismet.alert.text"] for a in server.alerts() if a["kismet.alert.header"] == NAME]
