"""The messagebus's `last-time` read: messages after a time, never the one at it."""

from __future__ import annotations

from kisalert.bus import Bus
from kisalert.clock import ManualClock
from kisalert.messages import MessageBus

START = 1_764_420_000.0


def test_a_poll_with_the_last_time_seen_gets_only_newer_messages() -> None:
    clock = ManualClock(START)
    messagebus = MessageBus(Bus(), clock)
    messagebus.post("first")
    clock.advance(1)
    messagebus.post("second")
    clock.advance(1)
    messagebus.post("third")
    # A client that saw "second" polls with its time: it must not get it again.
    assert [m.text for m in messagebus.since(START + 1)] == ["third"]
    assert [m.text for m in messagebus.since(START + 0.5)] == ["second", "third"]
    assert messagebus.since(START + 2) == []


def test_the_messagebus_keeps_the_newest_50() -> None:
    clock = ManualClock(START)
    messagebus = MessageBus(Bus(), clock)
    for number in range(60):
        messagebus.post(f"message {number}")
    assert [m.text for m in messagebus.all()] == [f"message {n}" for n in range(10, 60)]


def test_a_message_reads_as_kismets_record() -> None:
    messagebus = MessageBus(Bus(), ManualClock(START + 0.75))
    message = messagebus.post("Alert MINE defined over the API")
    assert message.json == (
        b'{"kismet.messagebus.message_string":"Alert MINE defined over the API",'
        b'"kismet.messagebus.message_flags":2,'
        b'"kismet.messagebus.message_time":1764420000}'
    )
