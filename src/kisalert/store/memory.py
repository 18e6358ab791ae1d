"""All state in this process's memory: the embedded default and what tests use."""

from __future__ import annotations

import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kisalert.alert import Alert, AlertDraft
from kisalert.alert_id import next_free
from kisalert.clock import Clock
from kisalert.credentials import ApiKey, Session
from kisalert.definition import Definition
from kisalert.forward.silences import Silence
from kisalert.store.keyfile import KeyFile
from kisalert.store.rewriter import Rewriter
from kisalert.store.sessionfile import SessionFile
from kisalert.store.silencefile import SilenceFile
from kisalert.throttle import Throttle
from kisalert.timestamps import Stamper

MAX_SESSIONS = 4096
# A new session reaches the sessions file within this; a logout, a silence and a
# stop are written before they return.
SAVE_PERIOD = 1.0


class MemoryStore:
    """Everything in memory; API keys also in `key_file` and login sessions in
    `session_file` when they are given, so that they survive a restart. Raises
    ApiKeyError if the key file cannot be read."""

    def __init__(
        self,
        clock: Clock,
        backlog_size: int = 50,
        first_free_elsewhere: Callable[[int], int] | None = None,
        key_file: KeyFile | None = None,
        max_sessions: int = MAX_SESSIONS,
        session_file: SessionFile | None = None,
        silence_file: SilenceFile | None = None,
    ) -> None:
        self._clock = clock
        self._stamper = Stamper(clock)
        self._size = backlog_size
        self._backlog: deque[Alert] = deque()
        self._by_id: dict[int, Alert] = {}
        # Stamped with visible=False and not yet revealed, by id, in stamp order.
        self._unseen: dict[int, Alert] = {}
        # Given an id, the smallest id from there on that the log does not hold.
        self._first_free_elsewhere = first_free_elsewhere
        self._definitions: dict[str, Definition] = {}
        self._throttles: dict[str, Throttle] = {}
        self._key_file = key_file
        self._keys: dict[str, ApiKey] = {}
        self._keys_by_digest: dict[str, ApiKey] = {}
        for key in key_file.load() if key_file is not None else ():
            self._keys[key.name] = key
            self._keys_by_digest[key.digest] = key
        self._sessions: OrderedDict[bytes, Session] = OrderedDict()
        self._max_sessions = max_sessions
        self._session_file = session_file
        if session_file is not None:
            self._sessions.update(session_file.load(clock.now())[-max_sessions:])
        self._session_saver = Rewriter(self._session_state, self._write_sessions, SAVE_PERIOD)
        self._silence_file = silence_file
        self._silences: dict[str, Silence] = {}
        self._silence_hits: dict[str, int] = {}
        if silence_file is not None:
            silences, self._silence_hits = silence_file.load()
            self._silences = {silence.id: silence for silence in silences}
        self._silence_saver = Rewriter(self._silence_state, self._write_silences, SAVE_PERIOD)

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

    async def admit(
        self, definition: Definition, draft: AlertDraft, visible: bool = True
    ) -> Alert | None:
        throttle = self._throttles[definition.name]
        at_us = self._stamper.peek()
        if not throttle.allows(at_us):
            return None
        throttle.record(at_us)
        return self._add(draft, self._stamper.claim(at_us), visible)

    async def record(
        self, definition: Definition, draft: AlertDraft, visible: bool = True
    ) -> Alert:
        at_us = self._stamper.take()
        self._throttles[definition.name].record(at_us)
        return self._add(draft, at_us, visible)

    async def append(self, draft: AlertDraft, visible: bool = True) -> Alert:
        return self._add(draft, self._stamper.take(), visible)

    def _add(self, draft: AlertDraft, stamp_us: int, visible: bool) -> Alert:
        alert = Alert.from_draft(draft, stamp_us, self._allocate_id(draft.checksum(stamp_us)))
        if visible:
            self._hold(alert)
        else:
            self._unseen[alert.alert_id] = alert
        return alert

    async def reveal(self, alert: Alert) -> None:
        if self._unseen.pop(alert.alert_id, None) is alert:
            self._hold(alert)

    def _allocate_id(self, wanted: int) -> int:
        """`wanted`, or the next id (mod 2**32) that no held alert has (model.md)."""
        candidate = wanted
        while True:
            candidate = next_free(candidate, self._by_id)
            if candidate in self._unseen:
                candidate = (candidate + 1) & 0xFFFFFFFF
                continue
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

    @property
    def backlog_size(self) -> int:
        """Alerts in the backlog now (for /metrics, which must not copy it)."""
        return len(self._backlog)

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
        if self._unseen:
            # Alerts are revealed in stamp order, so every visible alert is older than
            # the oldest unseen one. A mark past that one would make a client that
            # polls for what is newer than the mark skip it once it is revealed.
            oldest: int = next(iter(self._unseen.values())).timestamp_us
            return min(mark, oldest - 1)
        return mark

    # Credentials

    async def add_api_key(self, key: ApiKey) -> bool:
        if key.name in self._keys:
            return False
        self._keys[key.name] = key
        self._keys_by_digest[key.digest] = key
        self._save_keys()
        return True

    async def remove_api_key(self, name: str) -> bool:
        key = self._keys.pop(name, None)
        if key is None:
            return False
        self._keys_by_digest.pop(key.digest, None)
        self._save_keys()
        return True

    def _save_keys(self) -> None:
        if self._key_file is not None:
            self._key_file.save(self._keys.values())

    async def api_key(self, digest: str) -> ApiKey | None:
        return self._keys_by_digest.get(digest)

    async def api_keys(self) -> Sequence[ApiKey]:
        return tuple(self._keys.values())

    async def add_session(self, digest: bytes, session: Session) -> None:
        self._sessions[digest] = session
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)
        if self._session_file is not None:
            self._session_saver.request()

    async def session(self, digest: bytes) -> Session | None:
        return self._sessions.get(digest)

    async def remove_session(self, digest: bytes) -> None:
        if self._sessions.pop(digest, None) is not None and self._session_file is not None:
            # Written before the logout is answered: a crash must not bring it back.
            await self._session_saver.save()

    def _session_state(self) -> tuple[list[tuple[bytes, Session]], float]:
        return list(self._sessions.items()), self._clock.now()

    def _write_sessions(self, state: tuple[list[tuple[bytes, Session]], float]) -> None:
        assert self._session_file is not None
        try:
            self._session_file.save(*state)
        except OSError as exc:
            # The session works until the server stops; only a restart forgets it.
            print(
                f"kisalert: warning: cannot save the login sessions: {exc}",
                file=sys.stderr,
            )

    async def flush(self) -> None:
        """Write the sessions and silences still waiting for their file (at a stop)."""
        await self._session_saver.flush()
        await self._silence_saver.flush()

    # Silences

    async def silences(self) -> tuple[Sequence[Silence], Mapping[str, int]]:
        return tuple(self._silences.values()), dict(self._silence_hits)

    async def put_silence(self, silence: Silence) -> None:
        self._silences[silence.id] = silence
        if self._silence_file is not None:
            await self._silence_saver.save()

    async def put_silence_hits(self, hits: Mapping[str, int]) -> None:
        for silence_id, count in hits.items():
            self._silence_hits[silence_id] = max(count, self._silence_hits.get(silence_id, 0))
        # Saved every few seconds while alerts are silenced.
        if self._silence_file is not None:
            await self._silence_saver.save()

    async def forget_silences(self, ids: Sequence[str]) -> None:
        for silence_id in ids:
            self._silences.pop(silence_id, None)
            self._silence_hits.pop(silence_id, None)
        if self._silence_file is not None:
            await self._silence_saver.save()

    def _silence_state(self) -> tuple[list[Silence], dict[str, int]]:
        return list(self._silences.values()), dict(self._silence_hits)

    def _write_silences(self, state: tuple[list[Silence], dict[str, int]]) -> None:
        assert self._silence_file is not None
        try:
            self._silence_file.save(*state)
        except OSError as exc:
            # In force until the server stops; only a restart forgets it.
            print(f"kisalert: warning: cannot save the silences: {exc}", file=sys.stderr)
