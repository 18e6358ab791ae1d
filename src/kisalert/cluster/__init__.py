"""Several kisalert servers as one, on Redis (scale.md): what each replica runs beside
the shared store — the relay that feeds its eventbus and messagebus from the shared
streams, the outbox that posts its messages there, and the log writer's lease."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Sequence

from redis.exceptions import RedisError

from kisalert.alertlog.log import AlertLog
from kisalert.bus import Bus
from kisalert.cluster.lease import LogLease
from kisalert.cluster.relay import Outbox, Relay
from kisalert.messages import Message, MessageBus
from kisalert.store import StoreError
from kisalert.store.redis import RedisStore, reason
from kisalert.store.redis_login import RedisLogin

# How long a clean stop waits for its last messages to reach Redis.
FLUSH_SECONDS = 2.0


def replica_name() -> str:
    """This server among the replicas: its host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Cluster:
    def __init__(
        self,
        store: RedisStore,
        bus: Bus,
        messagebus: MessageBus,
        log: AlertLog | None,
        login: RedisLogin,
    ) -> None:
        self.store = store
        self.login = login
        self._messagebus = messagebus
        self.relay = Relay(store, bus, messagebus)
        self.outbox = Outbox(store)
        self.lease = LogLease(store, log, bus, store.replica) if log is not None else None
        self._tasks: list[asyncio.Task[None]] = []

    async def connect(self) -> None:
        """Check that Redis answers, and start after what its streams hold now."""
        try:
            await self.store.ping()
            await self.login.refresh(self.store.redis)
            await self.relay.start_positions()
        except RedisError as exc:
            raise StoreError(f"cannot use Redis at {self.store.where}: {reason(exc)}") from None
        self._messagebus.outbox = self.outbox.put
        self.store.earlier = self.outbox

    async def messages(self) -> Sequence[Message]:
        """The messagebus as every replica sees it: from Redis, or while Redis is away,
        what the relay last delivered here."""
        found = await self.store.messages()
        return self._messagebus.all() if found is None else found

    def start(self) -> None:
        runs = [self.relay.run(), self.outbox.run(), self.login.watch(self.store.redis)]
        if self.lease is not None:
            runs.append(self.lease.run())
        self._tasks = [asyncio.create_task(run) for run in runs]

    async def stop(self) -> None:
        """After the log is closed: its last commits are recorded, the lease given up."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.outbox.drained(), FLUSH_SECONDS)
        for task in self._tasks:
            task.cancel()
        if self.lease is not None:
            await asyncio.sleep(0)  # the log's last settle callbacks
            await self.lease.release()
        await self.relay.close()
        await self.store.close()
        self.login.close()
