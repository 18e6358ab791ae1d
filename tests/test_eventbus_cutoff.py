"""Exactly when a subscriber that stops reading is cut off (README, "Eventbus"): with
`eventbus_queue` frames waiting it is kept and gets every one of them once it reads
again; with one more it is closed with 1013.

Over a real socket the kernel's buffers take an unknown number of frames before the
server sees a full connection, so the count is pinned here on the real hub, with a
connection that has no room until the test gives it some (the sink of
test_eventbus_hub.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from kisalert.bus import ALERT
from kisalert.config import Config
from kisalert.eventbus import TOO_SLOW, Subscriber
from tests.slack import slack
from tests.test_eventbus_hub import Hub, Sink, texts

LIMITS = [1, 16, Config().eventbus_queue]


async def until(done: Callable[[], bool], what: str) -> None:
    """Let the event loop run (the hub flushes on it) until `done()`."""
    deadline = asyncio.get_running_loop().time() + slack(10.0)
    while not done():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


async def flushed_while_stalled(subscriber: Subscriber, sink: Sink) -> None:
    """Until the hub has dealt with what waits for a stalled subscriber: either it
    asked to be told when the connection has room again, or it cut the subscriber off."""
    await until(lambda: bool(sink.waiting) or subscriber.closing.is_set(), "a flush")


@pytest.mark.parametrize("limit", LIMITS)
def test_a_stalled_subscriber_with_exactly_its_limit_waiting_is_kept(limit: int) -> None:
    sent = [f"a{i}" for i in range(limit)]

    async def main() -> tuple[int | None, list[str]]:
        h = Hub()
        subscriber, sink = h.subscriber(ALERT, limit=limit, sink=Sink(has_room=False))
        h.publish(ALERT, *sent)
        await flushed_while_stalled(subscriber, sink)
        assert subscriber.pending() == limit
        code = subscriber.close_code
        sink.unblock()
        await until(lambda: subscriber.pending() == 0 or subscriber.closing.is_set(), "a send")
        return code, texts(sink.frames())

    code, received = asyncio.run(main())
    assert code is None
    assert received == sent


@pytest.mark.parametrize("limit", LIMITS)
def test_one_frame_over_the_limit_cuts_a_stalled_subscriber_off(limit: int) -> None:
    async def main() -> tuple[int | None, str, int]:
        h = Hub()
        subscriber, sink = h.subscriber(ALERT, limit=limit, sink=Sink(has_room=False))
        h.publish(ALERT, *(f"a{i}" for i in range(limit + 1)))
        await flushed_while_stalled(subscriber, sink)
        return subscriber.close_code, subscriber.close_reason, len(sink.writes)

    code, reason, writes = asyncio.run(main())
    assert code == TOO_SLOW
    assert reason == "too many frames waiting"
    assert writes == 0


def test_the_frame_that_tips_a_kept_subscriber_over_cuts_it_off() -> None:
    """The count carries over from flush to flush while the connection stays full."""
    limit = 16

    async def main() -> tuple[int | None, int | None, int]:
        h = Hub()
        subscriber, sink = h.subscriber(ALERT, limit=limit, sink=Sink(has_room=False))
        h.publish(ALERT, *(f"a{i}" for i in range(limit)))
        await flushed_while_stalled(subscriber, sink)
        kept = subscriber.close_code
        h.publish(ALERT, "one more")
        await until(subscriber.closing.is_set, "the cut-off")
        return kept, subscriber.close_code, h.hub.cut_offs

    kept, code, cut_offs = asyncio.run(main())
    assert kept is None
    assert code == TOO_SLOW
    assert cut_offs == 1
