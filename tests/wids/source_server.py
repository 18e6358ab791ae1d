"""A real server with capture sources: its alerts and messages, and eventbus subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from tests.http.helpers import define_fast
from tests.server import PASSWORD, USER, Server, wait_for

# Alerts the server raises of itself (ROOTUSER when tests run as root, SOURCEERROR).
SYSTEM = ("ROOTUSER", "SOURCEERROR")


def messages(server: Server) -> list[str]:
    response = server.get("/messagebus/all_messages.json")
    response.raise_for_status()
    return [m["kismet.messagebus.message_string"] for m in response.json()]


def wait_for_message(server: Server, part: str, timeout: float = 20.0) -> str:
    """The first messagebus message that contains `part`."""
    found: str = wait_for(
        lambda: next((m for m in messages(server) if part in m), None), timeout, repr(part)
    )
    return found


def wait_for_alerts(server: Server, header: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The server's alerts with this header, once there is at least one."""
    found: list[dict[str, Any]] = wait_for(
        lambda: [a for a in server.alerts() if a["kismet.alert.header"] == header],
        timeout,
        f"a {header} alert",
    )
    return found


def detected(records: Sequence[dict[str, Any]]) -> list[tuple[str, ...]]:
    """What identifies each detector alert (the server's own left out), in order."""
    return [
        (
            r["kismet.alert.header"],
            r["kismet.alert.transmitter_mac"],
            r["kismet.alert.source_mac"],
            r["kismet.alert.dest_mac"],
            r["kismet.alert.other_mac"],
            r["kismet.alert.channel"],
            r["kismet.alert.text"],
        )
        for r in records
        if r["kismet.alert.header"] not in SYSTEM
    ]


class Subscriber:
    """An eventbus client subscribed to ALERT."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.alerts: list[dict[str, Any]] = []

    async def subscribe(self, server: Server, sync: str) -> None:
        """Subscribe to ALERT and wait until the subscription is in effect."""
        await self.ws.send(json.dumps({"SUBSCRIBE": "ALERT"}))
        # Subscriptions have no acknowledgement: one is in effect once an alert
        # raised after it arrives.
        define_fast(server, sync)
        for attempt in range(20):
            await asyncio.to_thread(server.raise_alert, sync, f"sync-{attempt}")
            if await self.until(lambda alerts: sync in headers(alerts), 1.0):
                return
        raise AssertionError("the eventbus subscription never took effect")

    async def until(
        self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0
    ) -> bool:
        """Read alerts until `done(alerts so far)` holds; False if `timeout` passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(self.alerts):
            left = deadline - loop.time()
            if left <= 0:
                return False
            try:
                frame = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                return False
            alert = json.loads(frame).get("ALERT")
            if alert is not None:
                self.alerts.append(alert)
        return True


def headers(alerts: Sequence[dict[str, Any]]) -> list[str]:
    return [a["kismet.alert.header"] for a in alerts]


@contextlib.asynccontextmanager
async def subscribed(server: Server, sync: str) -> AsyncIterator[Subscriber]:
    """An eventbus client logged in as the admin, its ALERT subscription in effect."""
    url = server.url.replace("http://", "ws://", 1)
    query = f"user={USER}&password={PASSWORD}"
    async with websockets.connect(f"{url}/eventbus/events.ws?{query}", open_timeout=10) as ws:
        subscriber = Subscriber(ws)
        await subscriber.subscribe(server, sync)
        yield subscriber
