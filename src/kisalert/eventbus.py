"""The eventbus: live events for websocket subscribers.

Raising must not get slower as subscribers attach, so nothing here does work per
subscriber per event:

- An event becomes a complete websocket frame once. Subscribers that take the
  plain shape of a set of topics share one `Feed` of those frames and each keep
  only a cursor into it. Only a subscription with `fields` or `ekjson` gets frames
  of its own.
- Frames are not written as they are raised. A flush writes everything that piled
  up since the last one to every subscriber, one socket write each, and the bytes
  of a write are shared by all subscribers at the same point of a feed. Flushes
  are paced so that they take at most a tenth of the event loop (and come at least
  every `MAX_PERIOD`): at a few alerts a second each alert goes out at once, under
  a flood each write carries many.
- A subscriber that falls `limit` frames behind is cut off (close code 1013); a
  feed keeps only the frames its slowest member has not been sent yet.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from kisalert.bus import ALERT, ANY_TOPIC, MESSAGE, TIMESTAMP, Bus
from kisalert.clock import Clock
from kisalert.errors import Unavailable
from kisalert.fields import Simplifier
from kisalert.serializers import ek_keys
from kisalert.timestamps import to_micros

TOPICS = frozenset({ALERT, MESSAGE, TIMESTAMP})
FORMATS = frozenset({"json", "itjson", "ekjson"})
TOO_SLOW = 1013
POLICY = 1008

SHARE = 0.1  # of the event loop's time that flushing may take under load
MAX_PERIOD = 0.015  # seconds between flushes, at most, while frames are waiting
MAX_FRAMES_PER_WRITE = 256
FLUSH_SLICE = 64  # subscribers sent to between two turns of the event loop


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


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final websocket text frame (RFC 6455) around UTF-8 `payload`."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


@dataclass(frozen=True, slots=True)
class Shape:
    """How one subscription wants its events: fields and format."""

    simplify: Simplifier | None = None
    fmt: str = "json"

    @property
    def plain(self) -> bool:
        """The record as it is: the same frame as every other plain subscriber's."""
        return self.simplify is None and self.fmt != "ekjson"

    def frame(self, topic: str, event: Event) -> bytes:
        record = event.record if self.simplify is None else self.simplify(event.record)
        if self.fmt == "ekjson":
            record = ek_keys(record)
        return text_frame(orjson.dumps({topic: record}))


def plain_frame(topic: str, event: Event) -> bytes:
    """`{"TOPIC": record}` from the record's own JSON bytes, without re-encoding."""
    return text_frame(b'{"%s":%s}' % (topic.encode(), event.json))


