"""Strict mode shows an alert only after the commit that holds it (storage.md, "Durability").

A real Service on a real log file, in strict mode, with a manual clock (so that the
test knows each alert's stamp, hence its id, before the server answers). Another
connection holds SQLite's write lock, as `sqlite3 kisalert.kismet` with an open
transaction would, so the commit is held back: meanwhile the raises are not
answered and no read, no bus subscriber and no by-id sees their alerts. Once the
lock is gone, all of them see every alert, in the order they were raised.

Over HTTP, with the eventbus, and across kill -9: test_durability_seen.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from kisalert.alert import Alert, AlertDraft
from kisalert.alertlog import LOG_NAME
from kisalert.bus import ALERT, MESSAGE
from kisalert.clock import ManualClock
from kisalert.config import Config, load
from kisalert.messages import Message
from kisalert.service import Service
from kisalert.timestamps import to_micros
from kisalert.tracker import RaiseRequest
from tests.test_alertlog import query
from tests.test_tracker import START, run_async

NAME = "HELD"
RAISES = 4


def strict_config(tmp_path: Path) -> Config:
    conf = tmp_path / "kisalert.conf"
    conf.write_text("kis_log_sync=strict\n")
    return load([conf])


async def expected_id(service: Service, text: str, stamp_us: int) -> int:
    """The id a raise of `text` stamped at `stamp_us` gets, if nothing holds its checksum."""
    definition = await service.store.definition(NAME)
    assert definition is not None
    draft = AlertDraft(
        header=definition.name,
        klass=definition.klass,
        severity=definition.severity,
        phy=definition.phy,
        text=text,
        location=service.config.location,
    )
    return draft.checksum(stamp_us)


async def held_raises(tmp_path: Path) -> None:
    clock = ManualClock(START)
    service = Service(strict_config(tmp_path), tmp_path, clock=clock)
    await service.start()
    try:
        await service.tracker.define(NAME, "held back", throttle="1000/sec", burst="1000/sec")
        events: list[tuple[str, Any]] = []
        service.bus.subscribe(ALERT, lambda topic, item: events.append((topic, item)))
        service.bus.subscribe(MESSAGE, lambda topic, item: events.append((topic, item)))
        before = list(await service.store.backlog())
        blocker = sqlite3.connect(
            tmp_path / LOG_NAME, isolation_level=None, timeout=10, check_same_thread=False
        )
        try:
            await asyncio.to_thread(blocker.execute, "BEGIN IMMEDIATE")
            raises: list[asyncio.Task[Alert]] = []
            ids: list[int] = []
            for number in range(RAISES):
                clock.set(START + 60 + number)  # a stamp of its own: the clock's time
                text = f"held {number}"
                ids.append(await expected_id(service, text, to_micros(clock.now())))
                raises.append(
                    asyncio.create_task(service.tracker.raise_alert(RaiseRequest(NAME, text)))
                )
                await asyncio.sleep(0.05)
            # The writer waits for the lock (its busy timeout is 5 s): nothing answered,
            # nothing shown.
            await asyncio.sleep(0.5)
            assert not any(task.done() for task in raises)
            assert list(await service.store.backlog()) == before
            assert list(await service.store.since(0)) == before
            assert not [e for e in events if e[0] == ALERT]
            assert not [e for e in events if isinstance(e[1], Message) and NAME in e[1].text]
            for alert_id in ids:
                assert await service.tracker.alert_by_id(alert_id) is None
            # A wrapped poll's mark comes before the held alerts: the next poll gets them.
            mark = await service.store.poll_mark(to_micros(clock.now()))
            assert mark < to_micros(START + 60)
        finally:
            await asyncio.to_thread(blocker.execute, "ROLLBACK")
            blocker.close()

        raised = await asyncio.wait_for(asyncio.gather(*raises), 10)
        assert [alert.alert_id for alert in raised] == ids
        assert [item for topic, item in events if topic == ALERT] == raised
        assert [item.text for topic, item in events if topic == MESSAGE] == [
            f"{NAME} held {number}" for number in range(RAISES)
        ]
        # Each alert on the bus, then its message, alert by alert.
        assert [topic for topic, _ in events] == [ALERT, MESSAGE] * RAISES
        assert list(await service.store.backlog()) == [*before, *raised]
        assert list(await service.store.since(mark)) == raised
        for alert in raised:
            assert await service.tracker.alert_by_id(alert.alert_id) is alert
        logged = {text for (text,) in query(tmp_path / LOG_NAME, "SELECT message FROM messages")}
        assert {f"{NAME} held {number}" for number in range(RAISES)} <= logged
    finally:
        await service.stop()


def test_strict_mode_shows_an_alert_only_after_its_commit(tmp_path: Path) -> None:
    run_async(lambda: held_raises(tmp_path))()
