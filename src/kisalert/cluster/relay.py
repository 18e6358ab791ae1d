"""Each replica's view of what every replica raised and posted.

The relay tails the shared alert and message streams (`XREAD BLOCK`) and hands each
entry, in stream order, to this replica's bus: its eventbus subscribers then see the
alerts of the whole cluster in stamp order, whichever replica raised them. An
alert's message comes in the alert's own entry (its raise writes that one stream, so
each relay wakes once a raise); the message stream holds only the other messages.
An alert's message and another posted at the same moment may so reach two relays in
either order: reads of the messagebus come from the `msglog` stream, one order for
all, and only the eventbus and the list served while Redis is away follow the
relay's. It also
keeps the store's mirror: the newest backlog's worth of alerts, which the store
serves while Redis is away.

It is the one reader that is always waiting on Redis, so it is the one that says
whether Redis is there: when a read fails it tells the store (`RedisStore.lost`),
which then refuses changes at once and answers reads from the mirror; it retries with
a backoff, and the first read that succeeds tells the store again (`found`). It
resumes after the last entry it delivered, so a subscriber misses nothing the stream
still holds and gets nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import traceback
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from kisalert import messages
from kisalert.alert import Alert
from kisalert.bus import ALERT, Bus
from kisalert.messages import Message, MessageBus
from kisalert.store.redis import (
    COMMAND_TIMEOUT,
    CONNECT_TIMEOUT,
    RedisStore,
    client,
    message_fields,
    message_from,
    redis_key,
)
from kisalert.store.resp import Connection

ALERTS = redis_key("alerts")
# A replica that changes a silence adds an entry here: the one that forwards reloads
# the silences at once, not at its next once-a-second look.
SILENCES = redis_key("silences:changed")
BLOCK_MS = 1000
BATCH = 1000
RETRY_MAX = 1.0


class Relay:
    def __init__(
        self,
        store: RedisStore,
        bus: Bus,
        messagebus: MessageBus,
        on_state: Callable[[str | None], None] = lambda _failure: None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._messagebus = messagebus
        # Its own connection: a blocking read holds one for up to BLOCK_MS, and an
        # answer that much later than the store's commands' means Redis is away.
        self._redis: Any = client(store.url, BLOCK_MS / 1000 + COMMAND_TIMEOUT)
        # The tail itself on a lean connection (store/resp.py): redis-py makes a dict
        # and a tuple per entry through several layers, on every replica, for every
        # alert and message.
        self._tail = Connection(self._redis, CONNECT_TIMEOUT, BLOCK_MS / 1000 + COMMAND_TIMEOUT)
        self._positions: dict[str, bytes] = {}
        self._on_state = on_state
        self.on_silences: Callable[[], None] = lambda: None
        self.failure: str | None = None

    async def start_positions(self) -> None:
        """Start after what the streams hold now, and load the messages kept so far.
        Raises RedisError when Redis cannot be reached."""
        # One snapshot: an alert or message added meanwhile comes once, from `run`.
        size = self._store.backlog_size
        pipe = self._redis.pipeline(transaction=True)
        pipe.xrange(redis_key("msglog"), "-", "+")
        pipe.xrevrange(redis_key("messages"), "+", "-", count=1)
        pipe.xrevrange(redis_key("alerts"), "+", "-", count=max(size, 1))
        pipe.xrevrange(SILENCES, "+", "-", count=1)
        kept, newest_message, recent, newest_silence = await pipe.execute()
        for _entry, fields in kept:
            self._messagebus.deliver(message_from(fields), publish=False)
        # First: XREAD answers the streams in this order, so a silence made before an
        # alert is taken before it.
        self._positions[SILENCES] = newest_silence[0][0] if newest_silence else b"0-0"
        self._positions[redis_key("messages")] = newest_message[0][0] if newest_message else b"0-0"
        self._positions[redis_key("alerts")] = recent[0][0] if recent else b"0-0"
        for entry_id, fields in reversed(recent[:size]):
            self._store.mirror.add(self._store.parse(entry_id, fields))

    async def run(self) -> None:
        delay = 0.05
        while True:
            # Once Redis failed, the first read does not block: it answers at once
            # whether Redis is back, so changes are taken again without waiting.
            block = BLOCK_MS if self.failure is None else None
            try:
                found = await self._read(block)
            except RedisError as exc:
                await self._set_failure(f"Redis at {self._store.where} is unreachable: {exc}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            delay = 0.05
            await self._set_failure(None)
            for stream, entries in found or ():
                name = stream.decode()
                for entry_id, pairs in entries:
                    self._positions[name] = entry_id
                    try:
                        self._deliver(name, entry_id, pairs)
                    except Exception:  # one bad entry must not stop the replica's feed
                        print(
                            f"kisalert: relay: entry {entry_id.decode()} of {name} skipped:",
                            file=sys.stderr,
                        )
                        traceback.print_exc()

    def _deliver(self, stream: str, entry_id: bytes, pairs: list[bytes]) -> None:
        if stream == SILENCES:
            self.on_silences()
            return
        fields = dict(zip(pairs[::2], pairs[1::2], strict=True))
        if stream == ALERTS:
            alert: Alert = self._store.parse(entry_id, fields)
            self._store.mirror.add(alert)
            self._bus.publish(ALERT, alert)
            text = alert.record["kismet.alert.text"]
            # An entry without its message's time comes from an older release
            # (scale.md: one release across replicas): the alert's own second.
            at = int(fields.get(b"s", alert.timestamp_us // 1_000_000))
            self._messagebus.deliver(Message(f"{alert.header} {text}", messages.ALERT, at))
        else:
            self._messagebus.deliver(message_from(fields))

    async def _read(self, block: int | None) -> Any:
        """XREAD after the positions: [[stream, [[entry id, [field, value, …]], …]], …]
        or None when nothing came within `block` ms."""
        names = list(self._positions)
        head: tuple[Any, ...] = ("XREAD", "COUNT", BATCH)
        if block is not None:
            head += ("BLOCK", block)
        return await self._tail.call(
            *head, "STREAMS", *names, *(self._positions[name] for name in names)
        )

    async def _set_failure(self, failure: str | None) -> None:
        if failure is None:
            # Also ends a timeout the store had, even when the relay saw none.
            self._store.found()
        if failure == self.failure:
            return
        self.failure = failure
        if failure is not None:
            await self._store.lost(failure)
        self._on_state(failure)

    async def close(self) -> None:
        self._tail.close()
        with contextlib.suppress(RedisError):
            await self._redis.aclose()


class Outbox:
    """This replica's messages, posted to the shared stream in the order they were
    made; the relay delivers them back, to every replica alike."""

    def __init__(self, store: RedisStore, keep: int = messages.KEEP) -> None:
        self._store = store
        self._keep = keep
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=10_000)
        self.unsent = 0  # put and not yet in Redis: a raise waits for them only then
        self.dropped = 0

    def put(self, message: Message) -> None:
        try:
            self._queue.put_nowait(message)
            self.unsent += 1
        except asyncio.QueueFull:
            # Redis has been away for 10 000 messages: the oldest news is the least
            # useful, and memory must stay bounded.
            self.dropped += 1

    async def drained(self) -> None:
        await self._queue.join()

    async def run(self) -> None:
        redis = self._store.redis
        while True:
            message = await self._queue.get()
            delay = 0.05
            while True:
                try:
                    fields = message_fields(message)
                    pipe = redis.pipeline(transaction=True)
                    # The history, and the stream the relays tail.
                    pipe.xadd(redis_key("msglog"), fields, maxlen=self._keep, approximate=False)
                    pipe.xadd(redis_key("messages"), fields, maxlen=self._keep, approximate=False)
                    await pipe.execute()
                    break
                except RedisError:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
            self.unsent -= 1
            self._queue.task_done()
