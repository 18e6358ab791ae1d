"""What every output is: a name, and `send(batch)` that says how it went.

An output only formats and sends. Retrying, backing off, filtering, capping and
remembering what was delivered belong to the runner (`runner.py`), once for all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from kisalert.alert import Alert


class SpecError(ValueError):
    """A `forward=` line that cannot be used; str() is one line saying why."""


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One `forward=NAME:type=KIND,option=value,...` line, parsed but not yet built."""

    name: str
    kind: str
    options: dict[str, str] = field(default_factory=dict)


class Result(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "give up"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a send went. `sent` leading alerts of the batch got through in any case
    (the runner moves past them); a retry is of the rest, and so is a give-up."""

    result: Result
    reason: str = ""
    retry_after: float | None = None  # seconds the peer asked us to wait
    sent: int = 0

    @classmethod
    def delivered(cls, count: int) -> Outcome:
        return cls(Result.DELIVERED, sent=count)

    @classmethod
    def retry(cls, reason: str, sent: int = 0, retry_after: float | None = None) -> Outcome:
        return cls(Result.RETRY, reason, retry_after, sent)

    @classmethod
    def give_up(cls, reason: str, sent: int = 0) -> Outcome:
        return cls(Result.GIVE_UP, reason, None, sent)


class Output(Protocol):
    name: str

    async def send(self, batch: Sequence[Alert]) -> Outcome:
        """Deliver `batch` in order. Never raises for a peer's failure: says so."""
        ...

    async def close(self) -> None:
        """Let go of connections; the runner may call send again afterwards."""
        ...


class Poster(Protocol):
    """Where runners post what a person should hear of (failing, recovering): the
    server's messagebus, or in the forwarding process the channel to it."""

    def post(self, text: str, flags: int = ...) -> object: ...
