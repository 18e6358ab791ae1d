"""The /eventbus/events.ws websocket: subscribe to ALERT, MESSAGE, TIMESTAMP or `*`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import Callable
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from websockets.protocol import State

from kisalert.auth import READONLY
from kisalert.bus import ANY_TOPIC
from kisalert.errors import AlertError
from kisalert.eventbus import FORMATS, POLICY, TOPICS, EventHub, Shape, Subscriber
from kisalert.fields import Simplifier, simplifier
from kisalert.http.endpoint import authenticate, error_response, password_credentials, session_token
from kisalert.http.errors import HttpError
from kisalert.service import Service

# A subscription's `fields` is applied to every event it gets: its cost is per event,
# so it is bounded (README.md, eventbus).
CLOSE_REASON_BYTES = 123  # what a close frame has room for (RFC 6455)


class PolicyViolation(Exception):
    """A client frame that ends the connection with close code 1008; str() is the
    one-line reason sent with it."""


def _topic(frame: dict[str, Any], key: str) -> str | None:
    if key not in frame:
        return None
    topic = frame[key]
    if not isinstance(topic, str):
        raise PolicyViolation(f"{key} must be a string")
    return topic


def _fields(spec: object) -> Simplifier | None:
    if spec is None:
        return None
    # The shape and the limits (MAX_FIELDS, MAX_FIELDS_CHARS) are fields.py's, as on
    # every HTTP route.
    try:
        return simplifier(spec)
    except AlertError as exc:
        raise PolicyViolation(str(exc)) from None


def _shape(frame: dict[str, Any]) -> Shape:
    fmt = frame.get("format", "json")
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise PolicyViolation("format must be one of " + ", ".join(sorted(FORMATS)))
    return Shape(_fields(frame.get("fields")), fmt)


def parse_frame(text: str) -> tuple[tuple[str, Shape] | None, str | None] | None:
    """A client frame as (subscription, unsubscription); None for a frame that is not
    JSON, which is ignored. Every key the eventbus reads is checked here, whatever
    the topic: a malformed frame raises PolicyViolation."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None  # not JSON: ignored, as Kismet does
    if not isinstance(frame, dict):
        raise PolicyViolation("a frame must be a JSON object")
    subscribe = _topic(frame, "SUBSCRIBE")
    unsubscribe = _topic(frame, "UNSUBSCRIBE")
    shape = _shape(frame)
    return (None if subscribe is None else (subscribe, shape)), unsubscribe


def handle_frame(hub: EventHub, subscriber: Subscriber, text: str) -> None:
    """Apply one client frame to the subscriber's subscriptions."""
    parsed = parse_frame(text)
    if parsed is None:
        return
    subscription, unsubscribe = parsed
    if subscription is not None:
        topic, shape = subscription
        if topic in TOPICS or topic == ANY_TOPIC:
            hub.subscribe(subscriber, topic, shape)
    if unsubscribe is not None:
        hub.unsubscribe(subscriber, unsubscribe)


class TransportSink:
    """Writes the eventbus's ready-made frames straight to the connection's transport.

    This needs the protocol of uvicorn's `websockets` implementation (the one
    `kisalert serve` runs, without extensions): through the ASGI interface every
    frame would be a coroutine step and a system call of its own, per subscriber.
    The transport's write buffer limit is the protocol's own flow control: while it
    is full the hub holds frames back, and cuts the subscriber off when too many
    wait.
    """

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport: asyncio.WriteTransport = protocol.transport  # uvloop's is not a subclass
        self._high_water: int = self._transport.get_write_buffer_limits()[1]
        self._waiter: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, websocket: WebSocket) -> TransportSink | None:
        protocol = getattr(getattr(websocket, "_send", None), "__self__", None)
        transport = getattr(protocol, "transport", None)
        usable = (
            transport is not None
            and all(
                callable(getattr(transport, name, None))
                for name in (
                    "write",
                    "is_closing",
                    "get_write_buffer_size",
                    "get_write_buffer_limits",
                )
            )
            and callable(getattr(protocol, "drain", None))
            and not getattr(protocol, "extensions", True)
        )
        return cls(protocol) if usable else None

    def room(self) -> bool:
        # The transport pauses the protocol above the high-water mark, so a full
        # buffer always has a drain to wait for.
        return self._transport.get_write_buffer_size() <= self._high_water

    def write(self, data: bytes) -> None:
        # A connection that is closing takes no more frames; its close code is on the way.
        if self._protocol.state is State.OPEN and not self._transport.is_closing():
            self._transport.write(data)

    def when_room(self, callback: Callable[[], None]) -> None:
        if self._waiter is None:
            self._waiter = asyncio.create_task(self._wait(callback))

    async def _wait(self, callback: Callable[[], None]) -> None:
        try:
            await self._protocol.drain()
        except Exception:  # the connection is gone: nothing more to send
            return
        finally:
            self._waiter = None
        callback()

    def close(self) -> None:
        if self._waiter is not None:
            self._waiter.cancel()


async def events(service: Service, websocket: WebSocket) -> None:
    login = service.login
    # Before the check, as for sessions: a password changed during it ends the connection.
    stamp = login.stamp
    try:
        principal, _ = await authenticate(service, websocket)
        if not principal.may(READONLY):
            raise HttpError(403, f"Forbidden: this needs the {READONLY} role")
    except HttpError as exc:
        try:
            await websocket.send_denial_response(error_response(exc))
        except RuntimeError:  # the server cannot send an HTTP answer to a websocket
            await websocket.close(POLICY)
        return
    token = session_token(websocket)
    still_valid = None
    if password_credentials(websocket) is not None:
        # Logged in by password: the connection lives as long as the password, changed
        # over the API or by `kisalert passwd`.
        async def still_valid() -> bool:
            return hmac.compare_digest(login.stamp, stamp)

    elif token:
        # Logged in by session or key: the connection lives only as long as it does.
        async def still_valid() -> bool:
            return await service.principal_for_token(token) is not None

    subscriber = Subscriber(service.config.eventbus_queue, still_valid)
    await websocket.accept()
    sink = TransportSink.of(websocket)
    if sink is None:
        await websocket.close(1011, "the eventbus needs uvicorn's websockets protocol")
        return
    hub = service.events
    hub.attach(subscriber, sink)
    receiver = asyncio.create_task(_receive(hub, websocket, subscriber))
    # Cut off for falling behind, or its login revoked: the hub closes the subscriber.
    closing = asyncio.create_task(subscriber.closing.wait())
    tasks = (receiver, closing)
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hub.detach(subscriber)
        sink.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        if websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                reason = subscriber.close_reason.encode()[:CLOSE_REASON_BYTES]
                await websocket.close(subscriber.close_code or 1000, reason.decode(errors="ignore"))


async def _receive(hub: EventHub, websocket: WebSocket, subscriber: Subscriber) -> None:
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", errors="replace")
            if text is not None:
                handle_frame(hub, subscriber, text)
    except PolicyViolation as exc:
        subscriber.close(POLICY, str(exc))
    except WebSocketDisconnect:
        subscriber.close(1000)
