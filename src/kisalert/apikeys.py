"""API keys: named tokens with a role and an optional lifetime.

A key's token is shown once, when it is made. Unless `httpd_allow_auth_view` is on,
only its SHA-256 is kept, so a copy of the store (the data directory, or Redis) does
not reveal it (tokens are 128 random bits, so a fast hash is enough).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence

from kisalert.auth import Principal
from kisalert.clock import Clock
from kisalert.credentials import MAX_EXPIRES, ApiKey, ApiKeyError
from kisalert.store import Store

ROLE_RULE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
MAX_NAME = 128
# A lifetime longer than this is a typo or a probe, not a plan; it also keeps every
# expiry a number that JSON readers and the uint64 field can hold.
MAX_DURATION = 100 * 366 * 86400


class DuplicateKey(ApiKeyError):
    pass


class UnknownKey(ApiKeyError):
    pass


def check_duration(value: object) -> int:
    """A key's lifetime in whole seconds (0 = never expires), from a command argument.

    Raises ApiKeyError saying why `value` cannot be a lifetime."""
    # bool is an int subclass, and a float such as 3.0 is a number that happens to be
    # whole: neither is what a client meant by a count of seconds.
    if type(value) is not int:
        raise ApiKeyError("'duration' must be a whole number of seconds")
    if value < 0:
        raise ApiKeyError("'duration' must be 0 (never expires) or more seconds")
    if value > MAX_DURATION:
        raise ApiKeyError(f"'duration' must be at most {MAX_DURATION} seconds (100 years)")
    return value


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeys:
    """Making, revoking and checking keys; the keys themselves are in the store."""

    def __init__(self, store: Store, clock: Clock, allow_view: bool = False) -> None:
        self._store = store
        self._clock = clock
        self._allow_view = allow_view

    async def generate(self, name: str, role: str, duration: int) -> str:
        if not name or len(name) > MAX_NAME:
            raise ApiKeyError(f"a key name is 1-{MAX_NAME} characters")
        if not ROLE_RULE.fullmatch(role):
            raise ApiKeyError("a role is 1-64 letters, digits, '_', '-' or '.'")
        duration = check_duration(duration)
        token = secrets.token_hex(16).upper()
        expires = min(self._clock.now() + duration, MAX_EXPIRES) if duration else 0.0
        key = ApiKey(name, role, expires, digest(token), token if self._allow_view else None)
        if not await self._store.add_api_key(key):
            raise DuplicateKey(f"an API key named {name!r} exists")
        return token

    async def revoke(self, name: str) -> None:
        if not await self._store.remove_api_key(name):
            raise UnknownKey(f"no API key named {name!r}")

    async def lookup(self, token: str) -> Principal | None:
        """The key's principal, if `token` is a live key."""
        key = await self._store.api_key(digest(token))
        if key is None or not key.live(self._clock.now()):
            return None
        return Principal(key.name, key.role)

    async def all(self) -> Sequence[ApiKey]:
        return await self._store.api_keys()

    @property
    def allow_view(self) -> bool:
        return self._allow_view
