"""A real `mosquitto` broker (Debian's package) on a free loopback port, and a
subscribing client, for the tests of `type=mqtt`.

The broker keeps its state in a temporary directory (`persistence true`), so a stop
and start comes back with the sessions of persistent subscribers and the messages
queued for them, as a production broker with persistence does.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests import processes
from tests.server import free_port, wait_for
from tests.slack import slack


def _binary(name: str) -> str:
    # Debian puts the broker in /usr/sbin, which a user's PATH may not hold.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise RuntimeError(f"{name} is not installed: `make test` installs mosquitto")
    return found


class Mosquitto:
    def __init__(
        self, users: dict[str, str] | None = None, tls: tuple[Path, Path] | None = None
    ) -> None:
        self.binary = _binary("mosquitto")
        self.users = users  # None: anonymous clients allowed
        self.tls = tls  # a certificate and its key; the certificate is its own CA
        self.port = free_port()
        # A TLS broker also listens in plain text here, for the test's subscriber.
        self.plain_port = free_port() if tls is not None else self.port
        self.dir = Path(tempfile.mkdtemp(prefix="kisalert-mqtt-"))
        self.log_path = self.dir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.write_config()

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        """The config (and password file) for `users`: takes effect at the next start."""
        lines = [
            f"listener {self.plain_port} 127.0.0.1",
            f"persistence true\npersistence_location {self.dir}/",
            f"log_dest file {self.log_path}\nlog_type all",
            # Run as root, it would drop to the user `mosquitto`, which cannot read here.
            "user root" if os.geteuid() == 0 else "",
        ]
        if self.tls is not None:
            # A listener's own settings follow its line.
            lines.append(f"listener {self.port} 127.0.0.1")
            lines.append(f"certfile {self.tls[0]}\nkeyfile {self.tls[1]}")
        if self.users is None:
            lines.append("allow_anonymous true")
        else:
            passwords = self.dir / "passwords"
            passwords.write_text("")
            for user, password in self.users.items():
                command = [_binary("mosquitto_passwd"), "-b", str(passwords), user, password]
                subprocess.run(command, check=True, capture_output=True)
            lines.append(f"allow_anonymous false\npassword_file {passwords}")
        (self.dir / "mosquitto.conf").write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        args = [self.binary, "-c", str(self.dir / "mosquitto.conf")]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + slack(10)
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                error = self._process.stderr.read() if self._process.stderr else b""
                self.stop()
                raise RuntimeError(f"mosquitto did not start on {self.port}: {error!r}")
            time.sleep(0.02)

    def stop(self) -> None:
        """A clean stop, which saves the persistent sessions."""
        process, self._process = self._process, None
        if process is None:
            return
        processes.stop(process)
        if process.stderr is not None:
            process.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    @contextmanager
    def hung(self) -> Iterator[None]:
        """Stopped (SIGSTOP) as a hung host would be: connections open, no answers."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self._process.pid, signal.SIGCONT)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def running_mosquitto(
    users: dict[str, str] | None = None, tls: tuple[Path, Path] | None = None
) -> Iterator[Mosquitto]:
    broker = Mosquitto(users, tls)
    broker.start()
    try:
        yield broker
    finally:
        broker.cleanup()


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool

    @property
    def alert_id(self) -> int:
        alert_id: int = orjson.loads(self.payload)["kismet.alert.hash"]
        return alert_id


class Subscriber:
    """A paho client on its own thread, subscribed with QoS 1, keeping what it gets.
    Connected once, as a context manager (paho's loop does not restart cleanly).

    `persistent` keeps its session on the broker while it is disconnected (and, with
    the broker's persistence, across a broker restart): messages published meanwhile
    wait for the next Subscriber of the same broker."""

    def __init__(
        self,
        broker: Mosquitto,
        topic: str = "#",
        persistent: bool = False,
        username: str | None = None,
        password: str | None = None,
        client_id: str = "test-subscriber",
    ) -> None:
        self.broker = broker
        self.topic = topic
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, *_: Any) -> None:
        self._subscribed.set()

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        got = Received(message.topic, bytes(message.payload), message.qos, message.retain)
        with self._lock:
            self.received.append(got)

    def __enter__(self) -> Self:
        """Connected and subscribed; what the broker held for it may follow."""
        self.client.connect("127.0.0.1", self.broker.plain_port)
        self.client.loop_start()
        if not self._subscribed.wait(slack(10)):
            raise AssertionError("the subscription was not acknowledged")
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def ids(self) -> list[int]:
        return [message.alert_id for message in self.messages()]

    def wait_for_count(self, count: int, timeout: float = 20.0) -> list[Received]:
        found: list[Received] = wait_for(
            lambda: got if len(got := self.messages()) >= count else None,
            timeout,
            f"{count} MQTT messages",
        )
        return found
