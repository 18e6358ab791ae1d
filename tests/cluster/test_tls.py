"""`rediss://` with a password in the URL: replicas talk to Redis over TLS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.certs import self_signed
from tests.cluster.replicas import replicas
from tests.redis_server import running_redis
from tests.server import free_port


def test_replicas_share_a_redis_over_tls_with_a_password(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with running_redis(password="a-redis-password", tls=(cert, key)) as redis:
        assert redis.url.startswith("rediss://:a-redis-password@127.0.0.1:")
        with replicas(tmp_path, redis) as (a, b):
            assert a.define("OVERTLS", throttle="10/sec", burst="10/sec").status_code == 200
            assert a.raise_alert("OVERTLS", "encrypted on the way").status_code == 200
            texts = [
                x["kismet.alert.text"] for x in b.alerts() if x["kismet.alert.header"] == "OVERTLS"
            ]
            assert texts == ["encrypted on the way"]
            # The password never reaches a log line or a banner.
            for server in (a, b):
                assert "a-redis-password" not in server.stdout() + server.stderr()


def test_a_replica_that_speaks_plain_redis_to_a_tls_port_says_so_and_exits(
    tmp_path: Path,
) -> None:
    cert, key = self_signed(tmp_path)
    with running_redis(tls=(cert, key)) as redis:
        plain = redis.url.replace("rediss://", "redis://").split("?")[0]
        (tmp_path / "data").mkdir()
        done = subprocess.run(
            [sys.executable, "-m", "kisalert", "serve", "--data-dir", str(tmp_path / "data"),
             "--listen", f"127.0.0.1:{free_port()}", "--store", plain],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            "kisalert: cannot use Redis at 127.0.0.1:"
        ), done.stderr
