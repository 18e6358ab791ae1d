"""The tracker's answers a client reads, the tracker with a real alert log, and a
replica's tracker on a real Redis with its relay.

In process, on a real SQLite file: an alert that left the backlog is read from the
log; detector raises are shown and posted like any other; strict mode shows a
detector's or the server's own alert only after its commit; a log that falls behind
or cannot be written refuses raises with the reason, and a strict raise whose
commit failed is answered 503 and its alert shown once the retry succeeds.
"""

from __future__ import annotations

import asyncio
import operator
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kisalert import messages
from kisalert.alert import Alert
from kisalert.alertlog import LOG_NAME
from kisalert.alertlog.log import QUEUE_LIMIT, AlertLog
from kisalert.bus import ALERT, Bus
from kisalert.clock import ManualClock
from kisalert.cluster.relay import Relay
from kisalert.errors import InvalidRequest, Unavailable
from kisalert.location import NO_LOCATION
from kisalert.messages import MessageBus
from kisalert.store import MemoryStore
from kisalert.store.redis import RedisStore
from kisalert.throttle import PacketThrottles
from kisalert.tracker import AlertTracker, RaiseRequest
from tests.redis_server import running_redis
from tests.slack import slack
from tests.test_tracker import CONFIG_RATES, START, make_world, run_async

AT = 1_764_420_000_000_000  # a packet time


# What a client is told


async def refusal(call: Awaitable[Any]) -> str:
    with pytest.raises(InvalidRequest) as info:
        await call
    return str(info.value)


@run_async
async def test_bad_definitions_and_raises_say_why() -> None:
    world = await make_world()
    tracker = world.tracker
    assert await refusal(tracker.define("no spaces", "d")) == (
        "Invalid request: alert name must be 1-64 letters, digits, '_', '-' or '.'"
    )
    assert await refusal(tracker.define("ORDER", "d", throttle="5/min", burst="1/hr")) == (
        "Invalid request: burst unit may not be longer than throttle unit"
    )
    await tracker.define("LONG", "d")
    text = "x" * (16 * 1024 + 1)
    assert await refusal(tracker.raise_alert(RaiseRequest("LONG", text))) == (
        "Invalid request: alert text is longer than 16 KiB"
    )
    channel = "c" * 65
    assert await refusal(tracker.raise_alert(RaiseRequest("LONG", "t", channel=channel))) == (
        "Invalid request: channel is longer than 64 characters"
    )


@run_async
async def test_every_throttled_raise_is_counted() -> None:
    world = await make_world()
    await world.tracker.define("ONCE", "d", throttle="1/min", burst="1/sec")
    book = PacketThrottles()
    assert await world.try_raise("ONCE") is not None
    for _ in range(3):
        assert await world.try_raise("ONCE") is None
    assert world.tracker.throttled["ONCE"] == 3
    request = RaiseRequest("ONCE", "t")
    assert await world.tracker.raise_detected(request, AT, book) is not None
    for _ in range(2):
        assert await world.tracker.raise_detected(request, AT, book) is None
    assert world.tracker.throttled["ONCE"] == 5


@run_async
async def test_built_in_definitions_carry_their_description() -> None:
    world = await make_world()
    description = (await world.definition("DEAUTHFLOOD")).description
    assert description.startswith("Many deauthentication or disassociation frames")


# With a real log


@dataclass
class Logged:
    clock: ManualClock
    bus: Bus
    messagebus: MessageBus
    log: AlertLog
    store: MemoryStore
    tracker: AlertTracker
    path: Path
    shown: list[Alert]
    loop_errors: list[dict[str, Any]]


