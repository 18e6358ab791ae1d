"""The alert log's tools (storage.md): retention, `kisalert import`, `kisalert export`."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kisalert.alertlog.journal import ENTRY
from kisalert.alertlog.log import JOURNAL_SUFFIX
from tests.http.helpers import define_fast, raise_ok
from tests.records import only
from tests.server import BASE_CONFIG, Server, wait_for
from tests.test_alertlog import (
    FIXTURE_ALERT_ID,
    LOG_NAME,
    build_kismet_log,
    by_ids,
    fixture_record,
    get_by_id,
    kisalert_cmd,
    kismetdb_records,
    log_rows,
    one_error_line,
    query,
    stamp_us,
)

# Retention


def test_alert_timeout_deletes_old_rows(tmp_path: Path) -> None:
    config = BASE_CONFIG + "kis_log_alert_timeout=1\nalertbacklog=1\n"
    with Server(tmp_path, config) as server:
        log = server.data_dir / LOG_NAME
        define_fast(server, "RETAINED")
        raise_ok(server, "RETAINED", "old one")
        raise_ok(server, "RETAINED", "old two")
        assert wait_for(lambda: len(only(kismetdb_records(log), "RETAINED")) == 2, 2.0)
        old = only(kismetdb_records(log), "RETAINED")
        first_id = old[0]["kismet.alert.hash"]
        # It left the backlog (alertbacklog=1) but the log still has it.
        assert get_by_id(server, first_id) == (200, old[0])

        def pruned() -> bool:
            return not query(log, "SELECT 1 FROM alerts WHERE header = 'RETAINED'")

        assert wait_for(pruned, timeout=5.0, step=0.1), log_rows(log)
        assert get_by_id(server, first_id)[0] == 404
        # Rows older than the timeout are gone, whatever their name.
        oldest_allowed = time.time() - 1 - 1.5  # the timeout, plus one pruning period
        assert all(r["ts_sec"] + r["ts_usec"] / 1e6 >= oldest_allowed for r in log_rows(log))

        # New alerts are still logged.
        raise_ok(server, "RETAINED", "new one")
        assert wait_for(lambda: len(only(kismetdb_records(log), "RETAINED")) == 1, 2.0)


# Import


def test_import_a_kismet_log(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with Server(tmp_path) as first:
        define_fast(first, "LOCALONE")
        raise_ok(first, "LOCALONE", "raised here")
        local = only(first.alerts(), "LOCALONE")
        assert first.stop() == 0

    source = build_kismet_log(tmp_path / "from-kismet.kismet")
    result = kisalert_cmd("import", str(source), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    expected = fixture_record()
    log = data_dir / LOG_NAME
    read = by_ids(kismetdb_records(log))
    assert read[FIXTURE_ALERT_ID] == expected
    assert read[local[0]["kismet.alert.hash"]] == local[0]
    (row,) = [r for r in log_rows(log) if r["header"] == "DEAUTHFLOOD"]
    assert (row["ts_sec"], row["ts_usec"], row["phyname"]) == (1764420000, 123456, "IEEE802.11")
    assert row["devmac"] == "AA:BB:CC:DD:EE:FF"
    assert row["json_type"] == "blob"

    # Importing the same file again adds nothing.
    count = len(log_rows(log))
    again = kisalert_cmd("import", str(source), "--data-dir", str(data_dir))
    assert again.returncode == 0, again.stderr
    assert len(log_rows(log)) == count
    assert len(only(kismetdb_records(log), "DEAUTHFLOOD")) == 1

    # A server on that data directory serves it: by-id, and the backlog reloaded from the log.
    with Server(tmp_path) as second:
        assert get_by_id(second, FIXTURE_ALERT_ID) == (200, expected)
        served = second.alerts()
        assert by_ids(served)[FIXTURE_ALERT_ID] == expected
        assert only(served, "LOCALONE") == local
        # The imported alert is older; the backlog stays in timestamp order.
        assert [stamp_us(r) for r in served] == sorted(stamp_us(r) for r in served)


def test_import_refuses_a_file_that_is_not_a_kismet_log(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    garbage = tmp_path / "garbage.kismet"
    garbage.write_bytes(b"definitely not sqlite\n" * 100)
    line = one_error_line(kisalert_cmd("import", str(garbage), "--data-dir", str(data_dir)))
    assert "garbage.kismet" in line

    other = tmp_path / "other.kismet"
    query(other, "CREATE TABLE alerts (a TEXT)")
    line = one_error_line(kisalert_cmd("import", str(other), "--data-dir", str(data_dir)))
    assert "other.kismet" in line
    assert "Kismet" in line

    missing = tmp_path / "missing.kismet"
    line = one_error_line(kisalert_cmd("import", str(missing), "--data-dir", str(data_dir)))
    assert "missing.kismet" in line

    log = data_dir / LOG_NAME
    assert not log.exists() or not query(log, "SELECT 1 FROM alerts")


# Export


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds")


def _export(data_dir: Path, out: Path, *times: str) -> list[dict[str, Any]]:
    result = kisalert_cmd("export", *times, str(out), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not Path(f"{out}-wal").exists() or Path(f"{out}-wal").stat().st_size == 0
    assert query(out, "SELECT db_version, db_module FROM KISMET") == [(9, "kismetlog")]
    return kismetdb_records(out)


def test_export_writes_a_time_range(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        define_fast(server, "EXPORTED")
        for i in range(5):
            raise_ok(server, "EXPORTED", f"number {i}")
            time.sleep(0.01)
        raised = only(server.alerts(), "EXPORTED")
        assert server.stop() == 0
    data_dir = server.data_dir
    ts = [r["kismet.alert.timestamp"] for r in raised]
    since, until = (ts[0] + ts[1]) / 2, (ts[3] + ts[4]) / 2
    wanted = raised[1:4]

    out = tmp_path / "range.kismet"
    exported = _export(data_dir, out, "--since", repr(since), "--until", repr(until))
    assert exported == wanted
    rows = log_rows(out)
    assert [r["record"] for r in rows] == wanted
    assert all(r["json_type"] == "blob" for r in rows)

    # An existing file is never overwritten.
    before = _digest(out)
    line = one_error_line(
        kisalert_cmd("export", "--since", "0", str(out), "--data-dir", str(data_dir))
    )
    assert "range.kismet" in line
    assert _digest(out) == before

    # ISO 8601 times.
    iso_out = tmp_path / "iso.kismet"
    assert _export(data_dir, iso_out, "--since", _iso(since), "--until", _iso(until)) == wanted

    # Negative times: that many seconds ago.
    recent = tmp_path / "recent.kismet"
    assert only(_export(data_dir, recent, "--since", "-600"), "EXPORTED") == raised
    old = tmp_path / "old.kismet"
    assert _export(data_dir, old, "--until", "-600") == []

    # The log itself is untouched.
    assert only([r["record"] for r in log_rows(data_dir / LOG_NAME)], "EXPORTED") == raised


def test_import_refuses_while_a_server_uses_the_data_directory(tmp_path: Path) -> None:
    """The running server would not know the imported ids and could give them out
    again: import waits for it to stop, and leaves the log alone meanwhile."""
    source = build_kismet_log(tmp_path / "from-kismet.kismet")
    with Server(tmp_path) as server:
        log = server.data_dir / LOG_NAME
        line = one_error_line(
            kisalert_cmd("import", str(source), "--data-dir", str(server.data_dir))
        )
        assert str(server.data_dir) in line and "in use" in line
        assert not query(log, "SELECT 1 FROM alerts WHERE header = 'DEAUTHFLOOD'")
        assert server.stop() == 0
    result = kisalert_cmd("import", str(source), "--data-dir", str(server.data_dir))
    assert result.returncode == 0, result.stderr
    with Server(tmp_path) as again:
        assert get_by_id(again, FIXTURE_ALERT_ID) == (200, fixture_record())


def test_import_counts_present_and_unreadable_rows_apart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    source = build_kismet_log(
        tmp_path / "damaged.kismet",
        "INSERT INTO alerts (ts_sec, ts_usec, phyname, devmac, lat, lon, header, json) "
        "VALUES (1764420001, 0, 'IEEE802.11', 'AA:BB:CC:DD:EE:FF', 0, 0, 'BROKEN', "
        "CAST('{not json' AS BLOB))",
        "INSERT INTO alerts (ts_sec, ts_usec, phyname, devmac, lat, lon, header, json) "
        "VALUES (1764420002, 0, 'IEEE802.11', 'AA:BB:CC:DD:EE:FF', 0, 0, 'NOHASH', "
        'CAST(\'{"kismet.alert.header": "NOHASH"}\' AS BLOB))',
    )
    first = kisalert_cmd("import", str(source), "--data-dir", str(data_dir))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"imported 1 alert from {source} (2 unreadable: row 2: its json is not JSON, and 1 more)"
    )
    again = kisalert_cmd("import", str(source), "--data-dir", str(data_dir))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        f"imported 0 alerts from {source} "
        "(1 already present, 2 unreadable: row 2: its json is not JSON, and 1 more)"
    )
    out = tmp_path / "out.kismet"
    exported = kisalert_cmd("export", str(out), "--data-dir", str(data_dir))
    assert exported.stdout.strip() == f"exported 1 alert to {out}"


def _row(ts_sec: object, header: str | None, record: dict[str, Any] | str) -> str:
    blob = record if isinstance(record, str) else json.dumps(record)
    quoted = "NULL" if header is None else f"'{header}'"
    return (
        "INSERT INTO alerts (ts_sec, ts_usec, phyname, devmac, lat, lon, header, json) "
        f"VALUES ({ts_sec}, 0, 'IEEE802.11', 'AA:BB:CC:DD:EE:FF', 0, 0, {quoted}, "
        f"CAST('{blob}' AS BLOB))"
    )


def test_import_leaves_out_what_no_server_could_serve_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    """Each of these rows was imported, and then every start of the server ended in a
    traceback (no header, a text timestamp), by-id answered 500, the import itself
    stopped (a NULL header aborted it all; a huge ts_sec, a traceback), or every later
    alert was stamped in 2100 (a sensor's clock set ahead)."""
    good = fixture_record()

    def with_(**changes: Any) -> dict[str, Any]:
        return {**good, **{key.replace("_", "."): value for key, value in changes.items()}}

    at = 1764420100
    source = build_kismet_log(
        tmp_path / "odd.kismet",
        _row(at + 1, "NOHEADER", {k: v for k, v in good.items() if k != "kismet.alert.header"}),
        _row(at + 2, "DEAUTHFLOOD", with_(kismet_alert_timestamp="x")),
        _row(at + 3, None, good),
        _row(10**13, "DEAUTHFLOOD", good),
        _row(at + 5, "DEAUTHFLOOD", with_(kismet_alert_hash=-1)),
        _row(at + 6, "DEAUTHFLOOD", with_(kismet_alert_hash=2**40)),
        _row(at + 7, "DEAUTHFLOOD", with_(kismet_alert_hash=True)),
        _row(4102444800, "DEAUTHFLOOD", with_(kismet_alert_timestamp=4102444800)),
        # Two different alerts with one stamp and name: both are kept.
        _row(at + 9, "TWINS", with_(kismet_alert_header="TWINS", kismet_alert_text="one")),
        _row(at + 9, "TWINS", with_(kismet_alert_header="TWINS", kismet_alert_text="two")),
    )
    data_dir = tmp_path / "data"
    done = kisalert_cmd("import", str(source), "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.strip() == (
        f"imported 3 alerts from {source} (1 stamped in the future (a clock set ahead?), "
        "7 unreadable: row 2: its json's kismet.alert.header is not the row's header, "
        "and 6 more)"
    )
    with Server(tmp_path) as server:
        served = server.alerts()
        assert sorted(a["kismet.alert.text"] for a in only(served, "TWINS")) == ["one", "two"]
        assert all(a["kismet.alert.timestamp"] < 4102444800 for a in served)
        define_fast(server, "AFTERIMPORT")
        raise_ok(server, "AFTERIMPORT")
        [after] = only(server.alerts(), "AFTERIMPORT")
        assert abs(after["kismet.alert.timestamp"] - time.time()) < 60
        assert get_by_id(server, FIXTURE_ALERT_ID) == (200, good)


def test_import_does_not_give_an_id_a_client_may_have_seen_before_a_crash(
    tmp_path: Path,
) -> None:
    """After a batched-mode crash the id journal names ids whose alerts were lost: an
    imported alert with such an id would be what by-id finds for what a client saw."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    seen = FIXTURE_ALERT_ID
    (data_dir / (LOG_NAME + JOURNAL_SUFFIX)).write_bytes(ENTRY.pack(1_764_500_000_000_000, seen))
    source = build_kismet_log(tmp_path / "from-kismet.kismet")
    done = kisalert_cmd("import", str(source), "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    [record] = kismetdb_records(data_dir / LOG_NAME)
    assert record["kismet.alert.hash"] == seen + 1


def test_export_times_out_of_range_are_refused_with_a_reason(tmp_path: Path) -> None:
    """A float past what a stamp can hold overflowed in the conversion (traceback)."""
    out = tmp_path / "never.kismet"
    for value in ("1e308", "-1e308", "nan", "inf", "253402300800"):
        for option in ("--since", "--until"):
            result = kisalert_cmd(
                "export", f"{option}={value}", str(out), "--data-dir", str(tmp_path)
            )
            assert result.returncode == 2, (option, value, result.stderr)
            assert "Traceback" not in result.stderr
            assert result.stderr.splitlines()[-1] == (
                f"kisalert export: error: argument {option}: "
                f"{value!r} is not a time between 1970 and 9999"
            )
    assert not out.exists()
    # ISO times are held to the same range, and year 1 is no traceback or inner name.
    for value, why in (
        ("1900-01-01", "'1900-01-01' is not a time between 1970 and 9999"),
        ("0001-01-01", "expected epoch seconds or an ISO 8601 time, got '0001-01-01'"),
    ):
        result = kisalert_cmd("export", f"--since={value}", str(out), "--data-dir", str(tmp_path))
        assert result.returncode == 2
        assert result.stderr.splitlines()[-1] == f"kisalert export: error: argument --since: {why}"


def test_export_only_reads_the_data_directory(tmp_path: Path) -> None:
    """A mistyped data directory was created (and a read-only one refused, as it
    was probed for writing): export only reads it."""
    typo = tmp_path / "typo"
    result = kisalert_cmd("export", str(tmp_path / "out.kismet"), "--data-dir", str(typo))
    assert result.returncode == 2
    assert result.stderr == f"kisalert: no alert log in {typo} (no kisalert.kismet there)\n"
    assert not typo.exists()
