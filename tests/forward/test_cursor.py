"""The cursor file: `forward/<name>.cursor` in the data directory, owner-only,
replaced whole."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kisalert.forward.cursor import Cursor, CursorError


def test_no_file_is_no_cursor(tmp_path: Path) -> None:
    assert Cursor(tmp_path, "siem").load() is None


def test_saved_then_loaded(tmp_path: Path) -> None:
    cursor = Cursor(tmp_path, "siem")
    cursor.save(1_764_420_000_123_456, 42)
    assert cursor.path == tmp_path / "forward" / "siem.cursor"
    assert Cursor(tmp_path, "siem").load() == 1_764_420_000_123_456
    cursor.save(1_764_420_000_123_457)
    assert cursor.load() == 1_764_420_000_123_457
    assert stat.S_IMODE(os.stat(cursor.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cursor.path.parent).st_mode) == 0o700
    assert sorted(p.name for p in cursor.path.parent.iterdir()) == ["siem.cursor"]


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"ts_us": "1"}', b'{"ts_us": -1}'])
def test_a_damaged_file_says_so(tmp_path: Path, content: bytes) -> None:
    cursor = Cursor(tmp_path, "siem")
    cursor.path.parent.mkdir()
    cursor.path.write_bytes(content)
    with pytest.raises(CursorError, match=r"siem\.cursor"):
        cursor.load()


def test_an_unwritable_directory_says_so(tmp_path: Path) -> None:
    (tmp_path / "forward").write_text("not a directory")
    with pytest.raises(CursorError, match=r"cannot write .*siem\.cursor"):
        Cursor(tmp_path, "siem").save(1)
