"""Table: bounded, least recently used first out, idle entries expire."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kisalert.wids import state
from kisalert.wids.state import Table


@dataclass
class Entry:
    seen_us: int = 0


def test_the_least_recently_seen_goes_first_when_full() -> None:
    table: Table[int, Entry] = Table(limit=3)
    for key in range(3):
        table.add(key, Entry(key))
    assert table.get(0, 10) is not None  # 0 is now the most recent
    table.add(3, Entry(11))
    assert 1 not in table and 0 in table and len(table) == 3


def test_idle_entries_expire_and_recent_ones_stay() -> None:
    table: Table[str, Entry] = Table(idle_us=100)
    table.setdefault("old", 0, Entry)
    table.setdefault("new", 150, Entry)
    table.expire(200)
    assert "old" not in table and "new" in table


def test_peek_does_not_refresh() -> None:
    table: Table[str, Entry] = Table(idle_us=100)
    table.setdefault("a", 0, Entry)
    assert table.peek("a") is not None
    table.expire(101)
    assert "a" not in table


def test_default_limit_is_read_when_a_table_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "DEFAULT_LIMIT", 2)
    table: Table[int, Entry] = Table()
    for key in range(5):
        table.add(key, Entry())
    assert len(table) == 2
