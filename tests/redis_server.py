"""A real `redis-server` (Debian's package) on a free loopback port, for the tests of
several kisalert servers sharing one Redis (scale.md).

It keeps an append-only file, so a restart (`restart()`) comes back with its data, as
a production Redis with persistence does.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests import processes
from tests.server import free_port
from tests.slack import slack


class RedisServer:
    def __init__(self, password: str | None = None, tls: tuple[Path, Path] | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: `make test` installs it")
        self.binary = binary
        self.password = password
        # A certificate and its key: TLS only (`rediss://`), the certificate its own CA.
        self.tls = tls
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="kisalert-redis-"))
        self._process: subprocess.Popen[bytes] | None = None
        # It also listens on a unix socket here (plain, never TLS).
        self.socket_path = self._dir / "redis.sock"

    def unix_url(self, db: int = 0) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"unix://{auth}{self.socket_path}?db={db}"

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        if self.tls is not None:
            return f"rediss://{auth}127.0.0.1:{self.port}/0?ssl_ca_certs={self.tls[0]}"
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        ports = ["--port", str(self.port)]
        if self.tls is not None:
            cert, key = self.tls
            ports = ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            ports += ["--tls-cert-file", str(cert), "--tls-key-file", str(key)]
            ports += ["--tls-ca-cert-file", str(cert)]
        args = [
            self.binary,
            *ports,
            "--bind", "127.0.0.1",
            "--dir", str(self._dir),
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
        ]  # fmt: skip
        if self.password:
            args += ["--requirepass", self.password]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + slack(10)
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    if self.tls is not None:
                        return  # accepting connections; the handshake is the client's
                    sock.sendall(b"PING\r\n")
                    answer = sock.recv(64)
                    if answer.startswith((b"+PONG", b"-NOAUTH")):
                        return
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        processes.stop(process)
        self._process = None

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    @contextmanager
    def hung(self) -> Iterator[None]:
        """Redis stopped (SIGSTOP) as a hung host would be: its port still takes
        connections, and nothing answers."""
        assert self._process is not None
        pid = self._process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


@contextmanager
def running_redis(
    password: str | None = None, tls: tuple[Path, Path] | None = None
) -> Iterator[RedisServer]:
    server = RedisServer(password, tls)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
