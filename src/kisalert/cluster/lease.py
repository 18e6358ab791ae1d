"""The `.kismet` log with several replicas: one writer at a time.

The replica holding the lease (a Redis key set with NX and a TTL, renewed while it
lives) copies the shared alert stream into its own log, in stream order. It records
the stamp of the newest alert its log has committed in `log:pos`; a replica that
takes the lease over starts after the larger of that and the newest alert its own
log already holds, so an alert is written once. If the holder dies, its lease
expires within `ttl` and another replica continues where it stopped.

The outputs of `forward=` forward from the holder's log. So a new holder starts its
log earlier when an output's cursor (in Redis) is older: it copies what the outputs
have not sent yet from the shared stream, even though the last holder's log has it
too, as far back as the stream (`alertbacklog`) reaches.

A holder can be killed after its log committed a batch and before it recorded
`log:pos`. So the holder also names its log (`log:file`: host and path); a new holder
on the same host reads where that log really ends and starts after it, which makes
each alert written exactly once across the replicas of one host. On another host that
file cannot be read: that one batch is written again there (docs/scale.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from pathlib import Path

from redis.exceptions import RedisError

from kisalert.alert import Alert
from kisalert.alertlog.log import AlertLog
from kisalert.alertlog.transfer import newest_alert_us
from kisalert.bus import ALERT, MESSAGE, Bus
from kisalert.messages import Message
from kisalert.store.redis import RedisStore, redis_key

TTL_MS = 3000
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""
_ADVANCE = """
local pos = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > pos then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""
CATCH_UP = 1000


class LogLease:
    def __init__(
        self,
        store: RedisStore,
        log: AlertLog,
        bus: Bus,
        replica: str,
        ttl_ms: int = TTL_MS,
        on_change: Callable[[bool], None] = lambda _holding: None,
    ) -> None:
        self._store = store
        self._log = log
        self._replica = replica
        self._ttl_ms = ttl_ms
        self._renew = store.redis.register_script(_RENEW)
        self._advance = store.redis.register_script(_ADVANCE)
        self.on_change = on_change  # told when this replica gains or loses the lease
        # The forward= outputs: a new holder's log takes back what they have not sent.
        self.outputs: tuple[str, ...] = ()
        self.holding = False
        self._file_name = f"{socket.gethostname()}\0{log.path}".encode()
        self._appended_us = 0  # the newest alert handed to the log
        self._catching_up = False
        self._held_back: list[Alert] = []
        self._committed_us = 0  # the newest alert the log has committed
        self._recorded_us = 0  # ... and that log:pos says it has
        self._commits = asyncio.Event()
        log.settled = self._settled
        bus.subscribe(ALERT, lambda _topic, alert: self._relayed(alert))
        # Server messages too, from every replica, once: by the holder.
        bus.subscribe(MESSAGE, lambda _topic, message: self._message(message))

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._hold()), asyncio.create_task(self._record())]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    async def _hold(self) -> None:
        lease = redis_key("log:lease")
        while True:
            try:
                held = bool(await self._renew(keys=[lease], args=[self._replica, self._ttl_ms]))
            except RedisError:
                held = False
            if held and not self.holding:
                await self._take_over()
            elif not held and self.holding:
                # Another replica may hold it soon: stop writing now.
                self.holding = False
                self.on_change(False)
            await asyncio.sleep(self._ttl_ms / 3000)

    async def _take_over(self) -> None:
        redis = self._store.redis
        try:
            pos = int(await redis.get(redis_key("log:pos")) or 0)
            previous = await redis.get(redis_key("log:file"))
            await redis.set(redis_key("log:file"), self._file_name)
            sent = (
                await redis.hmget(redis_key("forward:cursors"), list(self.outputs))
                if self.outputs
                else []
            )
        except RedisError:
            return
        own = self._log.newest_us()
        pos = max(pos, own)
        if previous is not None and previous != self._file_name:
            host, _, path = previous.decode(errors="replace").partition("\0")
            if host == socket.gethostname():
                # Where the last holder's log really ends, commits it made after its
                # last record of log:pos included. Read in a thread: SQLite.
                newest = await asyncio.to_thread(newest_alert_us, Path(path))
                pos = max(pos, newest or 0)
        cursors = [int(stamp) for stamp in sent if stamp is not None]
        if cursors and min(cursors) < pos:
            # The outputs forward from this replica's log from now on: it takes back,
            # from the shared stream, what one of them has not sent yet, though the
            # last holder's log has it too. Never what this log already holds.
            pos = max(min(cursors), own)
        self._appended_us = pos
        self.holding = True
        self._catching_up = True
        self.on_change(True)
        try:
            while True:
                start = f"({self._appended_us // 1000}-{self._appended_us % 1000}"
                entries = await redis.xrange(redis_key("alerts"), start, "+", count=CATCH_UP)
                for entry_id, fields in entries:
                    self._append(self._store.parse(entry_id, fields))
                if len(entries) < CATCH_UP:
                    break
        except RedisError:
            self.holding = False
            self.on_change(False)
        finally:
            self._catching_up = False
            held_back, self._held_back = self._held_back, []
            if self.holding:
                for alert in held_back:
                    self._append(alert)

    def _message(self, message: Message) -> None:
        if self.holding:
            self._log.message(message)

    def _relayed(self, alert: Alert) -> None:
        if not self.holding:
            return
        if self._catching_up:
            self._held_back.append(alert)
        else:
            self._append(alert)

    def _append(self, alert: Alert) -> None:
        if alert.timestamp_us > self._appended_us:
            self._appended_us = alert.timestamp_us
            self._log.append(alert)

    def _settled(self, alerts: list[Alert], failure: str | None) -> None:
        if failure is None and alerts:
            self._committed_us = max(self._committed_us, alerts[-1].timestamp_us)
            self._commits.set()

    async def _record(self) -> None:
        while True:
            await self._commits.wait()
            self._commits.clear()
            try:
                await self._write_position()
            except RedisError:
                await asyncio.sleep(0.2)
                self._commits.set()

    async def _write_position(self) -> None:
        pos = self._committed_us
        if pos > self._recorded_us:
            await self._advance(keys=[redis_key("log:pos")], args=[pos])
            self._recorded_us = pos

    async def release(self) -> None:
        """Give the lease up at a clean stop, once the log has committed everything."""
        if self.holding:
            self.holding = False
            with contextlib.suppress(RedisError):
                await self._write_position()
                lease = redis_key("log:lease")
                if await self._store.redis.get(lease) == self._replica.encode():
                    await self._store.redis.delete(lease)
