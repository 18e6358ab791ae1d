"""GET /healthz: no login; ok, or 503 with the reason while the alert log fails."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import requests

from tests.server import Server


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
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                response = requests.get(server.url + "/healthz", timeout=10)
                if response.status_code == 503:
                    break
                time.sleep(0.2)
            assert response.status_code == 503
            assert response.text.startswith("unhealthy: the alert log cannot be written")
            assert response.text.count("\n") == 1
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            response = requests.get(server.url + "/healthz", timeout=10)
            if response.status_code == 200:
                break
            time.sleep(0.2)
        assert response.text == "ok\n"  # the writer's retry succeeded: healthy again