class Sink(Protocol):
    """Where a subscriber's frames go: its connection."""

    def room(self) -> bool:
        """Whether the connection takes more now (its send buffer is not full)."""

    def write(self, data: bytes) -> None:
        """Send `data`, one or more whole frames."""

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the connection has room again."""


class Feed:
    """The frames of every subscriber that takes one set of topics in the plain shape.

    `frames[0]` is frame number `base`; each member's cursor is the number of the
    next frame it is to be sent.
    """

    __slots__ = ("base", "chunks", "frames", "members", "topics")

    def __init__(self, topics: frozenset[str]) -> None:
        self.topics = topics
        self.frames: list[bytes] = []
        self.base = 0
        self.members: set[Subscriber] = set()
        self.chunks: dict[int, tuple[int, bytes]] = {}  # this flush's writes, by start

    @property
    def end(self) -> int:
        return self.base + len(self.frames)

    def chunk(self, cursor: int) -> tuple[int, bytes]:
        """Frames from `cursor` on, as one write, and how many: shared by every member
        at the same cursor during one flush."""
        found = self.chunks.get(cursor)
        if found is None:
            start = cursor - self.base
            frames = self.frames[start : start + MAX_FRAMES_PER_WRITE]
            found = self.chunks[cursor] = (len(frames), b"".join(frames))
        return found

    def trim(self) -> None:
        """Forget the frames every member has been sent."""
        self.chunks.clear()
        low = min((member.cursor for member in self.members), default=self.end)
        del self.frames[: low - self.base]
        self.base = low


class Subscriber:
    """One websocket: its subscriptions and what it has yet to be sent."""

    def __init__(
        self, limit: int, still_valid: Callable[[], Awaitable[bool]] | None = None
    ) -> None:
        self.limit = limit
        self.still_valid = still_valid
        self.subscriptions: dict[str, Shape] = {}
        self.sink: Sink | None = None
        self.own: deque[bytes] = deque()  # frames made for it alone; sent before its feed's
        self.feed: Feed | None = None
        self.cursor = 0
        self.close_code: int | None = None  # set when the connection must be closed
        self.close_reason = ""  # one line, sent with the close code
        self.closing = asyncio.Event()

    def pending(self) -> int:
        """Frames waiting to be sent."""
        feed = self.feed
        return len(self.own) + (feed.end - self.cursor if feed is not None else 0)

    def plain_topics(self) -> frozenset[str] | None:
        """The topics of a subscriber whose every subscription is plain, else None."""
        shapes = self.subscriptions
        if not shapes or not all(shape.plain for shape in shapes.values()):
            return None
        return TOPICS if ANY_TOPIC in shapes else frozenset(shapes)

    def close(self, code: int, reason: str = "") -> None:
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
            self.own.clear()
            self.closing.set()


class EventHub:
    def __init__(self, bus: Bus, clock: Clock) -> None:
        self._bus = bus
        self._clock = clock
        self._subscribers: set[Subscriber] = set()
        self._feeds: dict[frozenset[str], Feed] = {}
        self._shaped: set[Subscriber] = set()  # subscribers that are not on a feed
        self._flush_handle: asyncio.Handle | None = None
        self._round: list[Subscriber] = []  # still to be sent to in this flush
        self._round_started = 0.0
        self._round_cost = 0.0
        self._last_flush = 0.0
        self._period = 0.0
        self.cut_offs = 0  # subscribers closed for falling behind (for /metrics)
        bus.subscribe(ANY_TOPIC, self._deliver)

    def attach(self, subscriber: Subscriber, sink: Sink) -> None:
        subscriber.sink = sink
        self._subscribers.add(subscriber)
        self._place(subscriber)

    def detach(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        self._shaped.discard(subscriber)
        if subscriber.feed is not None:
            subscriber.feed.members.discard(subscriber)
            subscriber.feed = None

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, subscriber: Subscriber, topic: str, shape: Shape) -> None:
        subscriber.subscriptions[topic] = shape
        self._place(subscriber)

    def unsubscribe(self, subscriber: Subscriber, topic: str) -> None:
        if subscriber.subscriptions.pop(topic, None) is not None:
            self._place(subscriber)

    def tell(self, subscriber: Subscriber, record: dict[str, Any]) -> None:
        """Send one subscriber a frame of its own, such as an answer to a frame it sent
        that made no sense. It waits in line, and counts against the limit, as events do."""
        if subscriber in self._subscribers and subscriber.close_code is None:
            subscriber.own.append(text_frame(orjson.dumps(record)))
            self._schedule()

    def _place(self, subscriber: Subscriber) -> None:
        """Put a subscriber on the feed its subscriptions call for, or on none."""
        if subscriber not in self._subscribers:
            return
        topics = subscriber.plain_topics()
        old = subscriber.feed
        if old is not None and old.topics == topics:
            return
        if old is not None:
            # What it was owed under the old subscriptions still comes first.
            subscriber.own.extend(old.frames[subscriber.cursor - old.base :])
            old.members.discard(subscriber)
            subscriber.feed = None
        if topics is None:
            self._shaped.add(subscriber)
            return
        self._shaped.discard(subscriber)
        feed = self._feeds.get(topics)
        if feed is None:
            feed = self._feeds[topics] = Feed(topics)
        feed.members.add(subscriber)
        subscriber.feed = feed
        subscriber.cursor = feed.end
        if subscriber.own:
            self._schedule()

    def _deliver(self, topic: str, event: Event) -> None:
        if not self._subscribers:
            return
        plain: bytes | None = None
        for feed in self._feeds.values():
            if topic in feed.topics and feed.members:
                if plain is None:
                    plain = plain_frame(topic, event)
                feed.frames.append(plain)
        for subscriber in self._shaped:
            shapes = subscriber.subscriptions
            shape = shapes.get(topic) or shapes.get(ANY_TOPIC)
            if shape is None or subscriber.close_code is not None:
                continue
            if shape.plain:
                if plain is None:
                    plain = plain_frame(topic, event)
                subscriber.own.append(plain)
            else:
                subscriber.own.append(shape.frame(topic, event))
        self._schedule()

    def _schedule(self) -> None:
        if self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # published outside the server's loop: nobody to send to
            return
        due = self._last_flush + self._period
        if due <= loop.time():
            self._flush_handle = loop.call_soon(self._flush)
        else:
            self._flush_handle = loop.call_at(due, self._flush)

    def _flush(self) -> None:
        """Send every subscriber what is waiting for it, as far as its connection takes:
        `FLUSH_SLICE` subscribers at a time, so that requests are served in between."""
        self._flush_handle = None
        loop = asyncio.get_running_loop()
        if not self._round:
            self._round = list(self._subscribers)
            self._round_started = loop.time()
            self._round_cost = 0.0
        started = time.perf_counter()
        batch = self._round[-FLUSH_SLICE:]
        del self._round[-FLUSH_SLICE:]
        for subscriber in batch:
            if subscriber in self._subscribers:
                self._send(subscriber)
        self._round_cost += time.perf_counter() - started
        if self._round:
            self._flush_handle = loop.call_soon(self._flush)
            return
        for feed in list(self._feeds.values()):
            if feed.members:
                feed.trim()
            else:
                del self._feeds[feed.topics]
        self._last_flush = self._round_started
        self._period = min(MAX_PERIOD, self._round_cost / SHARE)

    def _send(self, subscriber: Subscriber) -> None:
        pending = subscriber.pending()
        if not pending or subscriber.close_code is not None:
            return
        if pending > subscriber.limit:
            subscriber.close(TOO_SLOW, "too many frames waiting")
            self.cut_offs += 1
            return
        sink = subscriber.sink
        assert sink is not None
        own = subscriber.own
        while own and sink.room():
            count = min(len(own), MAX_FRAMES_PER_WRITE)
            sink.write(b"".join([own.popleft() for _ in range(count)]))
        feed = subscriber.feed
        if not own and feed is not None:
            while subscriber.cursor < feed.end and sink.room():
                count, data = feed.chunk(subscriber.cursor)
                sink.write(data)
                subscriber.cursor += count
        if subscriber.pending():
            sink.when_room(self._schedule)

    async def run(self) -> None:
        """Once a second: the TIMESTAMP event, and cut off subscribers whose key or
        session was revoked or has expired."""
        while True:
            await asyncio.sleep(1.0)
            self._bus.publish(TIMESTAMP, Tick(self._clock.now()))
            for subscriber in list(self._subscribers):
                if subscriber.still_valid is None:
                    continue
                try:
                    valid = await subscriber.still_valid()
                except Unavailable:
                    # The shared store is away and this login is not in the replica's
                    # memory: it cannot be checked now, so it is kept until it can.
                    continue
                if not valid:
                    subscriber.close(POLICY, "login revoked or expired")
