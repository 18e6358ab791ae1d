"""HTTP errors: a status and one line of plain text (or Kismet's `{}` where the spec says)."""

from __future__ import annotations

from kisalert.errors import (
    AlertError,
    AlreadyDefined,
    Throttled,
    Unavailable,
)
from kisalert.filters import FilterTooCostly


class HttpError(Exception):
    def __init__(
        self,
        status: int,
        text: str,
        json_body: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.json_body = json_body
        self.headers = headers


def bad_request(reason: str) -> HttpError:
    return HttpError(400, f"Invalid request: {reason}")


def status_of(error: AlertError) -> int:
    if isinstance(error, Throttled):
        return 429
    if isinstance(error, AlreadyDefined):
        return 409
    if isinstance(error, Unavailable):
        return 503
    if isinstance(error, FilterTooCostly):
        return 413
    return 400
