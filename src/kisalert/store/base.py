"""The store interface every state backend implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from kisalert.alert import Alert, AlertDraft
from kisalert.credentials import ApiKey, Session
from kisalert.definition import Definition
from kisalert.forward.silences import Silence


class StoreError(Exception):
    """The shared store cannot be used at start-up; str() is the one line to print."""


class Store(Protocol):
    """Shared state: alerts, definitions, throttle windows and credentials. Each method
    is atomic with respect to every other caller."""

    async def definitions(self) -> Sequence[Definition]:
        """Every definition, in registration order."""
        ...

    async def definition(self, name: str) -> Definition | None:
        """The definition named `name` (upper case), if any."""
        ...

    async def add_definition(self, definition: Definition) -> Definition:
        """Register `definition` unless its name is taken; returns the one registered."""
        ...

    async def definition_records(self, now_us: int) -> list[dict[str, Any]]:
        """Definition records with their window counters at `now_us`."""
        ...

    async def admit(
        self, definition: Definition, draft: AlertDraft, visible: bool = True
    ) -> Alert | None:
        """Stamp, identify and append an alert if `definition`'s throttle allows it.

        Returns None, changing nothing, when the throttle refuses. With `visible`
        False the alert's stamp and id are taken (no other alert gets that id) but it
        joins the backlog, by-id and `since` only at `reveal`; the throttle counts it
        at once.
        """
        ...

    async def record(
        self, definition: Definition, draft: AlertDraft, visible: bool = True
    ) -> Alert:
        """Stamp, identify and append an alert that was throttled elsewhere (on a
        capture's packet time), counting it in `definition`'s windows. `visible` as
        for `admit`."""
        ...

    async def append(self, draft: AlertDraft, visible: bool = True) -> Alert:
        """Stamp, identify and append an alert that is never throttled (one-shot).
        `visible` as for `admit`."""
        ...

    async def reveal(self, alert: Alert) -> None:
        """Append an alert stamped with `visible` False to the backlog. Callers reveal
        alerts in the order they were stamped, so the backlog stays in stamp order."""
        ...

    async def restore(self, alerts: Sequence[Alert], newest_us: int = 0) -> None:
        """Load alerts kept elsewhere (the log) into the backlog; every later stamp is
        after them and after `newest_us`."""
        ...

    async def restore_sends(self, name: str, stamps_us: Sequence[int], last_us: int) -> None:
        """Count earlier sends of definition `name` (oldest first) in its throttle;
        `last_us` is its last send ever."""
        ...

    async def backlog(self) -> Sequence[Alert]:
        """The backlog, oldest first."""
        ...

    async def since(self, after_us: int) -> Sequence[Alert]:
        """Backlog alerts stamped strictly after `after_us`, oldest first."""
        ...

    async def by_id(self, alert_id: int) -> Alert | None: ...

    async def poll_mark(self, now_us: int) -> int:
        """A timestamp T for a wrapped poll: max(now, newest alert), reserved so that
        every later alert is stamped after T; but before the oldest alert not yet
        revealed, so that it comes with the poll after T."""
        ...

    # Credentials (shared, so that a key or cookie works on every server; scale.md)

    async def add_api_key(self, key: ApiKey) -> bool:
        """Keep `key`; False, changing nothing, if a key of that name exists."""
        ...

    async def remove_api_key(self, name: str) -> bool:
        """Forget the key named `name`; False if there was none."""
        ...

    async def api_key(self, digest: str) -> ApiKey | None:
        """The key whose token has this digest, expired or not."""
        ...

    async def api_keys(self) -> Sequence[ApiKey]:
        """Every key, in the order they were made."""
        ...

    async def add_session(self, digest: bytes, session: Session) -> None:
        """Keep a login session under its token's digest, at least until it expires
        (a store may forget the oldest sessions when it holds too many)."""
        ...

    async def session(self, digest: bytes) -> Session | None:
        """The session kept under `digest`, expired or not."""
        ...

    async def remove_session(self, digest: bytes) -> None: ...

    async def silences(self) -> tuple[Sequence[Silence], Mapping[str, int]]:
        """The silences made over the API, and the hits of every silence by id."""
        ...

    async def put_silence(self, silence: Silence) -> None:
        """Keep a silence made over the API, or its new expiry."""
        ...

    async def put_silence_hits(self, hits: Mapping[str, int]) -> None:
        """Keep the silences' hit counts (a count never goes down)."""
        ...

    async def forget_silences(self, ids: Sequence[str]) -> None:
        """Drop these silences and their hits (expired, and listed long enough)."""
        ...
