"""All state in this process's memory: the embedded default and what tests use."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from kisalert.alert import Alert, AlertDraft
from kisalert.alert_id import next_free
from kisalert.clock import Clock
from kisalert.definition import Definition
from kisalert.throttle import Throttle
from kisalert.timestamps import Stamper


class MemoryStore:
    def __init__(
        self,
        clock: Clock,
        backlog_size: int = 50,
        first_free_elsewhere: Callable[[int], int] | None = None,
    ) -> None:
        self._stamper = Stamper(clock)
        self._size = backlog_size
        self._backlog: deque[Alert] = deque()
        self._by_id: dict[int, Alert] = {}
        # Given an id, the smallest id from there on that the log does not hold.
        self._first_free_elsewhere = first_free_elsewhere
        self._definitions: dict[str, Definition] = {}
        self._throttles: dict[str, Throttle] = {}

    # Definitions

    async def definitions(self) -> Sequence[Definition]:
        return tuple(self._definitions.values())

    async def definition(self, name: str) -> Definition | None:
        return self._definitions.get(name)

    async def add_definition(self, definition: Definition) -> Definition:
        existing = self._definitions.get(definition.name)
        if existing is not None:
            return existing
        self._definitions[definition.name] = definition
        self._throttles[definition.name] = Throttle(definition.limits)
        return definition

    async def definition_records(self, now_us: int) -> list[dict[str, Any]]:
        throttles = self._throttles
        return [d.record(throttles.get(d.name), now_us) for d in self._definitions.values()]

    # Alerts

    async def admit(self, definition: Definition, draft: AlertDraft) -> Alert | None:
        throttle = self._throttles[definition.name]
        at_us = self._stamper.peek()
        if not throttle.allows(at_us):
            return None
        throttle.record(at_us)
        return self._add(draft, self._stamper.claim(at_us))

    async def append(self, draft: AlertDraft) -> Alert:
        return self._add(draft, self._stamper.take())

    def _add(self, draft: AlertDraft, stamp_us: int) -> Alert:
        alert = Alert.from_draft(draft, stamp_us, self._allocate_id(draft.checksum(stamp_us)))
        self._hold(alert)
        return alert

    def _allocate_id(self, wanted: int) -> int:
        """`wanted`, or the next id (mod 2**32) that no held alert has (model.md)."""
        candidate = wanted
        while True:
            candidate = next_free(candidate, self._by_id)
            if self._first_free_elsewhere is None:
                return candidate
            moved = self._first_free_elsewhere(candidate)
            if moved == candidate:
                return candidate
            candidate = moved

    def _hold(self, alert: Alert) -> None:
        if self._size <= 0:
            return
        if len(self._backlog) >= self._size:
            dropped = self._backlog.popleft()
            self._by_id.pop(dropped.alert_id, None)
        self._backlog.append(alert)
        self._by_id[alert.alert_id] = alert

    async def restore(self, alerts: Sequence[Alert], newest_us: int = 0) -> None:
        self._stamper.reserve(newest_us)
        for alert in alerts:
            self._stamper.reserve(alert.timestamp_us)
            self._hold(alert)

    async def restore_sends(self, name: str, stamps_us: Sequence[int], last_us: int) -> None:
        throttle = self._throttles.get(name)
        if throttle is not None:
            for stamp in stamps_us:
                throttle.record(stamp)
            throttle.last_us = max(throttle.last_us, last_us)

    async def backlog(self) -> Sequence[Alert]:
        return tuple(self._backlog)

    async def since(self, after_us: int) -> Sequence[Alert]:
        backlog = self._backlog
        # The backlog is in stamp order: walk back from the newest.
        start = len(backlog)
        while start > 0 and backlog[start - 1].timestamp_us > after_us:
            start -= 1
        return [backlog[i] for i in range(start, len(backlog))]

    async def by_id(self, alert_id: int) -> Alert | None:
        return self._by_id.get(alert_id)

    async def poll_mark(self, now_us: int) -> int:
        mark = max(now_us, self._backlog[-1].timestamp_us) if self._backlog else now_us
        self._stamper.reserve(mark)
        return mark
