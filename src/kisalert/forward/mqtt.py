"""`type=mqtt`: each alert's record, as all_alerts.json gives it, published with QoS 1
to a topic made from a template (`kisalert/{header}`).

An alert counts as delivered once the broker has acknowledged it (PUBACK). A batch
is published in order, up to WINDOW ahead of the acknowledgements, on one
connection that is kept between sends and made again after any failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import ssl
from collections import deque
from collections.abc import Sequence

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from kisalert.alert import Alert
from kisalert.forward.base import Outcome, OutputSpec, SpecError
from kisalert.forward.mqtt_options import (
    DEFAULT_TOPIC,
    OPTIONS,
    REQUIRED,
    Broker,
    TopicTemplate,
    parse_broker,
)
from kisalert.forward.peer import flag, tls_context

# OUTPUTS finds a kind's options in its module, as for the other kinds.
__all__ = ["OPTIONS", "REQUIRED", "MqttOutput"]

# Publishes awaiting their PUBACK at once: paho's own in-flight limit.
WINDOW = 20
CLOSE_SECONDS = 1.0
# The longest wait for the broker's CONNACK. aiomqtt does not notice a connection
# closed before it (a broker restarting as we connect) and would wait forever.
CONNACK_SECONDS = 10.0
# CONNACK codes for a refused login; paho gives MQTT 3.1.1's 4 (bad user name or
# password) and 5 (not authorized) as these, their 5.0 equivalents.
CREDENTIAL_CODES = frozenset({134, 135})
# paho's own log would repeat, at every retry, what the status and the messagebus say
# once (a connection reset, a refusal): kept quiet unless a handler is added here.
PAHO_LOG = logging.getLogger("kisalert.forward.mqtt.paho")
PAHO_LOG.propagate = False
PAHO_LOG.addHandler(logging.NullHandler())


def _reason(exc: BaseException, username: str | None) -> str:
    rc = exc.rc if isinstance(exc, aiomqtt.MqttCodeError) else None
    if isinstance(rc, ReasonCode) and rc.packetType == PacketTypes.CONNACK:
        if rc.value in CREDENTIAL_CODES:
            who = f"the credentials of {username!r}" if username else "an anonymous login"
            return f"the broker refused {who} ({rc})"
        return f"the broker refused the connection ({rc})"
    if str(exc) == "Operation timed out":  # aiomqtt's words for its own timeout
        return f"no CONNACK within {CONNACK_SECONDS:g} s"
    if isinstance(rc, int):
        return paho.error_string(rc).rstrip(".")  # "The client is not currently connected"
    # aiomqtt words an OSError as "[Errno 111] Connection refused".
    return re.sub(r"^\[Errno -?\d+\] ", "", str(exc)) or type(exc).__name__


def _abandon(publishes: deque[asyncio.Task[None]]) -> None:
    for publish in publishes:
        if publish.done() and not publish.cancelled():
            publish.exception()  # failed too: seen, so asyncio does not log it
        publish.cancel()


class _Connection:
    """A connected client, and a task that ends when the connection does."""

    def __init__(self, client: aiomqtt.Client, stack: contextlib.AsyncExitStack) -> None:
        self.client = client
        self._stack = stack
        self.lost = asyncio.create_task(self._watch(), name="mqtt connection")
        self.broken = False  # a send failed or was cancelled half way

    async def _watch(self) -> str:
        # The public way to hear of a lost connection: the message iterator (nothing
        # is subscribed, so it only ever ends) raises when it goes.
        try:
            async for _ in self.client.messages:
                pass
        except aiomqtt.MqttError:
            pass  # its cause says no more than this (paho's "Unspecified error")
        return "connection lost"

    async def acked(self, publish: asyncio.Task[None]) -> None:
        """Wait for `publish`'s PUBACK. Raises MqttError if the connection goes first."""
        done, _ = await asyncio.wait((publish, self.lost), return_when=asyncio.FIRST_COMPLETED)
        if publish not in done:
            publish.cancel()
            raise aiomqtt.MqttError(self.lost.result())
        publish.result()

    async def close(self) -> None:
        self.lost.cancel()
        with contextlib.suppress(aiomqtt.MqttError, OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await self._stack.aclose()  # DISCONNECT, if the connection is up


class MqttOutput:
    def __init__(
        self,
        name: str,
        broker: Broker,
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
        self._connection: _Connection | None = None

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
        try:
            connection = await self._connect()
        except aiomqtt.MqttError as exc:
            return Outcome.retry(f"{self.broker}: {_reason(exc, self.username)}")
        sent = 0
        window: deque[asyncio.Task[None]] = deque()
        connection.broken = True  # until every publish is acknowledged
        try:
            for alert in batch:
                window.append(asyncio.create_task(self._publish(connection.client, alert)))
                if len(window) == WINDOW:
                    await connection.acked(window.popleft())
                    sent += 1
            while window:
                await connection.acked(window.popleft())
                sent += 1
        except aiomqtt.MqttError as exc:
            _abandon(window)
            await self.close()
            return Outcome.retry(f"{self.broker}: {_reason(exc, self.username)}", sent=sent)
        except BaseException:
            _abandon(window)  # cancelled (the runner's timeout): the connection is broken
            raise
        connection.broken = False
        return Outcome.delivered(len(batch))

    async def _publish(self, client: aiomqtt.Client, alert: Alert) -> None:
        # No timeout of aiomqtt's own: the runner's timeout= bounds the whole send.
        await client.publish(
            self.topic.render(alert), alert.json, qos=1, retain=self.retain, timeout=math.inf
        )

    async def _connect(self) -> _Connection:
        connection = self._connection
        if connection is not None and not connection.broken and not connection.lost.done():
            return connection
        await self.close()
        client = aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            username=self.username,
            password=self._password,
            identifier=self.client_id,
            logger=PAHO_LOG,
            tls_context=self._ssl,
            # Else paho checks the host name of an unverified certificate itself (and
            # True would turn the context's own check off).
            tls_insecure=self._ssl.verify_mode == ssl.CERT_NONE if self._ssl else None,
            timeout=CONNACK_SECONDS,
            max_inflight_messages=WINDOW,
        )
        client.pending_calls_threshold = WINDOW  # it warns of more than this
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(client)  # nothing to undo if it fails
        self._connection = _Connection(client, stack)
        return self._connection

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