@asynccontextmanager
async def logged(
    tmp_path: Path, sync: str = "batched", backlog: int = 50, queue_limit: int = QUEUE_LIMIT
) -> AsyncIterator[Logged]:
    """Built as kisalert.service.Service builds it, with a manual clock."""
    clock = ManualClock(START)
    bus = Bus()
    messagebus = MessageBus(bus, clock)
    path = tmp_path / LOG_NAME
    log = AlertLog(path, sync=sync, queue_limit=queue_limit)
    store = MemoryStore(clock, backlog, log.first_free)
    tracker = AlertTracker(store, bus, messagebus, clock, CONFIG_RATES, NO_LOCATION, log)
    await tracker.register_builtins()
    await tracker.define("SEEN", "d", throttle="1000/sec", burst="1000/sec")
    shown: list[Alert] = []
    bus.subscribe(ALERT, lambda _topic, alert: shown.append(alert))
    loop_errors: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    log.open()
    await eventually(lambda: log.queued == 0, "the definition committed")
    try:
        yield Logged(clock, bus, messagebus, log, store, tracker, path, shown, loop_errors)
    finally:
        await log.close()
        loop.set_exception_handler(None)


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait until `check()` holds: observable state, not a fixed sleep."""
    deadline = asyncio.get_running_loop().time() + slack(10)
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"still not {what}"
        await asyncio.sleep(0.01)


class Blocker:
    """Another connection to the log file, as `sqlite3 kisalert.kismet` would be."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    async def hold_the_write_lock(self) -> None:
        await asyncio.to_thread(self.db.execute, "BEGIN IMMEDIATE")

    async def release(self) -> None:
        await asyncio.to_thread(self.db.execute, "ROLLBACK")

    def fail_inserts(self, reason: str) -> None:
        self.db.execute(
            f"CREATE TRIGGER failing BEFORE INSERT ON alerts BEGIN "
            f"SELECT RAISE(ABORT, '{reason}'); END"
        )

    def stop_failing(self) -> None:
        self.db.execute("DROP TRIGGER failing")

    def close(self) -> None:
        self.db.close()


