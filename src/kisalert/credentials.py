"""The credentials a store keeps: API keys and login sessions, as records.

The rules about them (making, checking, expiring) are in `apikeys` and `sessions`,
above the store; the records are below it, so that every store can hold them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kisalert.auth import Principal

# The latest expiry a stored key may carry (9999-12-31): a bound that a loaded file,
# whatever wrote it, is clamped to.
MAX_EXPIRES = 253402300799.0


class ApiKeyError(Exception):
    """A request about keys that cannot be done; str() says why."""


def stored_expiry(value: object) -> float | None:
    """A stored key's expiry as a usable time, or None if it is not one: a finite
    number of seconds, 0 for never, anything later clamped to MAX_EXPIRES."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        # float() of a huge int overflows; clamp while it is still exact.
        value = min(value, int(MAX_EXPIRES))
    if math.isnan(value) or value < 0:
        return None
    return min(float(value), MAX_EXPIRES)


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    role: str
    expires: float  # epoch seconds; 0 = never
    digest: str
    token: str | None = None  # kept only when viewing is allowed

    def live(self, now: float) -> bool:
        return self.expires == 0 or now < self.expires


@dataclass(frozen=True, slots=True)
class Session:
    principal: Principal
    expires: float  # epoch seconds
    # AdminLogin.stamp when a password login made it; the session ends when the
    # password changes. None: not tied to a password.
    login_stamp: bytes | None = None
