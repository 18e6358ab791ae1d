"""Where each output is in the alert log: `forward/<name>.cursor` in the data directory.

The cursor is the stamp of the last alert the output is done with (delivered,
filtered out, held back or given up on). Stamps are strictly increasing in raise
order and unique, and unlike rowids they are not handed out again once a prune has
emptied the table. The file is replaced atomically, and only after the output said
delivered, so a crash repeats at most what was being sent and never skips.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

import orjson

from kisalert.datadir import write_private

FORWARD_DIR = "forward"


class Cursors(Protocol):
    """Where the outputs' cursors are kept: the data directory, or with several
    replicas the shared store, so the replica that forwards next resumes there."""

    async def load(self, name: str) -> int | None:
        """The stamp (µs) output `name` is done with, or None. Raises CursorError."""
        ...

    async def save(self, name: str, stamp_us: int, alert_id: int | None) -> None:
        """Raises CursorError."""
        ...


class CursorError(Exception):
    """The cursor file cannot be read or written; str() says why in one line."""


class CursorUnavailable(CursorError):
    """Where the cursors are kept cannot be reached now (Redis away): unlike a damaged
    cursor, nothing is wrong with the position, so it is worth waiting for."""


class Cursor:
    def __init__(self, data_dir: Path, name: str) -> None:
        self.path = data_dir / FORWARD_DIR / f"{name}.cursor"

    def load(self) -> int | None:
        """The stamp (µs) the output is done with, or None if it has no cursor yet."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CursorError(f"cannot read {self.path}: {exc.strerror}") from None
        try:
            doc = orjson.loads(data)
            stamp = doc["ts_us"]
        except (orjson.JSONDecodeError, TypeError, KeyError):
            raise CursorError(f"{self.path} is not a cursor file") from None
        if type(stamp) is not int or stamp < 0:
            raise CursorError(f"{self.path} holds no usable position")
        return stamp

    def save(self, stamp_us: int, alert_id: int | None = None) -> None:
        """Replace the file. Blocking (it syncs): call it off the event loop."""
        try:
            self.path.parent.mkdir(mode=0o700, exist_ok=True)
            write_private(self.path, orjson.dumps({"ts_us": stamp_us, "id": alert_id}) + b"\n")
        except OSError as exc:
            raise CursorError(f"cannot write {self.path}: {exc.strerror}") from None


class CursorFiles:
    """One file per output under `forward/` in the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir

    async def load(self, name: str) -> int | None:
        return Cursor(self._data_dir, name).load()

    async def save(self, name: str, stamp_us: int, alert_id: int | None) -> None:
        # A sync of a small file: off the event loop, where raises are answered.
        await asyncio.to_thread(Cursor(self._data_dir, name).save, stamp_us, alert_id)
