"""The alert tracker: defining and raising alerts over a MemoryStore, a Bus and a MessageBus.

Real objects throughout; time moves only through a ManualClock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from kisalert import messages
from kisalert.alert import Alert, AlertDraft
from kisalert.bus import ALERT, ANY_TOPIC, MESSAGE, Bus
from kisalert.catalog import BUILTIN_ALERTS
from kisalert.clock import ManualClock
from kisalert.config import load
from kisalert.definition import Definition
from kisalert.errors import (
    AlreadyDefined,
    Disabled,
    InvalidRequest,
    Throttled,
    UnknownAlert,
)
from kisalert.location import NO_LOCATION, Location
from kisalert.messages import MessageBus
from kisalert.rates import Limits
from kisalert.store import MemoryStore
from kisalert.timestamps import to_micros
from kisalert.tracker import AlertTracker, RaiseRequest

START = 1_764_420_000.0
START_US = 1_764_420_000_000_000
CONFIG_RATES = load([]).rates
UNLIMITED = ("1000000/sec", "1000000/sec")

AsyncTest = Callable[[], Coroutine[Any, Any, None]]


def run_async(test: AsyncTest) -> Callable[[], None]:
    """Run an `async def` test to completion (no pytest-asyncio plugin here)."""

    def runner() -> None:
        asyncio.run(test())

    runner.__name__ = test.__name__
    runner.__doc__ = test.__doc__
    return runner


@dataclass
class World:
    clock: ManualClock
    bus: Bus
    messagebus: MessageBus
    store: MemoryStore
    tracker: AlertTracker
    events: list[tuple[str, Any]]

    async def definition(self, name: str) -> Definition:
        found = await self.store.definition(name)
        assert found is not None
        return found

    async def raise_(self, name: str, text: str = "text") -> Alert:
        return await self.tracker.raise_alert(RaiseRequest(name, text))

    async def try_raise(self, name: str, text: str = "text") -> Alert | None:
        try:
            return await self.raise_(name, text)
        except Throttled:
            return None

    def messages(self, flags: int | None = None) -> list[messages.Message]:
        return [m for m in self.messagebus.all() if flags is None or m.flags == flags]


async def make_world(
    backlog: int = 50,
    rates: Mapping[str, Limits] | None = None,
    location: Location | None = None,
) -> World:
    """Built like kisalert.service.Service, with a manual clock."""
    clock = ManualClock(START)
    bus = Bus()
    messagebus = MessageBus(bus, clock)
    store = MemoryStore(clock, backlog)
    tracker = AlertTracker(
        store,
        bus,
        messagebus,
        clock,
        CONFIG_RATES if rates is None else rates,
        NO_LOCATION if location is None else location,
    )
    await tracker.register_builtins()
    events: list[tuple[str, Any]] = []
    bus.subscribe(ANY_TOPIC, lambda topic, item: events.append((topic, item)))
    return World(clock, bus, messagebus, store, tracker, events)


# Built-ins


@run_async
async def test_builtins_registered_in_catalog_order() -> None:
    world = await make_world()
    names = [d.name for d in await world.store.definitions()]
    assert len(names) == 51
    assert names == [b.name for b in BUILTIN_ALERTS]
    assert names[0] == "KISMET"
    assert names[-1] == "ROOTUSER"
    records = await world.store.definition_records(START_US)
    assert [r["kismet.alert.definition.header"] for r in records] == names


@run_async
async def test_builtins_take_config_rates_else_their_fallback() -> None:
    world = await make_world()
    assert (await world.definition("DEAUTHFLOOD")).limits == Limits.parse("5/min", "2/sec")
    assert (await world.definition("SOURCEERROR")).limits == Limits.parse("1/sec", "10/sec")
    assert (await world.definition("KISMET")).limits == Limits.parse("0/day", "0/day")
    assert (await world.definition("NETSTUMBLER")).limits == Limits.parse("0/min", "0/sec")
    deauth = await world.definition("DEAUTHFLOOD")
    assert (deauth.klass, deauth.severity, deauth.phy) == ("DENIAL", 10, 0)


@run_async
async def test_builtins_take_a_user_config_line() -> None:
    rates = dict(CONFIG_RATES)
    rates["DEAUTHFLOOD"] = Limits.parse("1/hr", "1/min")
    rates["NETSTUMBLER"] = Limits.parse("3/min", "1/sec")
    world = await make_world(rates=rates)
    assert (await world.definition("DEAUTHFLOOD")).limits == Limits.parse("1/hr", "1/min")
    assert (await world.definition("NETSTUMBLER")).limits == Limits.parse("3/min", "1/sec")


@run_async
async def test_disabled_builtin_cannot_be_raised() -> None:
    world = await make_world()
    # Disabled is a Throttled: whoever lets a throttled alert go lets this one go too.
    with pytest.raises(Disabled) as info:
        await world.raise_("NETSTUMBLER")
    assert isinstance(info.value, Throttled)
    assert str(info.value) == (
        "Invalid request: alert NETSTUMBLER is disabled (its rate is 0); give it a rate "
        "with a config line such as alert=NETSTUMBLER,10/min,1/sec and restart"
    )
    with pytest.raises(Disabled):
        await world.raise_("KISMET")
    assert await world.store.backlog() == ()
    assert world.tracker.throttled["NETSTUMBLER"] == 1


@run_async
async def test_an_alert_with_a_zero_burst_is_disabled_by_its_burst() -> None:
    world = await make_world()
    await world.tracker.define("NOBURST", "d", throttle="5/min", burst="0/sec")
    with pytest.raises(Disabled) as info:
        await world.raise_("noburst")
    assert "alert NOBURST is disabled (its burst is 0)" in str(info.value)


# Defining


@run_async
async def test_define_new_alert() -> None:
    world = await make_world()
    assert await world.tracker.define("myAlert", "my description", klass="spoof", severity_value=15)
    definition = await world.definition("MYALERT")
    assert definition == Definition(
        "MYALERT", "SPOOF", 15, "my description", -1, Limits.parse("10/min", "1/sec")
    )
    names = [d.name for d in await world.store.definitions()]
    assert names[-1] == "MYALERT"
    assert len(names) == 52
    info = world.messages(messages.INFO)
    assert any("MYALERT" in m.text for m in info)


@run_async
async def test_define_defaults() -> None:
    world = await make_world()
    await world.tracker.define("PLAIN", "d")
    definition = await world.definition("PLAIN")
    assert (definition.klass, definition.severity, definition.phy) == ("OTHER", 10, -1)
    assert definition.limits == Limits.parse("10/min", "1/sec")


@run_async
async def test_define_keeps_registration_order() -> None:
    world = await make_world()
    for name in ("ZED", "ALPHA", "MIDDLE"):
        await world.tracker.define(name, "d")
    names = [d.name for d in await world.store.definitions()]
    assert names[51:] == ["ZED", "ALPHA", "MIDDLE"]


@run_async
async def test_identical_definition_is_a_no_op() -> None:
    world = await make_world()
    assert await world.tracker.define("SAME", "d", throttle="5/min", burst="1/sec", phy=0)
    before = len(world.messagebus.all())
    assert not await world.tracker.define(
        "same", "d", klass="other", throttle="5/min", burst="1/sec", phy=0
    )
    assert not await world.tracker.define("SAME", "d", "OTHER", 10, "5/min", "1/sec", 0)
    assert len(world.messagebus.all()) == before
    assert [d.name for d in await world.store.definitions()].count("SAME") == 1


@run_async
async def test_identical_after_defaults_is_a_no_op() -> None:
    world = await make_world()
    await world.tracker.define("DEF", "d")
    assert not await world.tracker.define("DEF", "d", "OTHER", 10, "10/min", "1/sec")


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "other description"},
        {"klass": "SPOOF"},
        {"severity_value": 15},
        {"throttle": "6/min"},
        {"burst": "2/sec"},
        {"throttle": "5/hr"},
        {"phy": 0},
    ],
)
def test_conflicting_definition_is_already_defined(changes: dict[str, Any]) -> None:
    async def body() -> None:
        world = await make_world()
        base: dict[str, Any] = {
            "description": "d",
            "klass": "OTHER",
            "severity_value": 10,
            "throttle": "5/min",
            "burst": "1/sec",
            "phy": -1,
        }
        await world.tracker.define("TAKEN", **base)
        with pytest.raises(AlreadyDefined) as info:
            await world.tracker.define("taken", **{**base, **changes})
        assert str(info.value) == "Could not define alert: TAKEN already exists"
        assert (await world.definition("TAKEN")).description == "d"

    asyncio.run(body())


@run_async
async def test_redefining_a_builtin_differently_is_already_defined() -> None:
    world = await make_world()
    with pytest.raises(AlreadyDefined):
        await world.tracker.define("DEAUTHFLOOD", "mine")


@run_async
async def test_config_line_wins_over_requested_rates() -> None:
    rates = dict(CONFIG_RATES)
    rates["CFGALERT"] = Limits.parse("2/min", "1/sec")
    world = await make_world(rates=rates)
    assert await world.tracker.define("cfgalert", "d", throttle="100/min", burst="10/sec")
    assert (await world.definition("CFGALERT")).limits == Limits.parse("2/min", "1/sec")
    # compared after the config rates are applied: any requested rates are identical
    assert not await world.tracker.define("CFGALERT", "d", throttle="7/hr", burst="1/min")
    assert not await world.tracker.define("CFGALERT", "d")
    sent = 0
    for _ in range(3):
        world.clock.advance(1)
        sent += await world.try_raise("CFGALERT") is not None
    assert sent == 2


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        (
            {"severity_value": 7},
            "unknown severity 7 (severity is a number: 0 INFO, 5 LOW, 10 MEDIUM, 15 HIGH or "
            "20 CRITICAL)",
        ),
        ({"severity_value": -1}, "unknown severity -1 (severity is a number: 0 INFO,"),
        ({"throttle": "10x/min"}, "could not parse throttle limits"),
        ({"throttle": "-1/min"}, "could not parse throttle limits"),
        ({"burst": "1.5/sec"}, "could not parse burst limits"),
        ({"burst": "1/fortnight"}, "could not parse burst limits"),
        ({"throttle": "5/sec", "burst": "1/min"}, "burst unit may not be longer"),
    ],
)
def test_define_rejects_bad_settings(kwargs: dict[str, Any], reason: str) -> None:
    async def body() -> None:
        world = await make_world()
        with pytest.raises(InvalidRequest) as info:
            await world.tracker.define("BADONE", "d", **kwargs)
        assert str(info.value).startswith("Invalid request: ")
        assert reason in str(info.value)
        assert await world.store.definition("BADONE") is None

    asyncio.run(body())


@pytest.mark.parametrize("name", ["", "has space", "bad!", "x" * 65, "slash/name", "ünï"])
def test_define_rejects_bad_names(name: str) -> None:
    async def body() -> None:
        world = await make_world()
        with pytest.raises(InvalidRequest):
            await world.tracker.define(name, "d")
        assert len(await world.store.definitions()) == 51

    asyncio.run(body())


@run_async
async def test_define_accepts_every_name_character() -> None:
    world = await make_world()
    assert await world.tracker.define("a-Z_0.9", "d")
    assert await world.tracker.define("N" * 64, "d")
    assert await world.store.definition("A-Z_0.9") is not None


# Raising


@run_async
async def test_raise_builds_the_record() -> None:
    world = await make_world()
    await world.tracker.define("MYALERT", "d", klass="spoof", severity_value=15, phy=3)
    alert = await world.tracker.raise_alert(
        RaiseRequest(
            "MYALERT",
            "hello",
            transmitter="AA:BB:CC:DD:EE:FF",
            source="11:22:33:44:55:66",
            dest="FF:FF:FF:FF:FF:FF",
            other="01:02:03:04:05:06",
            channel="6",
        )
    )
    record = alert.record
    assert record["kismet.alert.header"] == "MYALERT"
    assert record["kismet.alert.class"] == "SPOOF"
    assert record["kismet.alert.severity"] == 15
    assert record["kismet.alert.phy_id"] == 3
    assert record["kismet.alert.timestamp"] == 1764420000
    assert record["kismet.alert.transmitter_mac"] == "AA:BB:CC:DD:EE:FF"
    assert record["kismet.alert.source_mac"] == "11:22:33:44:55:66"
    assert record["kismet.alert.dest_mac"] == "FF:FF:FF:FF:FF:FF"
    assert record["kismet.alert.other_mac"] == "01:02:03:04:05:06"
    assert record["kismet.alert.channel"] == "6"
    assert record["kismet.alert.text"] == "hello"
    assert record["kismet.alert.location"] == {"kismet.common.location.geopoint": [0, 0]}
    assert alert.alert_id == record["kismet.alert.hash"]
    assert await world.store.backlog() == (alert,)


@run_async
async def test_raise_name_is_case_insensitive() -> None:
    world = await make_world()
    await world.tracker.define("MYALERT", "d", throttle=UNLIMITED[0], burst=UNLIMITED[1])
    for name in ("myalert", "MyAlert", "MYALERT"):
        alert = await world.raise_(name)
        assert alert.header == "MYALERT"
    alert = await world.raise_("deauthFlood")
    assert alert.record["kismet.alert.class"] == "DENIAL"


@run_async
async def test_unknown_alert_text_escapes_the_name() -> None:
    world = await make_world()
    with pytest.raises(UnknownAlert) as info:
        await world.raise_("NOSUCH")
    assert str(info.value) == "Invalid request:  Unknown alert type 'NOSUCH'"
    with pytest.raises(UnknownAlert) as info:
        await world.raise_("<script>&x")
    assert str(info.value) == "Invalid request:  Unknown alert type '&lt;script&gt;&amp;x'"
    assert await world.store.backlog() == ()
    assert world.events == []


@run_async
async def test_raise_keeps_the_case_of_an_unknown_name_in_the_error() -> None:
    world = await make_world()
    with pytest.raises(UnknownAlert) as info:
        await world.raise_("noSuch")
    assert "'noSuch'" in str(info.value)


@run_async
async def test_raise_sees_a_definition_made_after_a_failed_raise() -> None:
    world = await make_world()
    with pytest.raises(UnknownAlert):
        await world.raise_("LATER")
    await world.tracker.define("LATER", "d")
    assert (await world.raise_("later")).header == "LATER"


@run_async
async def test_text_and_channel_limits() -> None:
    world = await make_world()
    await world.tracker.define("BIG", "d", throttle=UNLIMITED[0], burst=UNLIMITED[1])
    await world.tracker.raise_alert(RaiseRequest("BIG", "x" * 16384, channel="c" * 64))
    with pytest.raises(InvalidRequest):
        await world.tracker.raise_alert(RaiseRequest("BIG", "x" * 16385))
    with pytest.raises(InvalidRequest):
        await world.tracker.raise_alert(RaiseRequest("BIG", "é" * 8193))  # 16386 bytes
    with pytest.raises(InvalidRequest):
        await world.tracker.raise_alert(RaiseRequest("BIG", "x", channel="c" * 65))
    assert len(await world.store.backlog()) == 1


# Throttling


@run_async
async def test_five_per_minute_one_per_second_over_a_minute_of_attempts() -> None:
    world = await make_world()
    await world.tracker.define("FLOODY", "d", throttle="5/min", burst="1/sec")
    sent: list[int] = []
    for k in range(120):  # every 0.5 s for one minute
        world.clock.set(START + k * 0.5)
        alert = await world.try_raise("FLOODY")
        if alert is not None:
            sent.append(alert.timestamp_us)
    assert sent == [START_US + s * 1_000_000 for s in range(5)]
    assert len(await world.store.backlog()) == 5

    records = {
        r["kismet.alert.definition.header"]: r
        for r in await world.store.definition_records(to_micros(START + 59.5))
    }
    assert records["FLOODY"]["kismet.alert.definition.total_sent"] == 5
    assert records["FLOODY"]["kismet.alert.definition.burst_sent"] == 0
    assert records["FLOODY"]["kismet.alert.definition.time_last"] == 1764420004

    # The window slides: each send leaves it one minute later, and one more gets through.
    later: list[int] = []
    for k in range(120, 140):  # 60.0 s .. 69.5 s
        world.clock.set(START + k * 0.5)
        alert = await world.try_raise("FLOODY")
        if alert is not None:
            later.append(alert.timestamp_us)
    assert later == [START_US + s * 1_000_000 for s in range(60, 65)]


@run_async
async def test_throttled_raise_raises_and_leaves_nothing_behind() -> None:
    world = await make_world()
    await world.tracker.define("ONCE", "d", throttle="1/min", burst="1/sec")
    first = await world.raise_("ONCE")
    events_before = list(world.events)
    messages_before = len(world.messagebus.all())
    world.clock.advance(0.5)
    with pytest.raises(Throttled) as info:
        await world.raise_("ONCE")
    assert str(info.value) == "Invalid request: alert throttle reached, alert not raised."
    assert await world.store.backlog() == (first,)
    assert world.events == events_before
    assert len(world.messagebus.all()) == messages_before


@run_async
async def test_throttled_attempts_do_not_delay_the_next_send() -> None:
    world = await make_world()
    await world.tracker.define("TICK", "d", throttle="100/min", burst="1/sec")
    await world.raise_("TICK")
    for _ in range(9):
        world.clock.advance(0.1)
        assert await world.try_raise("TICK") is None
    world.clock.set(START + 1)
    assert await world.try_raise("TICK") is not None


@run_async
async def test_throttles_are_per_definition() -> None:
    world = await make_world()
    await world.tracker.define("ONE", "d", throttle="1/min", burst="1/sec")
    await world.tracker.define("TWO", "d", throttle="1/min", burst="1/sec")
    await world.raise_("ONE")
    await world.raise_("TWO")
    with pytest.raises(Throttled):
        await world.raise_("ONE")


# Timestamps and ids


@run_async
async def test_timestamps_strictly_increase_when_the_clock_stands_still() -> None:
    world = await make_world()
    await world.tracker.define("FAST", "d", throttle=UNLIMITED[0], burst=UNLIMITED[1])
    stamps = [(await world.raise_("FAST")).timestamp_us for _ in range(50)]
    assert stamps == list(range(START_US, START_US + 50))
    world.clock.set(START - 60)  # the clock goes backwards
    later = (await world.raise_("FAST")).timestamp_us
    assert later == stamps[-1] + 1
    one_shot = (await world.tracker.raise_oneshot("BOOT", "x")).timestamp_us
    assert one_shot == later + 1


@run_async
async def test_ids_unique_when_checksums_collide() -> None:
    count = 2000
    world = await make_world(backlog=count)
    await world.tracker.define("FLOOD", "d", throttle=UNLIMITED[0], burst=UNLIMITED[1])
    alerts = []
    for k in range(count):
        world.clock.set(START + k / 1_000_000)
        alerts.append(await world.raise_("FLOOD", "same text every time"))
    stamps = [a.timestamp_us for a in alerts]
    assert stamps == list(range(START_US, START_US + count))
    definition = await world.definition("FLOOD")
    draft = AlertDraft("FLOOD", definition.klass, definition.severity, definition.phy, "t")
    checksums = [draft.checksum(stamp) for stamp in stamps]
    assert len(set(checksums)) < count // 2  # the checksum really collides here
    ids = [a.alert_id for a in alerts]
    assert len(set(ids)) == count
    assert ids[0] == checksums[0]  # a free checksum is the id itself
    for alert in alerts:
        assert await world.store.by_id(alert.alert_id) is alert
        assert 0 <= alert.alert_id <= 0xFFFFFFFF


@run_async
async def test_backlog_keeps_only_the_newest() -> None:
    world = await make_world(backlog=5)
    await world.tracker.define("MANY", "d", throttle=UNLIMITED[0], burst=UNLIMITED[1])
    alerts = []
    for k in range(12):
        world.clock.set(START + k)
        alerts.append(await world.raise_("MANY", f"alert {k}"))
    kept, dropped = alerts[-5:], alerts[:-5]
    assert await world.store.backlog() == tuple(kept)
    for alert in kept:
        assert await world.store.by_id(alert.alert_id) is alert
    kept_ids = {a.alert_id for a in kept}
    forgotten = [a for a in dropped if a.alert_id not in kept_ids]
    assert forgotten
    for alert in forgotten:
        assert await world.store.by_id(alert.alert_id) is None
    for alert in dropped:
        assert await world.store.by_id(alert.alert_id) is not alert


@run_async
async def test_backlog_of_zero_keeps_nothing() -> None:
    world = await make_world(backlog=0)
    await world.tracker.define("NONE", "d")
    alert = await world.raise_("NONE")
    assert await world.store.backlog() == ()
    assert await world.store.by_id(alert.alert_id) is None
    assert (ALERT, alert) in world.events


# One-shot alerts


@run_async
async def test_raise_oneshot() -> None:
    world = await make_world()
    alert = await world.tracker.raise_oneshot("startup", "sensor up")
    record = alert.record
    assert record["kismet.alert.header"] == "STARTUP"
    assert record["kismet.alert.class"] == "SYSTEM"
    assert record["kismet.alert.severity"] == 20
    assert record["kismet.alert.phy_id"] == 4294967295
    for key in ("transmitter_mac", "source_mac", "dest_mac", "other_mac"):
        assert record[f"kismet.alert.{key}"] == "00:00:00:00:00:00"
    assert record["kismet.alert.channel"] == ""
    assert record["kismet.alert.text"] == "sensor up"
    assert await world.store.backlog() == (alert,)
    assert await world.store.by_id(alert.alert_id) is alert
    assert world.events[0] == (ALERT, alert)
    message = world.events[1][1]
    assert world.events[1][0] == MESSAGE
    assert (message.text, message.flags) == ("STARTUP sensor up", 8)


@run_async
async def test_oneshot_is_never_throttled_and_needs_no_definition() -> None:
    world = await make_world()
    # KISMET is a disabled definition; a one-shot ignores it.
    alerts = [await world.tracker.raise_oneshot("KISMET", f"x{i}") for i in range(100)]
    assert await world.store.backlog() == tuple(alerts[-50:])
    assert [a.record["kismet.alert.text"] for a in alerts[-50:]] == [
        f"x{i}" for i in range(50, 100)
    ]
    assert len({a.alert_id for a in alerts[-50:]}) == 50
    assert await world.store.definition("NODEF") is None
    world.events.clear()
    alert = await world.tracker.raise_oneshot("nodef", "y")
    record = alert.record
    assert record["kismet.alert.header"] == "NODEF"
    assert record["kismet.alert.text"] == "y"
    assert record["kismet.alert.class"] == "SYSTEM"
    assert record["kismet.alert.severity"] == 20
    assert (await world.store.backlog())[-1] is alert
    assert await world.store.by_id(alert.alert_id) is alert
    assert [topic for topic, _ in world.events] == [ALERT, MESSAGE]
    assert world.events[1][1].text == "NODEF y"
    assert await world.store.definition("NODEF") is None


# Bus and messagebus


@run_async
async def test_bus_gets_alert_then_messagebus_gets_header_and_text() -> None:
    world = await make_world()
    alert_topic: list[Any] = []
    message_topic: list[Any] = []
    world.bus.subscribe(ALERT, lambda topic, item: alert_topic.append((topic, item)))
    world.bus.subscribe(MESSAGE, lambda topic, item: message_topic.append((topic, item)))
    await world.tracker.define("MYALERT", "d")
    world.events.clear()
    message_topic.clear()
    alert = await world.raise_("myalert", "something happened")
    assert alert_topic == [(ALERT, alert)]
    assert len(message_topic) == 1
    assert [topic for topic, _ in world.events] == [ALERT, MESSAGE]
    assert world.events[0][1] is alert
    message = world.events[1][1]
    assert message is message_topic[0][1]
    assert message.text == "MYALERT something happened"
    assert message.flags == messages.ALERT == 8
    assert message.record["kismet.messagebus.message_string"] == "MYALERT something happened"
    assert message.record["kismet.messagebus.message_flags"] == 8
    assert world.messagebus.all()[-1] is message


@run_async
async def test_alert_carries_the_configured_position() -> None:
    world = await make_world(location=Location(52.5, 13.25, 34.0, 3))
    await world.tracker.define("WHERE", "d")
    world.clock.set(START + 0.25)
    location = (await world.raise_("WHERE")).record["kismet.alert.location"]
    assert location["kismet.common.location.geopoint"] == [13.25, 52.5]
    assert location["kismet.common.location.fix"] == 3
    assert location["kismet.common.location.time_sec"] == 1764420000
    assert location["kismet.common.location.time_usec"] == 250000
    oneshot = await world.tracker.raise_oneshot("BOOT", "x")
    assert oneshot.record["kismet.alert.location"]["kismet.common.location.fix"] == 3


# Poll marks


@run_async
async def test_poll_mark_makes_later_stamps_greater() -> None:
    world = await make_world()
    await world.tracker.define("POLL", "d", throttle=UNLIMITED[0], burst=UNLIMITED[1])
    first = await world.raise_("POLL")
    # the clock stands still: T is the newest alert's stamp
    mark = await world.store.poll_mark(to_micros(world.clock.now()))
    assert mark == first.timestamp_us
    second = await world.raise_("POLL")
    assert second.timestamp_us > mark
    assert await world.store.since(mark) == [second]


@run_async
async def test_poll_mark_ahead_of_the_clock() -> None:
    world = await make_world()
    await world.tracker.define("POLL", "d", throttle=UNLIMITED[0], burst=UNLIMITED[1])
    mark = await world.store.poll_mark(START_US + 5_000_000)
    assert mark == START_US + 5_000_000
    alert = await world.raise_("POLL")  # the clock is still at START
    assert alert.timestamp_us > mark
    assert await world.store.since(mark) == [alert]


@run_async
async def test_poll_mark_with_an_empty_backlog() -> None:
    world = await make_world()
    mark = await world.store.poll_mark(START_US)
    assert mark == START_US
    alert = await world.tracker.raise_oneshot("BOOT", "x")
    assert alert.timestamp_us == START_US + 1


@run_async
async def test_poll_marks_never_miss_or_repeat() -> None:
    world = await make_world(backlog=1000)
    await world.tracker.define("POLL", "d", throttle=UNLIMITED[0], burst=UNLIMITED[1])
    seen: list[Alert] = []
    raised: list[Alert] = []
    mark = 0
    for round_ in range(20):
        for _ in range(round_ % 4):
            raised.append(await world.raise_("POLL"))
        if round_ % 3 == 0:
            world.clock.advance(0.000001)
        seen.extend(await world.store.since(mark))
        mark = await world.store.poll_mark(to_micros(world.clock.now()))
    seen.extend(await world.store.since(mark))
    assert seen == raised
