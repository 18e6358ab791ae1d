"""The internal event bus: every consumer of raised alerts and messages reads from here.

Delivery is synchronous and in publish order; a consumer must not block (websocket
subscribers put into their own bounded queue, the log writer into its own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ALERT = "ALERT"
MESSAGE = "MESSAGE"
TIMESTAMP = "TIMESTAMP"
ANY_TOPIC = "*"

Handler = Callable[[str, Any], None]


class Bus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Call `handler(topic, item)` for each event of `topic` (or every topic, `*`).

        Returns a function that ends the subscription.
        """
        # Copy-on-write, so that a handler may unsubscribe during a publish.
        self._handlers[topic] = [*self._handlers.get(topic, ()), handler]

        def unsubscribe() -> None:
            handlers = self._handlers.get(topic, [])
            self._handlers[topic] = [h for h in handlers if h is not handler]

        return unsubscribe

    def publish(self, topic: str, item: Any) -> None:
        for handler in self._handlers.get(topic, ()):
            handler(topic, item)
        for handler in self._handlers.get(ANY_TOPIC, ()):
            handler(topic, item)
