"""The eventbus hub (kisalert.eventbus) on a real event loop, with sinks that record
what would go out on each connection. The websocket route's tests (test_eventbus.py)
run the same code behind real sockets; these pin down the hub's own promises:
order, nothing lost or repeated across subscription changes, frames built once,
piled-up frames written together, and a stalled connection cut off without holding
memory or other subscribers back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import orjson
import pytest

from kisalert.bus import ALERT, MESSAGE, TIMESTAMP, Bus
from kisalert.clock import ManualClock
from kisalert.eventbus import (
    FLUSH_SLICE,
    MAX_PERIOD,
    TOO_SLOW,
    EventHub,
    Shape,
    Subscriber,
    text_frame,
)
from kisalert.fields import simplifier

T = TypeVar("T")


class Record:
    def __init__(self, **record: Any) -> None:
        self.record = record
        self.json = orjson.dumps(record)


class Sink:
    """A connection that takes everything while it has room, and can be stalled."""

    def __init__(self, has_room: bool = True) -> None:
        self.writes: list[bytes] = []
        self.has_room = has_room
        self.waiting: list[Callable[[], None]] = []

    def room(self) -> bool:
        return self.has_room

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def when_room(self, callback: Callable[[], None]) -> None:
        self.waiting.append(callback)

    def unblock(self) -> None:
        self.has_room = True
        callbacks, self.waiting = self.waiting, []
        for callback in callbacks:
            callback()

    def frames(self) -> list[dict[str, Any]]:
        return [orjson.loads(payload) for payload in payloads(b"".join(self.writes))]


def payloads(data: bytes) -> list[bytes]:
    """Split server-to-client websocket text frames (RFC 6455: unmasked, final)."""
    found, pos = [], 0
    while pos < len(data):
        assert data[pos] == 0x81, data[pos : pos + 16]
        size, pos = data[pos + 1], pos + 2
        if size == 126:
            size, pos = int.from_bytes(data[pos : pos + 2], "big"), pos + 2
        elif size == 127:
            size, pos = int.from_bytes(data[pos : pos + 8], "big"), pos + 8
        found.append(data[pos : pos + size])
        pos += size
    assert pos == len(data), "a write ends inside a frame"
    return found


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def flushed() -> None:
    """Long enough for any flush the hub has scheduled to have run."""
    await asyncio.sleep(MAX_PERIOD * 3)


def texts(frames: list[dict[str, Any]]) -> list[str]:
    return [next(iter(frame.values()))["text"] for frame in frames]


class Hub:
    """A hub on its own bus, and helpers to attach subscribers to it."""

    def __init__(self) -> None:
        self.bus = Bus()
        self.hub = EventHub(self.bus, ManualClock(1_700_000_000.0))

    def subscriber(
        self, *topics: str, limit: int = 1024, sink: Sink | None = None
    ) -> tuple[Subscriber, Sink]:
        subscriber, sink = Subscriber(limit), sink or Sink()
        self.hub.attach(subscriber, sink)
        for topic in topics:
            self.hub.subscribe(subscriber, topic, Shape())
        return subscriber, sink

    def publish(self, topic: str, *items: str) -> None:
        for text in items:
            self.bus.publish(topic, Record(text=text))


def test_plain_subscribers_share_one_write_of_every_frame() -> None:
    """Events raised in one turn reach each plain subscriber in one write, in order,
    and the bytes of that write are built once for all of them."""

    async def main() -> tuple[Sink, Sink]:
        h = Hub()
        _, first = h.subscriber(ALERT)
        _, second = h.subscriber(ALERT)
        h.publish(ALERT, "a1", "a2", "a3")
        await flushed()
        return first, second

    first, second = run(main())
    assert len(first.writes) == 1
    assert first.writes[0] is second.writes[0]
    assert first.frames() == [{"ALERT": {"text": t}} for t in ("a1", "a2", "a3")]


def test_each_subscriber_gets_its_topics_in_publish_order() -> None:
    async def main() -> dict[str, Sink]:
        h = Hub()
        sinks = {
            "alert": h.subscriber(ALERT)[1],
            "message": h.subscriber(MESSAGE)[1],
            "both": h.subscriber(ALERT, MESSAGE)[1],
            "star": h.subscriber("*")[1],
        }
        for i in range(3):
            h.publish(ALERT, f"a{i}")
            h.publish(MESSAGE, f"m{i}")
            h.publish(TIMESTAMP, f"t{i}")
            await asyncio.sleep(0)  # some turns end between events, some do not
        await flushed()
        return sinks

    sinks = run(main())
    assert texts(sinks["alert"].frames()) == ["a0", "a1", "a2"]
    assert texts(sinks["message"].frames()) == ["m0", "m1", "m2"]
    assert texts(sinks["both"].frames()) == ["a0", "m0", "a1", "m1", "a2", "m2"]
    star = sinks["star"].frames()
    assert texts(star) == ["a0", "m0", "t0", "a1", "m1", "t1", "a2", "m2", "t2"]
    assert [next(iter(f)) for f in star[:3]] == [ALERT, MESSAGE, TIMESTAMP]


def test_a_topic_subscription_shapes_its_events_and_star_the_rest() -> None:
    async def main() -> Sink:
        h = Hub()
        subscriber, sink = h.subscriber("*")
        h.hub.subscribe(subscriber, ALERT, Shape(simplifier([["text", "alert.text"]]), "ekjson"))
        h.publish(ALERT, "a1")
        h.publish(MESSAGE, "m1")
        await flushed()
        return sink

    assert run(main()).frames() == [
        {"ALERT": {"alert_text": "a1"}},
        {"MESSAGE": {"text": "m1"}},
    ]


def test_changing_subscriptions_loses_and_repeats_nothing() -> None:
    """Frames owed under the old subscriptions go out first, then the new shape."""

    async def main() -> Sink:
        h = Hub()
        subscriber, sink = h.subscriber(ALERT)
        h.publish(ALERT, "a1", "a2")
        h.hub.subscribe(subscriber, ALERT, Shape(simplifier([["text", "t"]])))
        h.publish(ALERT, "a3")
        await flushed()
        h.publish(ALERT, "a4")
        h.hub.unsubscribe(subscriber, ALERT)
        h.hub.subscribe(subscriber, "*", Shape())
        h.publish(MESSAGE, "m5")
        h.hub.unsubscribe(subscriber, "*")
        h.publish(ALERT, "a6")
        await flushed()
        h.hub.subscribe(subscriber, ALERT, Shape())
        h.publish(ALERT, "a7")
        await flushed()
        return sink

    assert run(main()).frames() == [
        {"ALERT": {"text": "a1"}},
        {"ALERT": {"text": "a2"}},
        {"ALERT": {"t": "a3"}},
        {"ALERT": {"t": "a4"}},
        {"MESSAGE": {"text": "m5"}},
        {"ALERT": {"text": "a7"}},
    ]


def test_a_subscriber_gets_only_events_after_it_subscribed() -> None:
    async def main() -> tuple[Sink, Sink]:
        h = Hub()
        _, early = h.subscriber(ALERT)
        h.publish(ALERT, "before")
        _, late = h.subscriber(ALERT)
        h.publish(ALERT, "after")
        await flushed()
        return early, late

    early, late = run(main())
    assert texts(early.frames()) == ["before", "after"]
    assert texts(late.frames()) == ["after"]


def test_a_full_connection_holds_frames_until_it_has_room() -> None:
    async def main() -> tuple[list[bytes], Sink]:
        h = Hub()
        _, sink = h.subscriber(ALERT, sink=Sink(has_room=False))
        h.publish(ALERT, "a1", "a2")
        await flushed()
        h.publish(ALERT, "a3")
        await flushed()
        held = list(sink.writes)
        assert sink.waiting, "the hub asks to be told when there is room"
        sink.unblock()
        await flushed()
        return held, sink

    held, sink = run(main())
    assert held == []
    assert len(sink.writes) == 1
    assert texts(sink.frames()) == ["a1", "a2", "a3"]


def test_a_stalled_subscriber_is_cut_off_and_releases_its_frames() -> None:
    """Past its limit a stalled subscriber is closed with 1013; the others get every
    frame, and once it is gone the shared feed keeps nothing anyone has been sent."""

    async def main() -> tuple[Subscriber, Sink, int]:
        h = Hub()
        stalled, _ = h.subscriber(ALERT, limit=10, sink=Sink(has_room=False))
        healthy, sink = h.subscriber(ALERT, limit=10)
        for i in range(40):
            h.publish(ALERT, f"a{i}")
            if i % 5 == 4:
                await flushed()
        await flushed()
        assert stalled.closing.is_set()
        h.hub.detach(stalled)
        h.publish(ALERT, "last")
        await flushed()
        assert healthy.feed is not None
        return stalled, sink, len(healthy.feed.frames)

    stalled, sink, kept = run(main())
    assert stalled.close_code == TOO_SLOW
    assert texts(sink.frames()) == [f"a{i}" for i in range(40)] + ["last"]
    assert kept == 0


def test_every_subscriber_of_many_flush_slices_gets_every_frame_once() -> None:
    count = FLUSH_SLICE * 3 + 5

    async def main() -> list[Sink]:
        h = Hub()
        sinks = [h.subscriber(ALERT)[1] for _ in range(count)]
        for i in range(20):
            h.publish(ALERT, f"a{i}")
            await asyncio.sleep(0)
        await flushed()
        return sinks

    sinks = run(main())
    expected = [f"a{i}" for i in range(20)]
    assert all(texts(sink.frames()) == expected for sink in sinks)


def test_a_detached_subscriber_is_sent_nothing_more() -> None:
    async def main() -> Sink:
        h = Hub()
        subscriber, sink = h.subscriber(ALERT)
        h.publish(ALERT, "a1")
        await flushed()
        h.hub.detach(subscriber)
        h.publish(ALERT, "a2")
        await flushed()
        return sink

    assert texts(run(main()).frames()) == ["a1"]


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_000])
def test_text_frame_lengths(size: int) -> None:
    payload = b"x" * size
    frame = text_frame(payload)
    assert payloads(frame) == [payload]
    header = len(frame) - size
    assert header == (2 if size < 126 else 4 if size < 65_536 else 10)
