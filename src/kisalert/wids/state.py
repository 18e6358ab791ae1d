"""Bounded, expiring tables for detector state (per BSSID, per station, per source).

Every detector keeps its per-address state in a `Table`: at most `limit` entries,
the least recently used dropped first, and entries idle for `idle_us` of packet time
forgotten when `expire` runs. A flood of random MACs therefore costs a fixed amount
of memory, and forgets only the quietest addresses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

DEFAULT_LIMIT = 65_536
DEFAULT_IDLE_US = 3600 * 1_000_000


class Entry(Protocol):
    seen_us: int  # packet time of the entry's latest frame


K = TypeVar("K")
V = TypeVar("V", bound=Entry)


class Table(Generic[K, V]):
    __slots__ = ("_entries", "idle_us", "limit")

    def __init__(self, limit: int | None = None, idle_us: int = DEFAULT_IDLE_US) -> None:
        self._entries: OrderedDict[K, V] = OrderedDict()
        # Read at construction, so a test can shrink every table to see it saturate.
        self.limit = DEFAULT_LIMIT if limit is None else limit
        self.idle_us = idle_us

    def get(self, key: K, now_us: int) -> V | None:
        """The entry for `key`, marked as just seen."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            entry.seen_us = now_us
        return entry

    def peek(self, key: K) -> V | None:
        """The entry for `key`, without marking it seen."""
        return self._entries.get(key)

    def add(self, key: K, entry: V) -> V:
        entries = self._entries
        entries[key] = entry
        entries.move_to_end(key)
        if len(entries) > self.limit:
            entries.popitem(last=False)
        return entry

    def setdefault(self, key: K, now_us: int, make: Callable[[], V]) -> V:
        entry = self.get(key, now_us)
        if entry is None:
            entry = make()
            entry.seen_us = now_us
            self.add(key, entry)
        return entry

    def oldest(self) -> tuple[K, V] | None:
        """The least recently seen entry, if any."""
        entries = self._entries
        if not entries:
            return None
        key = next(iter(entries))
        return key, entries[key]

    def pop(self, key: K) -> V | None:
        return self._entries.pop(key, None)

    def expire(self, now_us: int) -> None:
        """Forget entries idle for longer than `idle_us` (oldest first, so this stops early)."""
        entries = self._entries
        cutoff = now_us - self.idle_us
        while entries:
            key, entry = next(iter(entries.items()))
            if entry.seen_us >= cutoff:
                break
            del entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def items(self) -> Iterator[tuple[K, V]]:
        return iter(list(self._entries.items()))
