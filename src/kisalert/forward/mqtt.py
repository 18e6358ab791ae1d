"""`type=mqtt`: each alert's record, as all_alerts.json gives it, published with QoS 1
to a topic made from a template (`kisalert/{header}`).

An alert counts as delivered once the broker has acknowledged it (PUBACK). A batch
is published in order, WINDOW messages to a write, on one connection that is kept
between sends and made again after any failure (mqtt_client.py speaks MQTT 3.1.1).
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Sequence

from kisalert.alert import Alert
from kisalert.forward.base import Outcome, OutputSpec, SpecError
from kisalert.forward.mqtt_client import ConnectRefused, MqttClient, MqttError
from kisalert.forward.mqtt_options import (
    DEFAULT_TOPIC,
    OPTIONS,
    REQUIRED,
    TopicTemplate,
    parse_broker,
)
from kisalert.forward.peer import Peer, flag, tls_context

# OUTPUTS finds a kind's options in its module, as for the other kinds.
__all__ = ["OPTIONS", "REQUIRED", "MqttOutput"]

# Publishes written at once, then awaiting their PUBACKs: the runner's whole batch
# (runner.BATCH) in one write.
WINDOW = 100
# The longest wait for the broker's CONNACK once connected.
CONNACK_SECONDS = 10.0
# Seconds between PINGREQs of an idle connection (the broker drops a client silent
# for one and a half of them).
KEEPALIVE = 60
# CONNACK's return codes for a refused login: bad user name or password, not authorized.
CREDENTIAL_CODES = frozenset({4, 5})


def _reason(exc: Exception, username: str | None) -> str:
    if isinstance(exc, ConnectRefused) and exc.code in CREDENTIAL_CODES:
        who = f"the credentials of {username!r}" if username else "an anonymous login"
        return str(exc).replace("the connection", who)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, socket.gaierror) and exc.strerror:
        return exc.strerror  # "Name or service not known"
    if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError) and exc.errno:
        # asyncio words a refusal "Connect call failed ('127.0.0.1', 1883)".
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


class MqttOutput:
    def __init__(
        self,
        name: str,
        broker: Peer,
        topic: TopicTemplate,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        retain: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.broker = broker
        self.topic = topic
        self.client_id = client_id
        self.username = username
        self._password = password
        self.retain = retain
        self._ssl = ssl_context
        self._client: MqttClient | None = None

    @classmethod
    def from_spec(cls, spec: OutputSpec) -> MqttOutput:
        options = spec.options
        broker = parse_broker(options["broker"])
        username, password = options.get("username") or None, options.get("password")
        if password is not None and username is None:
            raise SpecError("password= needs username= (MQTT sends no password alone)")
        client_id = options.get("client_id", f"kisalert-{spec.name}")
        if not client_id or "\x00" in client_id or len(client_id.encode()) > 65535:
            raise SpecError("client_id needs 1 to 65535 bytes, and no NUL")
        if any(len(text.encode()) > 65535 for text in (username or "", password or "")):
            raise SpecError("username and password hold at most 65535 bytes each")
        return cls(
            spec.name,
            broker,
            TopicTemplate.parse(options.get("topic", DEFAULT_TOPIC)),
            client_id,
            username,
            password,
            flag(spec.options, "retain", False),
            tls_context(spec.options, broker.scheme == "mqtts", "an mqtts:// broker"),
        )

    async def send(self, batch: Sequence[Alert]) -> Outcome:
        sent = 0
        try:
            client = await self._connect()
            while sent < len(batch):
                window = batch[sent : sent + WINDOW]
                messages = [(self.topic.render(alert), alert.json) for alert in window]
                await client.publish(messages, self.retain)
                sent += len(window)
        except (MqttError, OSError) as exc:
            if isinstance(exc, MqttError):
                sent += exc.delivered
            await self.close()
            return Outcome.retry(f"{self.broker}: {_reason(exc, self.username)}", sent=sent)
        return Outcome.delivered(len(batch))

    async def _connect(self) -> MqttClient:
        client = self._client
        if client is not None and client.usable:
            return client
        if client is not None:
            # Lost, or a publish cancelled half way (the runner's timeout=): what was
            # not acknowledged is published again on a new connection.
            client.abort()
        self._client = None
        self._client = await MqttClient.connect(
            self.broker.host,
            self.broker.port,
            self.client_id,
            username=self.username,
            password=self._password,
            ssl_context=self._ssl,
            keepalive=KEEPALIVE,
            connack_seconds=CONNACK_SECONDS,
        )
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
