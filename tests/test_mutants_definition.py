"""A definition record's counters (/alerts/definitions.json): what its windows hold now."""

from __future__ import annotations

from typing import Any

from kisalert.timestamps import to_micros
from tests.test_tracker import START, World, make_world, run_async


async def record_of(world: World, name: str, at: float) -> dict[str, Any]:
    records = await world.store.definition_records(to_micros(at))
    return next(r for r in records if r["kismet.alert.definition.header"] == name)


@run_async
async def test_burst_sent_counts_the_sends_in_the_burst_window_now() -> None:
    world = await make_world()
    await world.tracker.define("BURSTY", "d", throttle="10/min", burst="5/sec")
    for step in range(3):
        world.clock.set(START + step * 0.25)
        await world.raise_("BURSTY")
    record = await record_of(world, "BURSTY", START + 0.75)
    assert record["kismet.alert.definition.burst_sent"] == 3
    assert record["kismet.alert.definition.total_sent"] == 3
    assert record["kismet.alert.definition.time_last"] == START + 0.5
    # A second after the last send the burst window is empty; the minute still counts.
    record = await record_of(world, "BURSTY", START + 1.5)
    assert record["kismet.alert.definition.burst_sent"] == 0
    assert record["kismet.alert.definition.total_sent"] == 3
