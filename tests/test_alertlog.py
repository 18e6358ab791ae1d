"""The alert log (storage.md): Kismet's `.kismet` layout, rows, readers, durability, restarts.

Every test runs a real `kisalert serve` on its own data directory and reads the real file
with sqlite3 and with the PyPI package `kismetdb`. Import, export and retention are in
test_alertlog_tools.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import kismetdb
import pytest

from kisalert.alert import AlertDraft
from kisalert.alertlog.writer import Write, Writer
from tests.file_modes import obeying_file_modes
from tests.http.helpers import define_fast, raise_ok, raise_pipelined
from tests.http.test_metrics import scrape, value
from tests.records import only
from tests.server import BASE_CONFIG, Server, free_port, wait_for
from tests.slack import slack

LOG_NAME = "kisalert.kismet"
FIXTURE_SQL = Path(__file__).parent / "fixtures" / "kismet_log_v9.sql"
KISMET_TABLES = [
    "KISMET",
    "devices",
    "packets",
    "data",
    "datasources",
    "alerts",
    "messages",
    "snapshots",
]
# The one alert of fixtures/kismet_log_v9.sql.
FIXTURE_ALERT_ID = 994777047


# Helpers (shared with test_alertlog_tools.py)


def build_kismet_log(path: Path, *extra_sql: str) -> Path:
    """A `.kismet` file exactly as Kismet writes it (fixtures/kismet_log_v9.sql)."""
    db = sqlite3.connect(path)
    try:
        db.executescript(FIXTURE_SQL.read_text())
        for sql in extra_sql:
            db.execute(sql)
        db.commit()
    finally:
        db.close()
    return path


def fixture_record() -> dict[str, Any]:
    """The fixture's alert record, decoded from its `json` column."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(FIXTURE_SQL.read_text())
        (blob,) = db.execute("SELECT json FROM alerts").fetchone()
    finally:
        db.close()
    record: dict[str, Any] = json.loads(blob)
    return record