def test_an_alert_gone_from_the_backlog_is_read_by_id_from_the_log(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with logged(tmp_path, backlog=1) as world:
            first = await world.tracker.raise_alert(RaiseRequest("SEEN", "first"))
            world.clock.advance(1)
            await world.tracker.raise_alert(RaiseRequest("SEEN", "second"))
            assert [a.alert_id for a in await world.store.backlog()] != [first.alert_id]
            found = await world.tracker.alert_by_id(first.alert_id)
            assert found is not None
            assert (found.alert_id, found.record["kismet.alert.text"]) == (
                first.alert_id,
                "first",
            )
            await eventually(lambda: world.log.queued == 0, "committed")
            found = await world.tracker.alert_by_id(first.alert_id)
            assert found is not None and found.json == first.json

    asyncio.run(scenario())


def test_a_detector_raise_is_shown_posted_and_logged(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with logged(tmp_path) as world:
            request = RaiseRequest("SEEN", "found on the air")
            alert = await world.tracker.raise_detected(request, AT, PacketThrottles())
            assert alert is not None
            assert list(await world.store.backlog()) == [alert]
            assert world.shown == [alert]
            assert world.messagebus.all()[-1].text == "SEEN found on the air"
        rows = sqlite3.connect(world.path).execute("SELECT json FROM alerts").fetchall()
        assert rows == [(alert.json,)]

    asyncio.run(scenario())


def test_strict_mode_shows_detector_and_server_alerts_only_after_their_commit(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with logged(tmp_path, sync="strict") as world:
            blocker = Blocker(world.path)
            try:
                await blocker.hold_the_write_lock()
                request = RaiseRequest("SEEN", "found on the air")
                detected = asyncio.create_task(
                    world.tracker.raise_detected(request, AT, PacketThrottles())
                )
                oneshot = asyncio.create_task(world.tracker.raise_oneshot("BOOT", "started"))
                await eventually(lambda: world.log.queued == 2, "queued")
                await asyncio.sleep(0.2)  # a window in which nothing may show
                assert not detected.done() and not oneshot.done()
                assert list(await world.store.backlog()) == []
                assert world.shown == []
            finally:
                await blocker.release()
                blocker.close()
            alerts = [
                await asyncio.wait_for(detected, slack(10)),
                await asyncio.wait_for(oneshot, slack(10)),
            ]
            assert list(await world.store.backlog()) == alerts
            assert world.shown == alerts

    asyncio.run(scenario())


def test_a_log_that_falls_behind_refuses_raises_saying_so(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with logged(tmp_path, queue_limit=2) as world:
            blocker = Blocker(world.path)
            try:
                await blocker.hold_the_write_lock()
                await world.tracker.raise_alert(RaiseRequest("SEEN", "one"))
                await world.tracker.raise_alert(RaiseRequest("SEEN", "two"))
                with pytest.raises(Unavailable) as info:
                    await world.tracker.raise_alert(RaiseRequest("SEEN", "three"))
                assert str(info.value) == "Alert not raised: the alert log writer is behind"
            finally:
                await blocker.release()
                blocker.close()

    asyncio.run(scenario())


def test_a_strict_raise_whose_commit_fails_is_answered_503_and_shown_after_the_retry(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with logged(tmp_path, sync="strict") as world:
            blocker = Blocker(world.path)
            failure = "the alert log cannot be written (disk on fire)"
            try:
                blocker.fail_inserts("disk on fire")
                await blocker.hold_the_write_lock()
                raises = [
                    asyncio.create_task(world.tracker.raise_alert(RaiseRequest("SEEN", text)))
                    for text in ("one", "two", "gone")
                ]
                await eventually(lambda: world.log.queued == 3, "queued")
                raises[2].cancel()  # its client went away: its alert is kept all the same
                await blocker.release()  # one transaction for all three, which fails
                await eventually(lambda: all(task.done() for task in raises), "answered")
                assert raises[2].cancelled()
                for task in raises[:2]:
                    error = task.exception()
                    assert isinstance(error, Unavailable)
                    assert str(error) == f"Alert kept in memory, not yet logged: {failure}"
                with pytest.raises(Unavailable) as info:
                    await world.tracker.raise_alert(RaiseRequest("SEEN", "three"))
                assert str(info.value) == f"Alert not raised: {failure}"
                assert world.shown == []
            finally:
                blocker.stop_failing()
                blocker.close()
            await eventually(lambda: len(world.shown) == 3, "shown after the retry")
            texts = [alert.record["kismet.alert.text"] for alert in world.shown]
            assert texts == ["one", "two", "gone"]
            assert [a.alert_id for a in await world.store.backlog()] == [
                a.alert_id for a in world.shown
            ]
            assert world.loop_errors == []

    asyncio.run(scenario())


# With several replicas on Redis


def test_a_replica_shows_its_own_alert_once_when_its_relay_brings_it_back() -> None:
    """Every replica's relay publishes each alert from the shared stream, the raising
    replica's included, so its tracker must not publish the alert or post its message
    itself: a client would see it twice on the eventbus and the messagebus."""

    async def scenario(url: str) -> None:
        clock = ManualClock(START)
        bus = Bus()
        messagebus = MessageBus(bus, clock)
        store = RedisStore(url, clock, 50, "replica-a")
        relay = Relay(store, bus, messagebus)
        tracker = AlertTracker(store, bus, messagebus, clock, CONFIG_RATES, relayed=True)
        shown: list[str] = []
        bus.subscribe(ALERT, lambda _topic, alert: shown.append(alert.record["kismet.alert.text"]))
        await relay.start_positions()
        relaying = asyncio.create_task(relay.run())
        try:
            await tracker.define("MINE", "raised here", throttle="10/min", burst="10/sec")
            for text in ("first", "second"):
                await tracker.raise_alert(RaiseRequest("MINE", text))
                await eventually(partial(operator.contains, shown, text), f"relayed {text!r}")
            # The relay delivers in stream order: once "second" is here, any second
            # copy of "first" would be too.
            assert shown == ["first", "second"]
            alerts = [m.text for m in messagebus.all() if m.flags == messages.ALERT]
            assert alerts == ["MINE first", "MINE second"]
        finally:
            relaying.cancel()
            await relay.close()
            await store.close()

    with running_redis() as redis_server:
        asyncio.run(scenario(redis_server.url))
