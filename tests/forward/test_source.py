"""The log source: committed alerts after the cursor, in raise order, read from the
log's file as the forwarding process reads it; the log tells its listeners of each
commit, besides its `settled` callback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kisalert.alert import Alert
from kisalert.alertlog import AlertLog
from kisalert.alertlog.reader import LogReader
from kisalert.forward.cursor import Cursor, CursorFiles
from kisalert.forward.source import LogFeed, LogSource
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

            # As the forwarding process reads it: through a reader of the file.
            reader = LogReader(log.path)
            cursor = Cursor(tmp_path, "siem")
            source = LogSource(reader, CursorFiles(tmp_path), "siem", make_alert(1).timestamp_us)
            assert source.backlog() == 4
            assert ids(source.read(2)) == [1002, 1003]
            assert ids(source.read(2)) == [1004, 2500]
            assert source.read(2) == []
            await source.done(make_alert(3))
            assert cursor.load() == make_alert(3).timestamp_us
            assert source.backlog() == 2
            assert ids(reader.alerts_after(START_US - 1_000_001, 10)) == raised
            assert ids(reader.alerts_after(make_alert(4).timestamp_us, 10)) == [2500]
            assert reader.count_after(make_alert(1500).timestamp_us) == 0
            assert reader.newest_us() == log.newest_us() == make_alert(1500).timestamp_us
            reader.close()
        finally:
            await log.close()

    asyncio.run(test())


def ids(alerts: list[Alert]) -> list[int]:
    return [alert.alert_id for alert in alerts]


def test_the_feed_reads_once_for_every_caught_up_source_none_missed_none_twice(
    tmp_path: Path,
) -> None:
    async def test() -> None:
        log = AlertLog(tmp_path / "log.kismet", commit_ms=1)
        committed: list[Alert] = []
        log.listeners.append(committed.extend)
        log.open()
        reader = LogReader(log.path)

        async def append(*numbers: int) -> None:
            for n in numbers:
                log.append(make_alert(n))
            async with asyncio.timeout(5):
                while len(committed) < numbers[-1] + 1:
                    await asyncio.sleep(0.005)

        try:
            await append(0)
            cursors = CursorFiles(tmp_path)
            ahead = LogSource(reader, cursors, "ahead", make_alert(0).timestamp_us)
            behind = LogSource(reader, cursors, "behind", START_US - 1)
            ahead.TAIL = behind.TAIL = 5
            feed = LogFeed(reader, [ahead, behind])
            await append(1, 2)
            feed.pull()  # nobody has caught up: nothing kept
            assert not ahead.caught_up and not behind.caught_up
            assert ids(ahead.read(10)) == [1001, 1002]  # caught up, from the log
            assert ids(behind.read(2)) == [1000, 1001]  # not yet
            await append(3)
            feed.pull()
            # From the feed, the very objects it read: 1001-1002 it skips (its own read).
            fed = ahead.read(10)
            assert ids(fed) == [1003]
            assert ids(behind.read(10)) == [1002, 1003]  # the log, and now caught up
            await append(4, 5)
            feed.pull()
            first, second = ahead.read(10), behind.read(10)
            assert ids(first) == ids(second) == [1004, 1005]
            assert all(a is b for a, b in zip(first, second, strict=True))
            await append(6)
            behind.fall_back()  # as after a failed read of the feed's
            assert ids(behind.read(10)) == [1006]  # from the log, ahead of the feed
            feed.pull()
            assert ids(ahead.read(10)) == [1006]
            assert behind.read(10) == []  # not twice
            # More than the tail holds: back to the log, none missed.
            await append(*range(7, 13))
            feed.pull()
            assert not ahead.caught_up
            assert ids(ahead.read(10)) == list(range(1007, 1013))
        finally:
            reader.close()
            await log.close()

    asyncio.run(test())
