"""API keys in the data directory: how the memory store keeps them across restarts.

(Alerts survive restarts through the alert log; keys are few and change rarely, so
the whole set is rewritten on every change.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from kisalert.credentials import ApiKey, ApiKeyError, stored_expiry
from kisalert.datadir import write_private

KEYS_FILE = "apikeys.json"


def _warn(message: str) -> None:
    # Loading happens before the message bus exists, so stderr is the one place to say it.
    print(f"kisalert: warning: {message}", file=sys.stderr)


class KeyFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[ApiKey]:
        """The keys saved last; none if there is no file. Raises ApiKeyError if the
        file cannot be read. A key whose expiry is not a time is left out, and one
        too far ahead is clamped, each with a warning on stderr: one bad entry (say,
        from an older version that took any lifetime) must not cost the others."""
        try:
            entries = orjson.loads(self.path.read_bytes())
            if not isinstance(entries, list):
                raise TypeError
            keys = []
            for entry in entries:
                key = self._entry(entry)
                if key is not None:
                    keys.append(key)
            return keys
        except FileNotFoundError:
            return []
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ApiKeyError(f"cannot read API keys from {self.path}: {exc}") from None
        except (TypeError, KeyError, ValueError):
            raise ApiKeyError(f"cannot read API keys from {self.path}: not a key list") from None

    def _entry(self, entry: dict[str, Any]) -> ApiKey | None:
        name = str(entry["name"])
        raw = entry["expires"]
        expires = stored_expiry(raw)
        if expires is None:
            _warn(f"API key {name!r} in {self.path} has no usable expiry ({raw!r}); left out")
            return None
        if expires != raw:
            _warn(
                f"API key {name!r} in {self.path} expires too far ahead ({raw!r}); "
                f"it now expires at {int(expires)}"
            )
        return ApiKey(name, str(entry["role"]), expires, str(entry["digest"]), entry.get("token"))

    def save(self, keys: Iterable[ApiKey]) -> None:
        entries = [
            {
                "name": key.name,
                "role": key.role,
                "expires": key.expires,
                "digest": key.digest,
                **({"token": key.token} if key.token is not None else {}),
            }
            for key in keys
        ]
        write_private(self.path, orjson.dumps(entries, option=orjson.OPT_INDENT_2))
