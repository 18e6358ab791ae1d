"""API keys: named tokens with a role and an optional lifetime, kept in the data directory.

A key's token is shown once, when it is made. Unless `httpd_allow_auth_view` is on,
only its SHA-256 is stored, so a copy of the data directory does not reveal it
(tokens are 128 random bits, so a fast hash is enough).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import orjson

from kisalert.auth import Principal
from kisalert.clock import Clock
from kisalert.datadir import write_private

KEYS_FILE = "apikeys.json"
ROLE_RULE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
MAX_NAME = 128


class ApiKeyError(Exception):
    """A request about keys that cannot be done; str() says why."""


class DuplicateKey(ApiKeyError):
    pass


class UnknownKey(ApiKeyError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    role: str
    expires: float  # epoch seconds; 0 = never
    digest: str
    token: str | None = None  # kept only when viewing is allowed

    def live(self, now: float) -> bool:
        return self.expires == 0 or now < self.expires


class ApiKeys:
    def __init__(self, data_dir: Path, clock: Clock, allow_view: bool = False) -> None:
        self._path = data_dir / KEYS_FILE
        self._clock = clock
        self._allow_view = allow_view
        self._by_name: dict[str, ApiKey] = {}
        self._by_digest: dict[str, ApiKey] = {}

    def load(self) -> None:
        try:
            entries = orjson.loads(self._path.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ApiKeyError(f"cannot read API keys from {self._path}: {exc}") from None
        for entry in entries:
            self._add(
                ApiKey(
                    entry["name"],
                    entry["role"],
                    float(entry["expires"]),
                    entry["digest"],
                    entry.get("token"),
                )
            )

    def _add(self, key: ApiKey) -> None:
        self._by_name[key.name] = key
        self._by_digest[key.digest] = key

    def _save(self) -> None:
        entries = [
            {
                "name": k.name,
                "role": k.role,
                "expires": k.expires,
                "digest": k.digest,
                **({"token": k.token} if k.token is not None else {}),
            }
            for k in self._by_name.values()
        ]
        write_private(self._path, orjson.dumps(entries, option=orjson.OPT_INDENT_2))

    def generate(self, name: str, role: str, duration: int) -> str:
        if not name or len(name) > MAX_NAME:
            raise ApiKeyError(f"a key name is 1-{MAX_NAME} characters")
        if not ROLE_RULE.fullmatch(role):
            raise ApiKeyError("a role is 1-64 letters, digits, '_', '-' or '.'")
        if duration < 0:
            raise ApiKeyError("duration must be 0 (never expires) or more seconds")
        if name in self._by_name:
            raise DuplicateKey(f"an API key named {name!r} exists")
        token = secrets.token_hex(16).upper()
        expires = self._clock.now() + duration if duration else 0.0
        key = ApiKey(name, role, expires, digest(token), token if self._allow_view else None)
        self._add(key)
        self._save()
        return token

    def revoke(self, name: str) -> None:
        key = self._by_name.pop(name, None)
        if key is None:
            raise UnknownKey(f"no API key named {name!r}")
        self._by_digest.pop(key.digest, None)
        self._save()

    def lookup(self, token: str) -> Principal | None:
        """The key's principal, if `token` is a live key."""
        key = self._by_digest.get(digest(token))
        if key is None or not key.live(self._clock.now()):
            return None
        return Principal(key.name, key.role)

    def all(self) -> list[ApiKey]:
        return list(self._by_name.values())

    @property
    def allow_view(self) -> bool:
        return self._allow_view
