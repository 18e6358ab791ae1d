"""The log source: committed alerts after the cursor, in raise order; the log tells
its listeners of each commit, besides its `settled` callback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kisalert.alert import Alert
from kisalert.alertlog import AlertLog
from kisalert.forward.cursor import Cursor, CursorFiles
from kisalert.forward.source import LogSource
from tests.forward.alerts import START_US, make_alert


def test_reads_after_the_cursor_in_batches_and_saves_on_done(tmp_path: Path) -> None:
    async def test() -> None:
        log = AlertLog(tmp_path / "log.kismet", commit_ms=1)
        committed: list[list[int]] = []
        settled: list[int] = []
        log.settled = lambda alerts, failure: settled.extend(a.alert_id for a in alerts)
        log.listeners.append(lambda alerts: committed.append([a.alert_id for a in alerts]))
        log.open()
        try:
            for n in [0, 1, 2, 3, 4, 1500]:  # the last 1.5 s later: the next second
                log.append(make_alert(n))
            async with asyncio.timeout(5):
                while sum(map(len, committed)) < 6:
                    await asyncio.sleep(0.005)
            raised = [*range(1000, 1005), 2500]
            assert [i for batch in committed for i in batch] == settled == raised

            cursor = Cursor(tmp_path, "siem")
            source = LogSource(log, CursorFiles(tmp_path), "siem", make_alert(1).timestamp_us)
            assert source.backlog() == 4
            assert ids(source.read(2)) == [1002, 1003]
            assert ids(source.read(2)) == [1004, 2500]
            assert source.read(2) == []
            await source.done(make_alert(3))
            assert cursor.load() == make_alert(3).timestamp_us
            assert source.backlog() == 2
            assert ids(log.alerts_after(START_US - 1_000_001, 10)) == raised
            assert ids(log.alerts_after(make_alert(4).timestamp_us, 10)) == [2500]
            assert log.count_after(make_alert(1500).timestamp_us) == 0
        finally:
            await log.close()

    asyncio.run(test())


def ids(alerts: list[Alert]) -> list[int]:
    return [alert.alert_id for alert in alerts]
