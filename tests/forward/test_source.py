"""The log source: committed alerts after the cursor, in raise order, read from the
log's file as the forwarding process reads it; the log tells its listeners of each
commit, besides its `settled` callback."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kisalert.alert import Alert
from kisalert.alertlog import AlertLog
from kisalert.alertlog.reader import LogReader
from kisalert.bus import Bus
from kisalert.clock import SystemClock
from kisalert.forward.base import Outcome
from kisalert.forward.cursor import Cursor, CursorError, CursorFiles
from kisalert.forward.runner import Runner
from kisalert.forward.source import LogFeed, LogSource
from kisalert.forward.spec import parse_spec, settings
from kisalert.messages import MessageBus
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


class Logged:
    """A log that commits at once, a reader of its file, and `append` that returns
    once the alerts numbered (make_alert) are committed."""

    def __init__(self, tmp_path: Path) -> None:
        self.log = AlertLog(tmp_path / "log.kismet", commit_ms=1)
        self.committed: list[Alert] = []
        self.log.listeners.append(self.committed.extend)
        self.log.open()
        self.reader = LogReader(self.log.path)

    async def append(self, *numbers: int) -> None:
        for n in numbers:
            self.log.append(make_alert(n))
        async with asyncio.timeout(5):
            while len(self.committed) < numbers[-1] + 1:
                await asyncio.sleep(0.005)

    async def __aenter__(self) -> Logged:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.reader.close()
        await self.log.close()


def test_the_feed_reads_once_for_every_caught_up_source_none_missed_none_twice(
    tmp_path: Path,
) -> None:
    async def test() -> None:
        async with Logged(tmp_path) as logged:
            reader, append = logged.reader, logged.append
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

    asyncio.run(test())


def test_positions_are_recorded_at_most_every_period_and_flushed(tmp_path: Path) -> None:
    """Under a flood the cursor file is not replaced and synced per batch: a done
    within SAVE_EVERY of the last save waits, and the backlog counts it until it is
    on record, since a crash would send it again."""

    async def test() -> None:
        async with Logged(tmp_path) as logged:
            await logged.append(0, 1, 2, 3)
            cursor = Cursor(tmp_path, "siem")
            source = LogSource(logged.reader, CursorFiles(tmp_path), "siem", START_US - 1)
            source.SAVE_EVERY = 60.0
            assert source.save_due() is None
            await source.done(make_alert(0))  # the first, at once
            assert cursor.load() == make_alert(0).timestamp_us
            assert source.save_due() is None
            await source.done(make_alert(2))
            assert cursor.load() == make_alert(0).timestamp_us  # not yet
            assert 59.0 < (source.save_due() or 0.0) <= 60.0
            assert source.backlog() == 3  # from what is on record
            await source.flush()
            assert cursor.load() == make_alert(2).timestamp_us
            assert source.save_due() is None
            assert source.backlog() == 1
            await source.flush()  # nothing new: nothing written
            assert cursor.load() == make_alert(2).timestamp_us

    asyncio.run(test())


def test_a_runner_records_its_position_when_idle_and_when_stopped(tmp_path: Path) -> None:
    async def test() -> None:
        async with Logged(tmp_path) as logged:
            output = Delivered()
            cursor = Cursor(tmp_path, "siem")
            source = LogSource(logged.reader, CursorFiles(tmp_path), "siem", START_US - 1)
            source.SAVE_EVERY = 0.3
            messagebus = MessageBus(Bus(), SystemClock())
            spec = parse_spec("siem:type=syslog,target=udp://h:1")
            runner = Runner(output, "syslog", settings(spec), source, messagebus)
            feed = LogFeed(logged.reader, [source])

            async def deliver(*numbers: int) -> None:
                await logged.append(*numbers)
                feed.pull()
                runner.wake()
                async with asyncio.timeout(5):
                    while output.sent[-1:] != [1000 + numbers[-1]]:
                        await asyncio.sleep(0.005)

            async def recorded(n: int) -> None:
                async with asyncio.timeout(5):
                    while cursor.load() != make_alert(n).timestamp_us:
                        await asyncio.sleep(0.005)

            runner.start()
            await deliver(0)
            await recorded(0)
            await deliver(1, 2)
            # Delivered within the period of the last save: on record once it ends,
            # with nothing new to wake the runner.
            assert cursor.load() == make_alert(0).timestamp_us
            await recorded(2)
            source.SAVE_EVERY = 60.0
            await deliver(3)
            assert cursor.load() == make_alert(2).timestamp_us
            await runner.stop()
            assert cursor.load() == make_alert(3).timestamp_us

    asyncio.run(test())


class Delivered:
    """An output that takes everything at once."""

    name = "siem"

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(self, batch: Sequence[Alert]) -> Outcome:
        self.sent += [alert.alert_id for alert in batch]
        return Outcome.delivered(len(batch))

    async def close(self) -> None:
        pass


class StallingCursors:
    """Cursors whose first save waits for `release`, then fails."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.saved: list[int] = []

    async def load(self, name: str) -> int | None:
        return None

    async def save(self, name: str, stamp_us: int, alert_id: int | None) -> None:
        if not self.release.is_set():
            await self.release.wait()
            raise CursorError("disk gone")
        self.saved.append(stamp_us)


def test_a_save_cut_short_by_a_stop_lands_first_and_its_failure_is_not_lost(
    tmp_path: Path,
) -> None:
    unseen: list[dict[str, Any]] = []

    async def test() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: unseen.append(ctx))
        async with Logged(tmp_path) as logged:
            await logged.append(0)
            cursors = StallingCursors()
            source = LogSource(logged.reader, cursors, "siem", START_US - 1)
            messagebus = MessageBus(Bus(), SystemClock())
            spec = parse_spec("siem:type=syslog,target=udp://h:1")
            output = Delivered()
            runner = Runner(output, "syslog", settings(spec), source, messagebus)
            runner.start()
            async with asyncio.timeout(5):
                while not output.sent:
                    await asyncio.sleep(0.005)
            stopping = asyncio.ensure_future(runner.stop())  # while the save hangs
            await asyncio.sleep(0.05)
            assert not stopping.done()
            cursors.release.set()
            await stopping
            assert cursors.saved == [make_alert(0).timestamp_us]  # saved again by the stop
        gc.collect()
        await asyncio.sleep(0)

    asyncio.run(test())
    assert unseen == []
