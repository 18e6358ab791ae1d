"""One running kisalert: configuration, state, the tracker and everything around it.

Nothing here knows HTTP; `kisalert.http` translates requests into calls on this.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kisalert import __version__, messages
from kisalert.alertlog import LOG_NAME, AlertLog
from kisalert.apikeys import ApiKeys
from kisalert.auth import AdminLogin, FileLogin, LoginGuard, LoginKeeper, Principal
from kisalert.bus import MESSAGE, Bus
from kisalert.clock import Clock, SystemClock
from kisalert.config import Config, unknown_alerts
from kisalert.errors import Throttled, Unavailable
from kisalert.eventbus import EventHub
from kisalert.forward.cursor import CursorUnavailable
from kisalert.forward.forwarding import Forwarding
from kisalert.forward.silences import Silences
from kisalert.messages import Message, MessageBus
from kisalert.sessions import Sessions
from kisalert.store import MemoryStore
from kisalert.store.keyfile import KEYS_FILE, KeyFile
from kisalert.store.sessionfile import SESSIONS_FILE, SessionFile
from kisalert.store.silencefile import SILENCES_FILE, SilenceFile
from kisalert.timestamps import to_micros
from kisalert.tracker import AlertTracker, RaiseRequest
from kisalert.wids.source import Sources

if TYPE_CHECKING:
    # Not a circle: these load redis-py, which only a server on Redis needs (below).
    from kisalert.cluster import Cluster
    from kisalert.store.redis import RedisStore

PRUNE_EVERY = 60.0
# Seconds between saves of the silences' hit counts (and, on Redis, between looks
# for silences other replicas made).
SILENCE_UPKEEP_EVERY = 1.0
CURSOR_RETRY = 0.5  # seconds between tries to read the outputs' positions from Redis


class Service:
    def __init__(
        self,
        config: Config,
        data_dir: Path,
        clock: Clock | None = None,
        use_log: bool = True,
    ) -> None:
        self.config = config
        self.data_dir = data_dir
        self.clock: Clock = clock or SystemClock()
        self.bus = Bus()
        self.messagebus = MessageBus(self.bus, self.clock)
        self.log = (
            AlertLog(data_dir / LOG_NAME, sync=config.log_sync, commit_ms=config.log_commit_ms)
            if use_log
            else None
        )
        self.store: MemoryStore | RedisStore
        self.cluster: Cluster | None = None
        keeper: LoginKeeper
        if config.store == "memory":
            keeper = FileLogin(data_dir)
            self.store = MemoryStore(
                self.clock,
                config.backlog,
                self.log.first_free if self.log else None,
                KeyFile(data_dir / KEYS_FILE),
                session_file=SessionFile(data_dir / SESSIONS_FILE),
                silence_file=SilenceFile(data_dir / SILENCES_FILE),
            )
        else:
            # redis-py costs 0.2 s of start-up: only a server on Redis loads it.
            from kisalert.cluster import Cluster, replica_name
            from kisalert.store.redis import RedisStore
            from kisalert.store.redis_login import RedisLogin

            self.store = RedisStore(config.store, self.clock, config.backlog, replica_name())
            keeper = redis_login = RedisLogin(config.store)
            self.cluster = Cluster(self.store, self.bus, self.messagebus, self.log, redis_login)
        self.tracker = AlertTracker(
            self.store,
            self.bus,
            self.messagebus,
            self.clock,
            config.rates,
            config.location,
            # With several replicas, the lease holder writes the log (cluster.py).
            self.log if self.cluster is None else None,
            relayed=self.cluster is not None,
        )
        configured = (
            (config.username, config.password)
            if config.username is not None and config.password is not None
            else None
        )
        self.login = AdminLogin(self.clock, keeper, configured)
        self.sessions = Sessions(self.store, self.clock, config.session_timeout, self.login)
        self.login_guard = LoginGuard(self.clock)
        self.api_keys = ApiKeys(self.store, self.clock, config.allow_auth_view)
        self.events = EventHub(self.bus, self.clock)
        self.sources = Sources(config, self.tracker, self.messagebus)
        self.silences = Silences(config.silences)
        self.forwarding = Forwarding(config.forward, data_dir, self.messagebus, self.silences)
        self._tasks: list[asyncio.Task[None]] = []
        self._forward_lock = asyncio.Lock()
        self._stopping = False
        self._silences_changed = asyncio.Event()
        if self.cluster is not None:
            self.cluster.relay.on_silences = self._silences_changed.set

    async def start(self) -> None:
        """Open the log, register definitions, recover state, raise start-up alerts.

        Raises LogError when the log cannot be opened.
        """
        if self.cluster is not None:
            await self.cluster.connect()  # StoreError here: one line, exit status 1
        await self.tracker.register_builtins()
        stored, hits = await self.store.silences()
        self.silences.load(stored, hits, self.clock.now())
        await self.tidy_silences()
        self._tasks.append(asyncio.create_task(self._silence_upkeep()))
        self._tasks.append(asyncio.create_task(self.events.run()))
        if self.cluster is not None:
            if self.log is not None:
                self.log.open()
            self.cluster.start()
        elif self.log is not None:
            self.log.open()
            await self._recover(self.log)
            self.bus.subscribe(MESSAGE, lambda _topic, message: self._log_message(message))
            if self.config.log_alert_timeout > 0:
                self._tasks.append(asyncio.create_task(self._prune(self.log)))
            # Before anything is raised: an output new to the data directory starts
            # at the end of the log as it is now.
            await self.forwarding.start_from_log(self.log)
        elif self.cluster is None:
            self.forwarding.start_from_bus(self.bus)
        if self.cluster is not None and self.config.forward:
            if self.cluster.lease is not None:
                # The replica that writes the log forwards from it, resuming at the
                # cursors in Redis; the lease moves, and forwarding with it.
                self.cluster.lease.outputs = tuple(spec.name for spec in self.config.forward)
                self.cluster.lease.on_change = self._lease_changed
            else:
                self.messagebus.post(
                    "Config: forward= with store=redis needs the alert log (not --memory);"
                    " no alerts are forwarded",
                    messages.ERROR,
                )
        for warning in self.config.warnings:
            self.messagebus.post(f"Config: {warning}", messages.ERROR)
        # Known only now that the definitions made over the API are recovered, so
        # these are not among config.warnings, which the command line has printed.
        defined = [definition.name for definition in await self.store.definitions()]
        for warning in unknown_alerts(self.config, defined):
            print(f"kisalert: warning: {warning}", file=sys.stderr, flush=True)
            self.messagebus.post(f"Config: {warning}", messages.ERROR)
        self.messagebus.post(f"kisalert {__version__} starting", messages.INFO)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Through its definition, so a config line can turn it off.
            with contextlib.suppress(Throttled):
                await self.tracker.raise_alert(
                    RaiseRequest(
                        "ROOTUSER",
                        "kisalert is running as root; an alert server needs no privileges, "
                        "run it as an unprivileged user",
                    )
                )
        for header, text in self.config.load_alerts:
            await self.tracker.raise_oneshot(header, text)
        await self.sources.start()

    async def messages(self) -> Sequence[Message]:
        """The messagebus, oldest first (with several replicas, the shared one)."""
        if self.cluster is not None:
            return await self.cluster.messages()
        return self.messagebus.all()

    def store_away(self) -> str | None:
        """Why the shared store cannot take changes now (one line), or None."""
        return self.cluster.store.away() if self.cluster is not None else None

    async def principal_for_token(self, token: str) -> Principal | None:
        """The login behind a session token or an API key, if it is live."""
        return await self.sessions.get(token) or await self.api_keys.lookup(token)

    def _log_message(self, message: Message) -> None:
        if self.log is not None:
            self.log.message(message)

    async def _recover(self, log: AlertLog) -> None:
        """Definitions made over the API, the backlog and the throttle windows."""
        for definition in log.definitions():
            # A config line for the name wins, as it does when the name is defined;
            # the log keeps the definition as made, so removing the line undoes it.
            configured = self.config.rates.get(definition.name)
            if configured is not None:
                definition = dataclasses.replace(definition, limits=configured)
            await self.store.add_definition(definition)
        await self.store.restore(log.recent(self.config.backlog), log.newest_us())
        now_us = to_micros(self.clock.now())
        for definition in await self.store.definitions():
            limits = definition.limits
            # The longer of the two windows, and at most as many sends as it allows.
            span_us = max(limits.limit.unit.seconds, limits.burst.unit.seconds) * 1_000_000
            keep = max(limits.limit.count, limits.burst.count)
            stamps = log.sent_times(definition.name, now_us - span_us, keep) if keep else []
            last_us = log.last_sent(definition.name)
            if stamps or last_us:
                await self.store.restore_sends(definition.name, stamps, last_us)

    async def _prune(self, log: AlertLog) -> None:
        timeout = self.config.log_alert_timeout
        while True:
            log.prune(to_micros(self.clock.now() - timeout))
            await asyncio.sleep(min(PRUNE_EVERY, timeout))

    def _lease_changed(self, holding: bool) -> None:
        self._tasks.append(asyncio.create_task(self._forward_on_lease(holding)))

    async def _forward_on_lease(self, holding: bool) -> None:
        # In the order the lease changed: the lock is first come, first served.
        async with self._forward_lock:
            if self._stopping or self.log is None or isinstance(self.store, MemoryStore):
                return
            if holding and not self.forwarding.running:
                lease = self.cluster.lease if self.cluster is not None else None
                while True:
                    try:
                        await self.forwarding.start_from_log(self.log, self.store.cursors)
                        break
                    except CursorUnavailable:
                        # Redis answers the lease again before this replica's store
                        # takes it back: wait for the outputs' positions rather than
                        # skip what they have not sent.
                        await asyncio.sleep(CURSOR_RETRY)
                        if self._stopping or lease is None or not lease.holding:
                            return
            elif not holding:
                await self.forwarding.stop()

    async def _silence_upkeep(self) -> None:
        while True:
            # Each second, or at once when another replica changed a silence.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._silences_changed.wait(), SILENCE_UPKEEP_EVERY)
            self._silences_changed.clear()
            await self.save_silence_hits()
            if self.cluster is not None:
                # Silences made or expired on other replicas.
                with contextlib.suppress(Unavailable):
                    stored, hits = await self.store.silences()
                    self.silences.load(stored, hits, self.clock.now())
            await self.tidy_silences()

    async def tidy_silences(self) -> None:
        """Forget, here and in the store, the expired silences listed long enough."""
        gone = self.silences.forget(self.clock.now())
        if gone:
            # Redis away: the next load brings them back, and they go again.
            with contextlib.suppress(Unavailable):
                await self.store.forget_silences(gone)

    async def save_silence_hits(self) -> None:
        if not self.silences.dirty:
            return
        self.silences.dirty = False
        try:
            await self.store.put_silence_hits(self.silences.hits())
        except Unavailable:  # Redis away: kept at the next save
            self.silences.dirty = True

    async def stop(self) -> None:
        self._stopping = True
        # First, while the log is open: what a source found before the stop is kept.
        await self.sources.stop()
        for task in self._tasks:
            task.cancel()
        self.messagebus.post("kisalert shutting down", messages.INFO)
        # While the log is open: the runners read it. What they have not sent yet is
        # after their cursors, and goes at the next start.
        async with self._forward_lock:
            await self.forwarding.stop()
        with contextlib.suppress(Unavailable):
            await self.save_silence_hits()
        if isinstance(self.store, MemoryStore):
            await self.store.flush()
        if self.log is not None:
            await self.log.close()
        if self.cluster is not None:
            await self.cluster.stop()
