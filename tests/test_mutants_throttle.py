"""Throttling on packet time (a capture source's own throttles), in process.

`kisalert replay` and capture sources throttle what detectors raise on the capture
timestamps of the frames, one throttle per definition per source. The subprocess
tests of replay check this end to end; these pin it where mutation testing can see.
"""

from __future__ import annotations

from kisalert.throttle import PacketThrottles
from kisalert.tracker import RaiseRequest
from tests.test_tracker import make_world, run_async

SEC = 1_000_000
AT = 1_764_420_000 * SEC  # packet time: any time, unrelated to the server's clock


@run_async
async def test_a_definition_at_its_limit_is_throttled_on_packet_time() -> None:
    world = await make_world()
    await world.tracker.define("ONCE", "d", throttle="1/min", burst="1/sec")
    book = PacketThrottles()
    ask = RaiseRequest("ONCE", "text")
    assert await world.tracker.raise_detected(ask, AT, book) is not None
    assert await world.tracker.raise_detected(ask, AT + 30 * SEC, book) is None
    assert world.tracker.throttled["ONCE"] == 1
    # A minute of packet time later it may be sent again, while the server's own
    # clock has not moved at all.
    assert await world.tracker.raise_detected(ask, AT + 60 * SEC, book) is not None


@run_async
async def test_packet_throttles_are_per_definition() -> None:
    world = await make_world()
    for name in ("ONE", "TWO"):
        await world.tracker.define(name, "d", throttle="1/min", burst="1/sec")
    book = PacketThrottles()
    assert await world.tracker.raise_detected(RaiseRequest("ONE", "t"), AT, book) is not None
    assert await world.tracker.raise_detected(RaiseRequest("TWO", "t"), AT, book) is not None
    assert await world.tracker.raise_detected(RaiseRequest("ONE", "t"), AT, book) is None


@run_async
async def test_each_source_has_its_own_packet_throttles() -> None:
    world = await make_world()
    await world.tracker.define("ONCE", "d", throttle="1/min", burst="1/sec")
    ask = RaiseRequest("ONCE", "text")
    assert await world.tracker.raise_detected(ask, AT, PacketThrottles()) is not None
    assert await world.tracker.raise_detected(ask, AT, PacketThrottles()) is not None


@run_async
async def test_a_window_is_exact_at_packet_times_far_in_the_future() -> None:
    """A capture may carry timestamps up to the year 9999, past 2**53 µs (about the
    year 2255): a window's arithmetic there must stay whole microseconds."""
    world = await make_world()
    await world.tracker.define("ONCE", "d", throttle="1/sec", burst="1/sec")
    book = PacketThrottles()
    ask = RaiseRequest("ONCE", "text")
    # The year 5138: no float holds 10**17 + 1 exactly.
    first = 10**17 + 1 - SEC
    assert await world.tracker.raise_detected(ask, first, book) is not None
    assert await world.tracker.raise_detected(ask, first + SEC - 1, book) is None
    # One second after the first send, that send has left the window.
    assert await world.tracker.raise_detected(ask, first + SEC, book) is not None


@run_async
async def test_a_bucketed_window_is_exact_at_packet_times_far_in_the_future() -> None:
    """Rates over 1000 per unit count sends in 1000 buckets per unit; far in the
    future (past 2**53 µs) the bucket of a packet time must still be whole."""
    world = await make_world()
    await world.tracker.define("MANY", "d", throttle="1001/sec", burst="1001/sec")
    book = PacketThrottles()
    ask = RaiseRequest("MANY", "text")
    first = 10**17  # the year 5138, and a bucket boundary
    for _ in range(1001):
        assert await world.tracker.raise_detected(ask, first, book) is not None
    # One microsecond before the first bucket leaves the window, it is still full.
    assert await world.tracker.raise_detected(ask, first + SEC - 1, book) is None
    assert await world.tracker.raise_detected(ask, first + SEC, book) is not None
