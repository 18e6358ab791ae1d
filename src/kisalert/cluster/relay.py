"""Each replica's view of what every replica raised and posted.

The relay tails the shared alert and message streams (`XREAD BLOCK`) and hands each
entry, in stream order, to this replica's bus: its eventbus subscribers then see the
alerts of the whole cluster in stamp order, whichever replica raised them. When Redis
goes away it retries with a backoff and resumes after the last entry it delivered, so
a subscriber misses nothing that the stream still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from kisalert import messages
from kisalert.alert import Alert
from kisalert.bus import ALERT, Bus
from kisalert.messages import Message, MessageBus
from kisalert.store.redis import RedisStore, redis_key

BLOCK_MS = 1000
BATCH = 1000
RETRY_MAX = 2.0


def message_fields(message: Message) -> dict[bytes, bytes | int]:
    return {b"t": message.text.encode(), b"f": message.flags, b"s": message.time}


def message_from(fields: dict[bytes, bytes]) -> Message:
    return Message(fields[b"t"].decode(), int(fields[b"f"]), int(fields[b"s"]))


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
        # Its own connection: a blocking read holds one for up to BLOCK_MS.
        self._redis: Any = aioredis.Redis.from_url(
            store.url, socket_connect_timeout=2, socket_timeout=BLOCK_MS / 1000 + 5
        )
        self._positions: dict[str, bytes] = {}
        self._on_state = on_state
        self.failure: str | None = None

    async def start_positions(self) -> None:
        """Start after what the streams hold now, and load the messages kept so far.
        Raises RedisError when Redis cannot be reached."""
        for stream in ("alerts", "messages"):
            newest = await self._redis.xrevrange(redis_key(stream), "+", "-", count=1)
            self._positions[redis_key(stream)] = newest[0][0] if newest else b"0-0"
        for _entry, fields in await self._redis.xrange(redis_key("messages"), "-", "+"):
            self._messagebus.deliver(message_from(fields), publish=False)

    async def run(self) -> None:
        delay = 0.05
        while True:
            try:
                found = await self._redis.xread(self._positions, count=BATCH, block=BLOCK_MS)
            except RedisError as exc:
                self._set_failure(f"Redis at {self._store.where} is unreachable: {exc}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            delay = 0.05
            self._set_failure(None)
            for stream, entries in found or ():
                name = stream.decode() if isinstance(stream, bytes) else stream
                for entry_id, fields in entries:
                    self._positions[name] = entry_id
                    if name == redis_key("alerts"):
                        alert: Alert = self._store.parse(entry_id, fields)
                        self._bus.publish(ALERT, alert)
                    else:
                        self._messagebus.deliver(message_from(fields))

    def _set_failure(self, failure: str | None) -> None:
        if failure != self.failure:
            self.failure = failure
            self._on_state(failure)

    async def close(self) -> None:
        with contextlib.suppress(RedisError):
            await self._redis.aclose()


class Outbox:
    """This replica's messages, posted to the shared stream in the order they were
    made; the relay delivers them back, to every replica alike."""

    def __init__(self, store: RedisStore, keep: int = messages.KEEP) -> None:
        self._store = store
        self._keep = keep
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=10_000)
        self.dropped = 0

    def put(self, message: Message) -> None:
        try:
            self._queue.put_nowait(message)
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
                    await redis.xadd(
                        redis_key("messages"), message_fields(message), maxlen=self._keep,
                        approximate=False,
                    )  # fmt: skip
                    break
                except RedisError:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
            self._queue.task_done()
