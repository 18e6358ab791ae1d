"""Running a real kisalert server for tests: a subprocess on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

from tests.slack import slack

USER = "admin"
PASSWORD = "test-password"
BASE_CONFIG = f"httpd_username={USER}\nhttpd_password={PASSWORD}\n"


TRANSPORTS = ["cookie", "query", "bearer"]


def via(how: str, token: str) -> dict[str, Any]:
    """requests keyword arguments that present `token` the way `how` says."""
    if how == "cookie":
        return {"cookies": {"KISMET": token}}
    if how == "query":
        return {"params": {"KISMET": token}}
    assert how == "bearer"
    return {"headers": {"Authorization": f"Bearer {token}"}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    check: Callable[[], Any], timeout: float = 20.0, what: str = "it", step: float = 0.05
) -> Any:
    """The first true value `check()` returns, polled until `timeout` seconds (times
    the slack factor) pass."""
    deadline = time.monotonic() + slack(timeout)
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


class Server:
    """A `kisalert serve` process. Use as a context manager or call stop()."""

    def __init__(
        self,
        workdir: Path,
        config: str | None = BASE_CONFIG,
        extra_args: Iterable[str] = (),
        port: int | None = None,
        env: dict[str, str] | None = None,
        own_group: bool = False,
    ) -> None:
        """With `own_group`, the server leads a process group, as a shell's job does."""
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = workdir / "data"
        args = [sys.executable, "-m", "kisalert", "serve", "--data-dir", str(self.data_dir)]
        args += ["--listen", f"127.0.0.1:{self.port}"]
        if config is not None:
            conf = workdir / "kisalert.conf"
            conf.write_text(config)
            args += ["--config", str(conf)]
        args += list(extra_args)
        self.stdout_path = workdir / "stdout.txt"
        self.stderr_path = workdir / "stderr.txt"
        # The child has its own copies of the descriptors: ours are closed at once.
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=err,
                env={**os.environ, **(env or {})},
                process_group=0 if own_group else None,
            )
        self.session = requests.Session()
        self.session.auth = (USER, PASSWORD)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.stderr()}")
            if "listening on" in self.stdout():
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    pass
            time.sleep(0.005)  # a start takes a few hundred ms: each poll is a file read
        self.stop()
        raise RuntimeError(f"server did not start: {self.stderr()}")

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    # Requests, authenticated as the admin unless told otherwise.

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url + path, timeout=10, **kwargs)

    def command(self, path: str, args: dict[str, Any], **kwargs: Any) -> requests.Response:
        """POST a command dictionary the classic way, as the form field `json`."""
        return self.post(path, data={"json": json.dumps(args)}, **kwargs)

    def define(self, name: str, **args: Any) -> requests.Response:
        body = {"name": name, "description": f"test alert {name}", **args}
        return self.command("/alerts/definitions/define_alert.cmd", body)

    def raise_alert(
        self, name: str, text: str = "something happened", **args: Any
    ) -> requests.Response:
        return self.command("/alerts/raise_alerts.cmd", {"name": name, "text": text, **args})

    def alerts(self) -> list[dict[str, Any]]:
        response = self.get("/alerts/all_alerts.json")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.session.close()
        return self.proc.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
