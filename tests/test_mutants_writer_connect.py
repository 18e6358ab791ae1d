"""The log's connection (`writer.connect`), in process: what it refuses, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from kisalert.alertlog import LogError
from kisalert.alertlog.transfer import export_log
from tests.test_alertlog import build_kismet_log


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
