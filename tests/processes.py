"""Stopping the real servers the tests start (redis-server, mosquitto)."""

from __future__ import annotations

import subprocess

from tests.slack import slack


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, so the server stops cleanly (and saves what it persists); SIGKILL if
    it has not within 10 s (times the slack factor)."""
    process.terminate()
    try:
        process.wait(slack(10))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
