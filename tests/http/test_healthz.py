"""GET /healthz: no login; ok, or 503 with the reason while the alert log fails."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import requests

from tests.server import Server, wait_for


def healthz(server: Server, status: int) -> str | None:
    """The text /healthz answers, if it answers with `status`."""
    response = requests.get(server.url + "/healthz", timeout=10)
    return response.text if response.status_code == status else None


def test_healthz_needs_no_login(shared_server: Server) -> None:
    response = requests.get(shared_server.url + "/healthz", timeout=10)
    assert response.status_code == 200
    assert response.text == "ok\n"
    assert response.headers["content-type"].startswith("text/plain")


def test_healthz_is_503_while_the_log_cannot_be_written(tmp_path: Path) -> None:
    with Server(tmp_path) as server:
        assert server.define("HEALTHX", throttle="100/sec", burst="100/sec").status_code == 200
        time.sleep(0.5)  # the writer has committed the definition and is idle
        # Another process holding the write lock past the writer's busy timeout (5 s).
        blocker = sqlite3.connect(server.data_dir / "kisalert.kismet", isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            server.raise_alert("HEALTHX", "while locked")
            text = wait_for(lambda: healthz(server, 503), 15, "a 503")
            assert text.startswith("unhealthy: the alert log cannot be written")
            assert text.count("\n") == 1
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        text = wait_for(lambda: healthz(server, 200), 15, "healthy again")
        assert text == "ok\n"  # the writer's retry succeeded: healthy again
