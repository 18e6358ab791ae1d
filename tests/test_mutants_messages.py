"""The messagebus's `last-time` read (messages after a time, never the one at it), what it
keeps, and a message sent through an outbox (several replicas)."""

from __future__ import annotations

from kisalert import messages
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


def test_with_an_outbox_a_posted_message_is_kept_only_once_delivered_back() -> None:
    # As with several replicas: the outbox sends the message away, and what comes back
    # (here straight to a second messagebus, as its relay would) is the message posted.
    clock = ManualClock(START)
    replica = MessageBus(Bus(), clock)
    messagebus = MessageBus(Bus(), clock, outbox=replica.deliver)
    message = messagebus.post("source wlan0: capture failed", messages.ERROR)
    assert messagebus.all() == ()
    (delivered,) = replica.all()
    assert delivered is message
    assert (delivered.text, delivered.flags) == ("source wlan0: capture failed", messages.ERROR)
