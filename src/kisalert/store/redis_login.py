"""The admin login in Redis, so that `kisalert passwd --store …` and
/session/set_password change it for every replica (scale.md).

Logins are checked on the event loop without waiting, so each replica keeps the
current login in memory and `watch` refreshes it from Redis every second; writes
(`save`, from `kisalert passwd` or a thread of the server) go to Redis directly.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis
from redis.exceptions import RedisError

from kisalert.auth import StoredLogin
from kisalert.store.base import StoreError
from kisalert.store.redis import reason, redis_key, where

WATCH_SECONDS = 1.0
LOGIN_KEY = redis_key("login")


class RedisLogin:
    def __init__(self, url: str) -> None:
        # A blocking client: used by the command line, and by the server only from
        # threads (set_password runs there, beside scrypt).
        self._client: Any = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._raw: bytes | None = None
        self._stored: StoredLogin | None = None

    @property
    def where(self) -> str:
        return f"Redis at {where(self._client)}"

    def current(self) -> tuple[object, StoredLogin | None]:
        return self._raw, self._stored

    def _adopt(self, raw: bytes | None) -> None:
        if raw != self._raw:
            self._stored = None if raw is None else StoredLogin.load(raw)
            self._raw = raw

    def _call(self, *command: Any, **options: Any) -> Any:
        try:
            return getattr(self._client, command[0])(*command[1:], **options)
        except RedisError as exc:
            raise StoreError(f"cannot use {self.where}: {reason(exc)}") from None

    def load(self) -> StoredLogin | None:
        """Read the login now (blocking). Raises StoreError."""
        self._adopt(self._call("get", LOGIN_KEY))
        return self._stored

    def create(self, login: StoredLogin) -> bool:
        """Keep `login` unless a login exists (another replica made one first)."""
        made = bool(self._call("set", LOGIN_KEY, login.dump(), nx=True))
        self.load()
        return made

    def save(self, login: StoredLogin) -> None:
        data = login.dump()
        self._call("set", LOGIN_KEY, data)
        self._adopt(data)

    async def refresh(self, client: Any) -> None:
        """Read the login through the server's asyncio client. Raises RedisError."""
        self._adopt(await client.get(LOGIN_KEY))

    async def watch(self, client: Any) -> None:
        """Follow changes made elsewhere."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            # Redis away: the last login known keeps working meanwhile.
            with contextlib.suppress(RedisError):
                await self.refresh(client)

    def close(self) -> None:
        self._client.close()
