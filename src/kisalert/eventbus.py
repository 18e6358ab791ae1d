"""The eventbus: live events for websocket subscribers.

Fans every bus event out to the subscribers of its topic. Each subscriber has a
bounded queue of ready-made frames; one that falls too far behind is cut off
rather than slowing raises or other subscribers. A frame's JSON is built once per
event for every subscriber that takes the plain shape.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from kisalert.bus import ALERT, ANY_TOPIC, MESSAGE, TIMESTAMP, Bus
from kisalert.clock import Clock
from kisalert.fields import Simplifier
from kisalert.serializers import ek_keys
from kisalert.timestamps import to_micros

TOPICS = frozenset({ALERT, MESSAGE, TIMESTAMP})
FORMATS = frozenset({"json", "itjson", "ekjson"})
TOO_SLOW = 1013
POLICY = 1008


class Event(Protocol):
    record: dict[str, Any]
    json: bytes


class Tick:
    """The server's clock, sent once a second on the TIMESTAMP topic."""

    __slots__ = ("json", "record")

    def __init__(self, now: float) -> None:
        micros = to_micros(now)
        self.record = {
            "kismet.system.timestamp.sec": micros // 1_000_000,
            "kismet.system.timestamp.usec": micros % 1_000_000,
        }
        self.json = orjson.dumps(self.record)


@dataclass(frozen=True, slots=True)
class Shape:
    """How one subscription wants its events: fields and format."""

    simplify: Simplifier | None = None
    fmt: str = "json"

    @property
    def plain(self) -> bool:
        return self.simplify is None and self.fmt != "ekjson"

    def frame(self, topic: str, event: Event) -> bytes:
        record = event.record if self.simplify is None else self.simplify(event.record)
        if self.fmt == "ekjson":
            record = ek_keys(record)
        return orjson.dumps({topic: record})


def plain_frame(topic: str, event: Event) -> bytes:
    """`{"TOPIC": record}` from the record's own JSON bytes, without re-encoding."""
    return b'{"%s":%s}' % (topic.encode(), event.json)


class Subscriber:
    """One websocket's subscriptions and its queue of frames to send."""

    def __init__(self, limit: int, still_valid: Callable[[], bool] | None = None) -> None:
        self.limit = limit
        self.subscriptions: dict[str, Shape] = {}
        self.frames: deque[bytes] = deque()  # UTF-8 JSON, one text frame each
        self.ready = asyncio.Event()
        self.close_code: int | None = None  # set when the connection must be closed
        self.closing = asyncio.Event()
        self.still_valid = still_valid

    def offer(self, frame: bytes) -> None:
        if self.close_code is not None:
            return
        if len(self.frames) >= self.limit:
            self.close(TOO_SLOW)
            return
        self.frames.append(frame)
        self.ready.set()

    def close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            self.frames.clear()
            self.ready.set()
            self.closing.set()


class EventHub:
    def __init__(self, bus: Bus, clock: Clock) -> None:
        self._bus = bus
        self._clock = clock
        self._subscribers: set[Subscriber] = set()
        bus.subscribe(ANY_TOPIC, self._deliver)

    def attach(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def detach(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def __len__(self) -> int:
        return len(self._subscribers)

    def _deliver(self, topic: str, event: Event) -> None:
        plain: bytes | None = None
        for subscriber in self._subscribers:
            shapes = subscriber.subscriptions
            shape = shapes.get(topic) or shapes.get(ANY_TOPIC)
            if shape is None:
                continue
            if shape.plain:
                if plain is None:
                    plain = plain_frame(topic, event)
                subscriber.offer(plain)
            else:
                subscriber.offer(shape.frame(topic, event))

    async def run(self) -> None:
        """Once a second: the TIMESTAMP event, and cut off subscribers whose key or
        session was revoked or has expired."""
        while True:
            await asyncio.sleep(1.0)
            self._bus.publish(TIMESTAMP, Tick(self._clock.now()))
            for subscriber in list(self._subscribers):
                if subscriber.still_valid is not None and not subscriber.still_valid():
                    subscriber.close(POLICY)
