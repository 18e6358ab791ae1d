"""Silences made over the API, and every silence's hit count, in the data directory:
how the memory store keeps them across a restart.

A damaged file costs the silences, with a warning, not the server's start: alerts
are then forwarded that a silence would have held back, which is the safe side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from kisalert.datadir import warn_unreadable, write_private
from kisalert.forward.silences import Silence

SILENCES_FILE = "silences.json"


class SilenceFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> tuple[list[Silence], dict[str, int]]:
        try:
            document = orjson.loads(self.path.read_bytes())
            entries, hits = document["silences"], document["hits"]
            if not isinstance(entries, list) or not isinstance(hits, dict):
                raise TypeError
            silences = [Silence.from_stored(entry) for entry in entries]
            counts = {str(key): int(value) for key, value in hits.items()}
        except FileNotFoundError:
            return [], {}
        except (OSError, orjson.JSONDecodeError, TypeError, KeyError, ValueError) as exc:
            then = "alerts are forwarded as if there were none"
            warn_unreadable(self.path, "the silences", exc, "a silence list", then)
            return [], {}
        return silences, counts

    def save(self, silences: Iterable[Silence], hits: Mapping[str, int]) -> None:
        document = {"silences": [silence.stored() for silence in silences], "hits": dict(hits)}
        write_private(self.path, orjson.dumps(document))