def query(path: Path, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query on a log file (readers never wait for the writer in WAL mode)."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, tuple(params)).fetchall()
    finally:
        db.close()


def log_rows(path: Path) -> list[dict[str, Any]]:
    """The `alerts` table as dicts, oldest first, with `json` decoded into `record`."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute(
            "SELECT ts_sec, ts_usec, phyname, devmac, lat, lon, header, json, "
            "typeof(json) AS json_type FROM alerts ORDER BY ts_sec, ts_usec"
        ).fetchall()
    finally:
        db.close()
    result = []
    for row in rows:
        item = dict(row)
        item["record"] = json.loads(row["json"])
        result.append(item)
    return result


def kismetdb_records(path: Path) -> list[dict[str, Any]]:
    """Every alert as the `kismetdb` package reads it, `json` decoded."""
    rows = kismetdb.Alerts(str(path)).get_all()
    return [json.loads(row["json"]) for row in rows]


def by_ids(records: Iterable[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["kismet.alert.hash"]: r for r in records}


def checksum_of(record: dict[str, Any]) -> int:
    """Kismet's checksum of a served alert record, before any collision shift."""
    draft = AlertDraft(
        header=record["kismet.alert.header"],
        klass=record["kismet.alert.class"],
        severity=record["kismet.alert.severity"],
        phy=record["kismet.alert.phy_id"],
        text=record["kismet.alert.text"],
        transmitter=record["kismet.alert.transmitter_mac"],
        source=record["kismet.alert.source_mac"],
        dest=record["kismet.alert.dest_mac"],
        other=record["kismet.alert.other_mac"],
        channel=record["kismet.alert.channel"],
    )
    return draft.checksum(stamp_us(record))


def stamp_us(record: dict[str, Any]) -> int:
    seconds: float = record["kismet.alert.timestamp"]
    return round(seconds * 1_000_000)


def get_by_id(server: Server, alert_id: int) -> tuple[int, Any]:
    response = server.get(f"/alerts/by-id/{alert_id}/alert.json")
    return response.status_code, response.json() if response.status_code == 200 else None


def definitions(server: Server) -> list[dict[str, Any]]:
    response = server.get("/alerts/definitions.json")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def kisalert_cmd(
    *args: str, timeout: float = 30, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """A one-shot `python -m kisalert ...`, run through `prefix` if one is given."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "kisalert", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """A failed command's stderr: exactly one line, no traceback. Returns that line."""
    assert result.returncode != 0, f"expected a failure:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got:\n{result.stderr}"
    return lines[0]


def serve_expecting_failure(
    workdir: Path, data_dir: Path, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """`kisalert serve` on `data_dir`, which must refuse to start (a start that
    succeeds shows up as a timeout)."""
    conf = workdir / "failing.conf"
    conf.write_text(BASE_CONFIG)
    args = ["serve", "--data-dir", str(data_dir), "--config", str(conf)]
    args += ["--listen", f"127.0.0.1:{free_port()}"]
    try:
        return kisalert_cmd(*args, timeout=10, prefix=prefix)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"kisalert serve started on {data_dir} instead of refusing: {exc.stdout!r}")


# Layout


def _tables(path: Path) -> set[str]:
    return {r[0] for r in query(path, "SELECT name FROM sqlite_master WHERE type='table'")}


def _table_info(path: Path, table: str) -> list[tuple[Any, ...]]:
    return query(path, f"PRAGMA table_info({table})")


def _unique_columns(path: Path, table: str) -> list[list[str]]:
    """Column lists of the table's UNIQUE constraints."""
    found = []
    for row in query(path, f"PRAGMA index_list({table})"):
        name, origin = row[1], row[3]
        if origin == "u":
            found.append([info[2] for info in query(path, f"PRAGMA index_info('{name}')")])
    return sorted(found)


def test_layout_is_kismets_v9(tmp_path: Path) -> None:
    kismet = build_kismet_log(tmp_path / "kismet.kismet")
    with Server(tmp_path) as server:
        log = server.data_dir / LOG_NAME
        assert log.is_file()
        define_fast(server, "LAYOUT", phyname="IEEE802.11")
        raise_ok(server, "LAYOUT", "read by kismetdb", bssid="aa:bb:cc:dd:ee:01", channel="6")
        (served,) = only(server.alerts(), "LAYOUT")
        server.stop()

    assert _tables(kismet) == set(KISMET_TABLES)
    for table in KISMET_TABLES:
        expected = _table_info(kismet, table)
        assert expected, table
        assert _table_info(log, table) == expected, f"table {table} differs from Kismet's"
        assert _unique_columns(log, table) == _unique_columns(kismet, table), table

    assert query(log, "SELECT db_version, db_module FROM KISMET") == [(9, "kismetlog")]
    (version,) = query(log, "SELECT kismet_version FROM KISMET")[0]
    assert isinstance(version, str) and version

    # kisalert's own tables are extra tables, never extra columns.
    extra = _tables(log) - set(KISMET_TABLES)
    assert "kisalert_meta" in extra
    assert all(name.startswith(("kisalert_", "sqlite_")) for name in extra), extra
    schema = query(log, "SELECT value FROM kisalert_meta WHERE key = 'schema_version'")
    assert len(schema) == 1
    assert int(schema[0][0]) >= 1

    # Kismet's own reader finds the alert, column by column.
    rows = kismetdb.Alerts(str(log)).get_all()
    started = {"ROOTUSER"} if os.geteuid() == 0 else set()
    assert {row["header"] for row in rows} == {"LAYOUT"} | started
    (row,) = [row for row in rows if row["header"] == "LAYOUT"]
    record = json.loads(row.pop("json"))
    stamp = stamp_us(served)
    assert row == {
        "ts_sec": stamp // 1_000_000,
        "ts_usec": stamp % 1_000_000,
        "phyname": "IEEE802.11",
        "devmac": "AA:BB:CC:DD:EE:01",
        "lat": 0.0,
        "lon": 0.0,
        "header": "LAYOUT",
    }
    assert record["kismet.alert.text"] == "read by kismetdb"
    assert record["kismet.alert.transmitter_mac"] == "AA:BB:CC:DD:EE:01"
    assert record["kismet.alert.channel"] == "6"
    assert record["kismet.alert.phy_id"] == 0
    assert record == served


# Rows


def test_alert_rows_match_the_api(tmp_path: Path) -> None:
    config = BASE_CONFIG + "not_a_kisalert_key=1\n"  # a config warning: an ERROR message
    with Server(tmp_path, config) as server:
        define_fast(server, "LOGANY")
        define_fast(server, "LOGWIFI", phyname="IEEE802.11")
        raise_ok(server, "LOGANY", "first text", bssid="aa:bb:cc:dd:ee:01")
        raise_ok(
            server,
            "LOGWIFI",
            "wifi text",
            bssid="aa:bb:cc:dd:ee:02",
            source="11:22:33:44:55:66",
            channel="6",
        )
        raise_ok(server, "LOGANY", "second text")
        served = server.alerts()
        server.stop()
    log = server.data_dir / LOG_NAME

    mine = only(served, "LOGANY", "LOGWIFI")
    assert len(mine) == 3
    rows = log_rows(log)
    # One row per alert, every alert (ROOTUSER when run as root included).
    assert [r["record"] for r in rows] == served
    by_id = {r["record"]["kismet.alert.hash"]: r for r in rows}
    for record in served:
        row = by_id[record["kismet.alert.hash"]]
        assert row["json_type"] == "blob"
        assert row["record"] == record
        assert row["ts_sec"] * 1_000_000 + row["ts_usec"] == stamp_us(record)
        assert 0 <= row["ts_usec"] < 1_000_000
        assert row["header"] == record["kismet.alert.header"]
        assert row["devmac"] == record["kismet.alert.transmitter_mac"]
        assert (row["lat"], row["lon"]) == (0, 0)

    rows_mine = [by_id[r["kismet.alert.hash"]] for r in mine]
    assert [r["phyname"] for r in rows_mine] == ["ANY", "IEEE802.11", "ANY"]
    assert [r["devmac"] for r in rows_mine] == [
        "AA:BB:CC:DD:EE:01",
        "AA:BB:CC:DD:EE:02",
        "00:00:00:00:00:00",
    ]

    messages = query(log, "SELECT ts_sec, lat, lon, msgtype, message FROM messages ORDER BY rowid")
    alert_messages = [m for m in messages if m[3] == "ALERT"]
    expected = [f"{r['kismet.alert.header']} {r['kismet.alert.text']}" for r in served]
    assert [m[4] for m in alert_messages] == expected
    for message, record in zip(alert_messages, served, strict=True):
        assert abs(message[0] - int(record["kismet.alert.timestamp"])) <= 1
    # Server messages carry their own type; none is left with Kismet's empty msgtype.
    types = {m[3] for m in messages}
    assert "" not in types
    assert types <= {"ALERT", "INFO", "ERROR", "DEBUG", "FATAL"}
    assert any(m[3] == "INFO" for m in messages), messages
    assert any(m[3] == "ERROR" and "not_a_kisalert_key" in m[4] for m in messages), messages


def test_alert_rows_carry_the_virtual_gps_position(tmp_path: Path) -> None:
    config = BASE_CONFIG + "gps=virtual:lat=51.5,lon=-0.125,alt=12\n"
    with Server(tmp_path, config) as server:
        define_fast(server, "LOGGPS")
        raise_ok(server, "LOGGPS", "with a position")
        served = only(server.alerts(), "LOGGPS")
        server.stop()
    rows = [r for r in log_rows(server.data_dir / LOG_NAME) if r["header"] == "LOGGPS"]
    assert len(rows) == 1
    assert (rows[0]["lat"], rows[0]["lon"]) == (51.5, -0.125)
    assert rows[0]["record"] == served[0]


# Readers: kismetdb, while running and after a clean stop


def test_kismetdb_reads_every_alert_while_running_and_after_stop(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        define_fast(server, "KDBREAD")
        for i in range(5):
            raise_ok(server, "KDBREAD", f"alert {i}", bssid=f"aa:bb:cc:dd:ee:{i:02x}")
        served = by_ids(server.alerts())
        log = server.data_dir / LOG_NAME

        # Batched commits land within 100 ms: readable while the server runs.
        def complete() -> bool:
            return set(by_ids(kismetdb_records(log))) >= set(served)

        assert wait_for(complete, timeout=2.0)
        assert by_ids(kismetdb_records(log)) == served
        assert server.stop() == 0

    read = kismetdb_records(log)
    assert len(read) == len(served)
    assert by_ids(read) == served
    rows = kismetdb.Alerts(str(log)).get_all()
    assert {r["header"] for r in rows} == {r["kismet.alert.header"] for r in served.values()}


def test_clean_stop_leaves_everything_in_the_main_file(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        define_fast(server, "STOPCOPY")
        for i in range(20):
            raise_ok(server, "STOPCOPY", f"alert {i}")
        served = server.alerts()
        # Stop at once (no wait for the batch), with SIGTERM.
        assert server.stop(signal.SIGTERM) == 0

    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    copy = copy_dir / "only-the-main-file.kismet"
    shutil.copyfile(server.data_dir / LOG_NAME, copy)
    assert not any(p.name.endswith(("-wal", "-shm")) for p in copy_dir.iterdir())

    assert [r["record"] for r in log_rows(copy)] == served
    assert by_ids(kismetdb_records(copy)) == by_ids(served)
    assert len(only(served, "STOPCOPY")) == 20


def test_strict_sync_answers_after_the_commit(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "kis_log_sync=strict\n") as server:
        log = server.data_dir / LOG_NAME
        define_fast(server, "STRICT")
        for i in range(3):
            raise_ok(server, "STRICT", f"strict {i}")
            # No waiting: the 200 came after the commit that holds the alert.
            assert len(only(kismetdb_records(log), "STRICT")) == i + 1


def test_rows_land_in_raise_order_after_an_idle_writer(tmp_path: Path) -> None:
    """Kismet's log tools read `alerts` and `messages` in rowid order: the raise that
    wakes an idle writer comes first in its batch, before those queued behind it."""
    # A commit window long enough that all the raises share one batch.
    config = BASE_CONFIG + f"kis_log_commit_ms={round(slack(2.0) * 1000)}\n"
    texts = ["zeroth", "first", "second", "third"]
    with Server(tmp_path, config) as server:
        define_fast(server, "ROWORDER")
        wait_for(
            lambda: value(scrape(server), "kisalert_log_queued_writes") == 0,
            what="the writer to commit the start-up writes and go idle",
        )
        for text in texts:
            raise_ok(server, "ROWORDER", text)
        assert server.stop() == 0
    log = server.data_dir / LOG_NAME

    alerts = query(log, "SELECT json FROM alerts WHERE header = 'ROWORDER' ORDER BY rowid")
    assert [json.loads(blob)["kismet.alert.text"] for (blob,) in alerts] == texts
    messages = query(
        log, "SELECT message FROM messages WHERE message LIKE 'ROWORDER %' ORDER BY rowid"
    )
    assert [message for (message,) in messages] == [f"ROWORDER {text}" for text in texts]


def synchronous_of_the_writer(tmp_path: Path, sync: str) -> int:
    """PRAGMA synchronous as the log writer's own connection reports it, written by
    that connection into the log and read back."""
    errors: list[BaseException | None] = []
    writer = Writer(tmp_path / LOG_NAME, sync, lambda _, error: errors.append(error))
    writer.start()
    writer.submit(
        Write(
            [
                (
                    "INSERT INTO kisalert_meta (key, value) "
                    "SELECT 'synchronous probe', synchronous FROM pragma_synchronous",
                    (),
                )
            ]
        )
    )
    writer.stop()
    assert errors == [None]
    ((level,),) = query(
        tmp_path / LOG_NAME, "SELECT value FROM kisalert_meta WHERE key = 'synchronous probe'"
    )
    return int(level)


@pytest.mark.parametrize(
    ("sync", "level"),
    [
        ("strict", 2),  # FULL: the WAL is synced at every commit, so a power loss loses
        # no acknowledged alert
        ("batched", 1),  # NORMAL: synced at checkpoints, safe against a crash
    ],
)
def test_the_writer_syncs_as_its_mode_says(tmp_path: Path, sync: str, level: int) -> None:
    assert synchronous_of_the_writer(tmp_path, sync) == level


def test_kill_9_loses_no_committed_alert_and_duplicates_none(tmp_path: Path) -> None:
    with Server(tmp_path) as first:
        define_fast(first, "KILLED")
        for i in range(10):
            raise_ok(first, "KILLED", f"before the crash {i}")
        served = first.alerts()
        log = first.data_dir / LOG_NAME
        assert wait_for(lambda: len(only(kismetdb_records(log), "KILLED")) == 10, 2.0)
        first.stop(signal.SIGKILL)

    with Server(tmp_path) as second:
        assert only(second.alerts(), "KILLED") == only(served, "KILLED")
        assert second.stop() == 0
    assert only(kismetdb_records(log), "KILLED") == only(served, "KILLED")
    assert query(log, "PRAGMA integrity_check") == [("ok",)]


# Restart recovery


def test_restart_restores_backlog_ids_and_definitions(tmp_path: Path) -> None:
    with Server(tmp_path) as first:
        define_fast(first, "RSTANY")
        define_fast(first, "RSTWIFI", phyname="IEEE802.11", severity=5)
        define_fast(first, "RSTQUIET")  # never raised
        for i in range(4):
            raise_ok(first, "RSTANY", f"any {i}", bssid=f"aa:bb:cc:00:00:{i:02x}")
            raise_ok(first, "RSTWIFI", f"wifi {i}", channel="11")
        before = first.alerts()
        ids = [r["kismet.alert.hash"] for r in only(before, "RSTANY", "RSTWIFI")]
        before_by_id = {alert_id: get_by_id(first, alert_id) for alert_id in ids}
        before_defs = definitions(first)
        assert first.stop() == 0

    with Server(tmp_path) as second:
        after = second.alerts()
        last_before = max(stamp_us(r) for r in before)
        # Alerts raised at start-up (ROOTUSER when root) come on top of the old backlog.
        assert [r for r in after if stamp_us(r) <= last_before] == before
        assert all(r["kismet.alert.header"] == "ROOTUSER" for r in after[len(before) :])

        for alert_id in ids:
            assert get_by_id(second, alert_id) == before_by_id[alert_id]
            assert before_by_id[alert_id][0] == 200

        after_defs = definitions(second)
        names = [d["kismet.alert.definition.header"] for d in before_defs]
        assert [d["kismet.alert.definition.header"] for d in after_defs] == names
        # API definitions come after every built-in one, in the order they were made.
        assert names[-3:] == ["RSTANY", "RSTWIFI", "RSTQUIET"]
        for old, new in zip(before_defs, after_defs, strict=True):
            if old["kismet.alert.definition.header"] != "ROOTUSER":  # may be raised again
                assert new == old
        wifi = after_defs[names.index("RSTWIFI")]
        assert wifi["kismet.alert.definition.phyid"] == 0
        assert wifi["kismet.alert.definition.severity"] == 5
        assert wifi["kismet.alert.definition.time_last"] == max(
            r["kismet.alert.timestamp"] for r in only(before, "RSTWIFI")
        )

        # New alerts keep strictly increasing timestamps.
        raise_ok(second, "RSTANY", "after the restart")
        newest = only(second.alerts(), "RSTANY")[-1]
        assert newest["kismet.alert.text"] == "after the restart"
        assert stamp_us(newest) > last_before
        assert newest["kismet.alert.hash"] not in ids


def test_restart_reloads_the_newest_backlog_and_by_id_reads_the_log(tmp_path: Path) -> None:
    config = BASE_CONFIG + "alertbacklog=3\n"
    with Server(tmp_path, config) as first:
        define_fast(first, "BACKLOG")
        for i in range(10):
            raise_ok(first, "BACKLOG", f"number {i}")
        before = first.alerts()
        assert [r["kismet.alert.text"] for r in before] == [f"number {i}" for i in (7, 8, 9)]
        log = first.data_dir / LOG_NAME
        assert wait_for(lambda: len(only(kismetdb_records(log), "BACKLOG")) == 10, 2.0)
        all_mine = only(kismetdb_records(log), "BACKLOG")
        oldest = all_mine[0]
        # With the log, by-id finds alerts that left the backlog.
        assert get_by_id(first, oldest["kismet.alert.hash"]) == (200, oldest)
        assert first.stop() == 0

    with Server(tmp_path, config) as second:
        after = second.alerts()
        last_before = max(stamp_us(r) for r in before)
        old = [r for r in after if stamp_us(r) <= last_before]
        started = after[len(old) :]
        assert all(r["kismet.alert.header"] == "ROOTUSER" for r in started)
        # The newest alertbacklog alerts, less those pushed out by start-up alerts.
        assert len(after) == 3
        assert old == before[len(started) :]
        for record in all_mine:
            assert get_by_id(second, record["kismet.alert.hash"]) == (200, record)


def test_throttle_windows_survive_a_restart(tmp_path: Path) -> None:
    with Server(tmp_path) as first:
        response = first.define("THROTTLED", throttle="2/min", burst="2/min")
        assert response.status_code == 200, response.text
        raise_ok(first, "THROTTLED", "one")
        raise_ok(first, "THROTTLED", "two")
        assert first.stop() == 0

    with Server(tmp_path) as second:
        response = second.raise_alert("THROTTLED", "three")
        assert response.status_code == 429, response.text
        assert [r["kismet.alert.text"] for r in only(second.alerts(), "THROTTLED")] == [
            "one",
            "two",
        ]
        (found,) = [
            d for d in definitions(second) if d["kismet.alert.definition.header"] == "THROTTLED"
        ]
        assert found["kismet.alert.definition.total_sent"] == 2
        assert found["kismet.alert.definition.burst_sent"] == 2


# In-memory mode


def test_memory_mode_keeps_no_file_and_forgets_on_restart(tmp_path: Path) -> None:
    with Server(tmp_path, extra_args=["--memory"]) as first:
        define_fast(first, "EPHEMERAL")
        raise_ok(first, "EPHEMERAL", "gone soon")
        (record,) = only(first.alerts(), "EPHEMERAL")
        assert get_by_id(first, record["kismet.alert.hash"]) == (200, record)
        assert first.stop() == 0
    data_dir = first.data_dir
    assert not any(p.name.startswith(LOG_NAME) for p in data_dir.iterdir())

    with Server(tmp_path, extra_args=["--memory"]) as second:
        assert only(second.alerts(), "EPHEMERAL") == []
        assert get_by_id(second, record["kismet.alert.hash"])[0] == 404
        assert second.stop() == 0
    assert not any(p.name.startswith(LOG_NAME) for p in data_dir.iterdir())


# Start-up errors: one clear line and a non-zero exit, never a silent loss


def test_data_dir_under_a_regular_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    line = one_error_line(serve_expecting_failure(tmp_path, blocker / "data"))
    assert str(blocker) in line
    assert blocker.read_text() == "not a directory"


def test_log_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / LOG_NAME).mkdir(parents=True)
    line = one_error_line(serve_expecting_failure(tmp_path, data_dir))
    assert LOG_NAME in line


def test_garbage_log_file_is_refused_and_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    garbage = b"this is not a database, but somebody's data\n" * 200
    (data_dir / LOG_NAME).write_bytes(garbage)
    line = one_error_line(serve_expecting_failure(tmp_path, data_dir))
    assert LOG_NAME in line
    assert "not a" in line.lower()
    assert (data_dir / LOG_NAME).read_bytes() == garbage


def test_sqlite_file_that_is_not_a_kismet_log_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    other = data_dir / LOG_NAME
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.execute("INSERT INTO notes VALUES ('keep me')")
    db.commit()
    db.close()
    line = one_error_line(serve_expecting_failure(tmp_path, data_dir))
    assert "not a Kismet log" in line
    assert query(other, "SELECT text FROM notes") == [("keep me",)]
    assert _tables(other) == {"notes"}


def test_kismet_log_of_another_db_version_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old = build_kismet_log(data_dir / LOG_NAME, "UPDATE KISMET SET db_version = 5")
    line = one_error_line(serve_expecting_failure(tmp_path, data_dir))
    assert "db_version" in line or "version" in line.lower()
    assert "5" in line
    assert query(old, "SELECT db_version FROM KISMET") == [(5,)]
    assert len(query(old, "SELECT * FROM alerts")) == 1


def test_read_only_data_dir_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o500)
    try:
        # As root, without the capabilities that would let it write there anyway.
        result = serve_expecting_failure(tmp_path, data_dir, prefix=obeying_file_modes())
        line = one_error_line(result)
    finally:
        data_dir.chmod(0o700)
    assert str(data_dir) in line
    assert not (data_dir / LOG_NAME).exists()


def test_ids_stay_unique_across_backlog_and_log(tmp_path: Path) -> None:
    """Identical alerts a few microseconds apart have colliding checksums; ids must
    stay unique among everything the server holds, including alerts that only the
    log still has, and by-id must find each one."""
    same = {"name": "FLOOD", "text": "same text", "bssid": "AA:BB:CC:DD:EE:FF", "channel": "6"}
    with Server(tmp_path, BASE_CONFIG + "alertbacklog=5\n") as server:
        define_fast(server, "FLOOD")
        raise_pipelined(server, [same] * 300)
    with Server(tmp_path, BASE_CONFIG + "alertbacklog=5\n") as server:
        raise_pipelined(server, [same] * 100)
        log = server.data_dir / LOG_NAME
        assert wait_for(lambda: len(only(kismetdb_records(log), "FLOOD")) == 400, 3.0)
        records = only(kismetdb_records(log), "FLOOD")
        ids = [r["kismet.alert.hash"] for r in records]
        assert len(set(ids)) == 400
        # The checksums really collided, so the next-free rule was exercised.
        assert len({checksum_of(r) for r in records}) < 400
        for record in records[::37]:
            assert get_by_id(server, record["kismet.alert.hash"]) == (200, record)
