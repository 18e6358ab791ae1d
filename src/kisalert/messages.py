"""The messagebus: short server messages (start-up, definitions, alerts), the last 50 kept."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from kisalert.bus import MESSAGE, Bus
from kisalert.clock import Clock
from kisalert.jsonbytes import kept_json

DEBUG = 1
INFO = 2
ERROR = 4
ALERT = 8
FATAL = 16

KEEP = 50


def well_formed(text: str) -> str:
    """`text` as UTF-8 can hold it: the bytes of a file name that are not UTF-8 (lone
    surrogates, as Python reads such names) shown as `\\xNN`. JSON and SQLite take no
    lone surrogate, and one in a message stopped the alert log's writer."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return text.encode("utf-8", "backslashreplace").decode("utf-8")


class Message:
    __slots__ = ("_json", "flags", "record", "text", "time")

    def __init__(self, text: str, flags: int, time: int) -> None:
        if not text.isascii():
            text = well_formed(text)
        self.text = text
        self.flags = flags
        self.time = time
        self.record: dict[str, Any] = {
            "kismet.messagebus.message_string": text,
            "kismet.messagebus.message_flags": flags,
            "kismet.messagebus.message_time": time,
        }
        self._json: bytes | None = None

    @property
    def json(self) -> bytes:
        """Serialized when first read: every raise posts a message, few are read."""
        data = self._json
        if data is None:
            data = self._json = kept_json(self.record)
        return data


class MessageBus:
    def __init__(
        self,
        bus: Bus,
        clock: Clock,
        keep: int = KEEP,
        outbox: Callable[[Message], None] | None = None,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self._messages: deque[Message] = deque(maxlen=keep)
        # With several servers as one, a message goes to the shared stream, and every
        # server's relay delivers it back (cluster/relay.py), so all keep the same list.
        self.outbox = outbox

    def post(self, text: str, flags: int = INFO) -> Message:
        message = Message(text, flags, int(self._clock.now()))
        if self.outbox is not None:
            self.outbox(message)
        else:
            self.deliver(message)
        return message

    def deliver(self, message: Message, publish: bool = True) -> None:
        """Keep `message` and, unless `publish` is False, hand it to the bus."""
        self._messages.append(message)
        if publish:
            self._bus.publish(MESSAGE, message)

    def all(self) -> Sequence[Message]:
        return tuple(self._messages)

    def since(self, when: float) -> list[Message]:
        return [m for m in self._messages if m.time > when]
