"""One running kisalert: configuration, state, the tracker and everything around it.

Nothing here knows HTTP; `kisalert.http` translates requests into calls on this.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from kisalert import __version__, messages
from kisalert.auth import AdminLogin, LoginGuard, Sessions
from kisalert.bus import Bus
from kisalert.clock import Clock, SystemClock
from kisalert.config import Config
from kisalert.errors import Throttled
from kisalert.messages import MessageBus
from kisalert.store import MemoryStore
from kisalert.tracker import AlertTracker, RaiseRequest


class Service:
    def __init__(self, config: Config, data_dir: Path, clock: Clock | None = None) -> None:
        self.config = config
        self.data_dir = data_dir
        self.clock: Clock = clock or SystemClock()
        self.bus = Bus()
        self.messagebus = MessageBus(self.bus, self.clock)
        self.store = MemoryStore(self.clock, config.backlog)
        self.tracker = AlertTracker(
            self.store, self.bus, self.messagebus, self.clock, config.rates, config.location
        )
        configured = (
            (config.username, config.password)
            if config.username is not None and config.password is not None
            else None
        )
        self.login = AdminLogin(self.clock, data_dir, configured)
        self.sessions = Sessions(self.clock, config.session_timeout)
        self.login_guard = LoginGuard(self.clock)

    async def start(self) -> None:
        await self.tracker.register_builtins()
        for warning in self.config.warnings:
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

    async def stop(self) -> None:
        self.messagebus.post("kisalert shutting down", messages.INFO)
