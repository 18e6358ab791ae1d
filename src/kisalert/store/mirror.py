"""What one replica last saw of the shared state, kept in its own memory so that it
can still answer reads while Redis is away (scale.md, failure behaviour).

Everything here may be stale: it is what Redis held when this replica last read it,
and changes made on other replicas during an outage are not in it. It is served only
while Redis cannot be reached; with Redis there, every read goes to Redis.

- alerts: the newest `size` alerts in stream (stamp) order, as the relay delivered
  them, and by id among those;
- definitions: their registration order as last read (definitions this replica
  made are added to it), the definitions themselves being parsed once and kept;
- credentials: sessions and API keys this replica has looked up or made, at most
  `MAX_CREDENTIALS` of each, newest kept. A session or key revoked on another
  replica while Redis is away still works here until Redis is back.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import Generic, TypeVar

from kisalert.alert import Alert
from kisalert.credentials import ApiKey, Session

MAX_CREDENTIALS = 4096

K = TypeVar("K")
V = TypeVar("V")


class _Recent(Generic[K, V]):
    """A bounded map that forgets its least recently stored entries first."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: OrderedDict[K, V] = OrderedDict()

    def put(self, key: K, value: V | None) -> None:
        """Keep `value` under `key`; None forgets the key."""
        if value is None:
            self._entries.pop(key, None)
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def items(self) -> list[tuple[K, V]]:
        return list(self._entries.items())


class Mirror:
    def __init__(self, size: int, max_credentials: int = MAX_CREDENTIALS) -> None:
        self._size = max(size, 0)
        self._alerts: deque[Alert] = deque()
        self._by_id: dict[int, Alert] = {}
        self.definition_order: list[str] = []
        self._sessions: _Recent[bytes, Session] = _Recent(max_credentials)
        self._keys: _Recent[str, ApiKey] = _Recent(max_credentials)

    # Alerts, in the order the shared stream holds them.

    def add(self, alert: Alert) -> None:
        if self._size == 0:
            return
        if len(self._alerts) >= self._size:
            dropped = self._alerts.popleft()
            if self._by_id.get(dropped.alert_id) is dropped:
                del self._by_id[dropped.alert_id]
        self._alerts.append(alert)
        self._by_id[alert.alert_id] = alert

    def backlog(self) -> Sequence[Alert]:
        return tuple(self._alerts)

    def since(self, after_us: int) -> Sequence[Alert]:
        alerts = self._alerts
        start = len(alerts)
        while start > 0 and alerts[start - 1].timestamp_us > after_us:
            start -= 1
        return [alerts[i] for i in range(start, len(alerts))]

    def by_id(self, alert_id: int) -> Alert | None:
        return self._by_id.get(alert_id)

    # Definitions

    def defined(self, name: str) -> None:
        if name not in self.definition_order:
            self.definition_order.append(name)

    # Credentials

    def session(self, digest: bytes) -> Session | None:
        return self._sessions.get(digest)

    def keep_session(self, digest: bytes, session: Session | None) -> None:
        """What Redis answered for `digest` (None: it has no such session)."""
        self._sessions.put(digest, session)

    def api_key(self, digest: str) -> ApiKey | None:
        return self._keys.get(digest)

    def keep_api_key(self, digest: str, key: ApiKey | None) -> None:
        self._keys.put(digest, key)

    def forget_api_key(self, name: str) -> None:
        for digest, key in self._keys.items():
            if key.name == name:
                self._keys.put(digest, None)
