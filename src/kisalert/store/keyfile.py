"""API keys in the data directory: how the memory store keeps them across restarts.

(Alerts survive restarts through the alert log; keys are few and change rarely, so
the whole set is rewritten on every change.)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import orjson

from kisalert.apikeys import ApiKey, ApiKeyError
from kisalert.datadir import write_private

KEYS_FILE = "apikeys.json"


class KeyFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[ApiKey]:
        """The keys saved last; none if there is no file. Raises ApiKeyError if the
        file cannot be read."""
        try:
            entries = orjson.loads(self.path.read_bytes())
            return [
                ApiKey(
                    str(entry["name"]),
                    str(entry["role"]),
                    float(entry["expires"]),
                    str(entry["digest"]),
                    entry.get("token"),
                )
                for entry in entries
            ]
        except FileNotFoundError:
            return []
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ApiKeyError(f"cannot read API keys from {self.path}: {exc}") from None
        except (TypeError, KeyError, ValueError):
            raise ApiKeyError(f"cannot read API keys from {self.path}: not a key list") from None

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
