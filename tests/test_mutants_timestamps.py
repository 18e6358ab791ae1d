"""Alert stamps on a clock that starts at the epoch, as a replayed capture from a
device with no real-time clock does: each alert carries its own time while time moves."""

from __future__ import annotations

import asyncio

from kisalert.alert import AlertDraft
from kisalert.clock import ManualClock
from kisalert.store import MemoryStore


def test_an_alert_raised_a_microsecond_after_the_epoch_is_stamped_then() -> None:
    clock = ManualClock(0.000001)
    store = MemoryStore(clock, 10)
    draft = AlertDraft("DEAUTHFLOOD", "DENIAL", 15, 0, "many deauths")

    async def raise_two() -> list[float]:
        first = await store.append(draft)
        clock.set(0.000003)
        second = await store.append(draft)
        return [first.record["kismet.alert.timestamp"], second.record["kismet.alert.timestamp"]]

    assert asyncio.run(raise_two()) == [0.000001, 0.000003]
