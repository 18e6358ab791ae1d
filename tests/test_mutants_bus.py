"""The internal bus: every subscriber of a topic hears each event until it leaves,
and one leaving does not take the others with it."""

from __future__ import annotations

from typing import Any

from kisalert.bus import ALERT, MESSAGE, Bus


def test_subscribers_hear_their_topic_until_they_leave() -> None:
    bus = Bus()
    heard: list[tuple[str, str, Any]] = []
    leave_first = bus.subscribe(ALERT, lambda topic, item: heard.append(("first", topic, item)))
    bus.subscribe(ALERT, lambda topic, item: heard.append(("second", topic, item)))
    bus.subscribe(MESSAGE, lambda topic, item: heard.append(("messages", topic, item)))
    bus.publish(ALERT, 1)
    leave_first()
    bus.publish(ALERT, 2)
    bus.publish(MESSAGE, 3)
    leave_first()  # a second time changes nothing
    bus.publish(ALERT, 4)
    assert heard == [
        ("first", ALERT, 1),
        ("second", ALERT, 1),
        ("second", ALERT, 2),
        ("messages", MESSAGE, 3),
        ("second", ALERT, 4),
    ]


def test_leaving_a_topic_nobody_else_heard_leaves_it_empty() -> None:
    bus = Bus()
    heard: list[Any] = []
    leave = bus.subscribe(ALERT, lambda _topic, item: heard.append(item))
    leave()
    bus.publish(ALERT, 1)
    assert heard == []
