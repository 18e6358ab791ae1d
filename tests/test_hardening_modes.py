"""File modes in the data directory: every file is its owner's alone, the alert log and
its -wal and -shm files included (issue 9)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import Server

LOG = "kisalert.kismet"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a file created with the default mode is 0644 (the
    server subprocess inherits it)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(data: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir() if p.is_file()}


def use(server: Server) -> None:
    """Make the server write its log: a definition and an alert."""
    define = server.define("MODES", throttle="100/min", burst="100/min")
    assert define.status_code == 200, define.text
    assert server.raise_alert("MODES").status_code == 200


@pytest.mark.usefixtures("umask_022")
def test_every_data_file_is_private_while_running_and_after(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        use(server)
        running = modes(server.data_dir)
        # The log is in WAL mode: its -wal and -shm files exist while it is open.
        assert {LOG, LOG + "-wal", LOG + "-shm"} <= set(running)
        assert {name: mode for name, mode in running.items() if mode != 0o600} == {}
    after = modes(tmp_path / "data")
    assert LOG in after
    assert {name: mode for name, mode in after.items() if mode != 0o600} == {}


@pytest.mark.usefixtures("umask_022")
def test_a_log_left_world_readable_is_made_private(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        use(server)
    log = tmp_path / "data" / LOG
    log.chmod(0o644)  # as an older version created it
    with Server(tmp_path) as server:
        use(server)
        running = modes(server.data_dir)
        assert running[LOG] == 0o600
        assert running[LOG + "-wal"] == 0o600
        assert running[LOG + "-shm"] == 0o600
        assert len(server.alerts()) >= 2
