"""The /eventbus/events.ws websocket: subscribe to ALERT, MESSAGE, TIMESTAMP or `*`."""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import hmac
from collections.abc import Callable
from typing import Any, NamedTuple

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
from kisalert.http.origin import REFUSED, cross_site
from kisalert.service import Service

# A subscription's `fields` is applied to every event it gets: its cost is per event,
# so it is bounded (README.md, eventbus).
CLOSE_REASON_BYTES = 123  # what a close frame has room for (RFC 6455)


# The key of a frame that answers a client frame which made no sense. Kismet sends no
# such frame; its web UI hands a frame only to the topics it subscribed to, so it
# passes this one by.
ERROR = "ERROR"
TOPICS_TEXT = "ALERT, MESSAGE, TIMESTAMP, *"
# How alike (difflib's ratio, upper-cased) an unknown topic must be to one of kisalert's
# to be answered as a typo of it.
TYPO_CUTOFF = 0.75
MAX_QUOTED = 40  # characters of a client's key or topic an answer quotes


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


def _quoted(text: str) -> str:
    return repr(text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "...")


def _no_command(frame: dict[str, Any]) -> str:
    """What to answer a frame with neither SUBSCRIBE nor UNSUBSCRIBE."""
    others = [key for key in frame if key not in ("fields", "format")]
    example = 'e.g. {"SUBSCRIBE": "ALERT"}'
    if not others:
        return f"no command in the frame; commands are SUBSCRIBE, UNSUBSCRIBE ({example})"
    case = " in upper case" if others[0].upper() in ("SUBSCRIBE", "UNSUBSCRIBE") else ""
    return (
        f"unknown command {_quoted(others[0])}; commands are SUBSCRIBE, UNSUBSCRIBE{case}"
        f" ({example})"
    )


def typo_of(topic: str) -> str | None:
    """The topic of kisalert's that an unknown `topic` most likely misspells, if any.

    In Kismet any name is a topic (its own, its plugins' and its helpers' events), so
    its clients subscribe to many that kisalert never publishes; those stay unanswered,
    as Kismet leaves them. Only a name close to one of kisalert's (in another case, or
    a letter off) is taken for a mistake.
    """
    if len(topic) > MAX_QUOTED:
        return None
    name = topic.upper()
    if name in TOPICS:
        return name
    close = difflib.get_close_matches(name, sorted(TOPICS), n=1, cutoff=TYPO_CUTOFF)
    return close[0] if close else None


def _check_topic(topic: str | None) -> str | None:
    """What is wrong with a topic taken for a misspelt one of kisalert's, else None."""
    if topic is None or topic in TOPICS or topic == ANY_TOPIC:
        return None
    meant = typo_of(topic)
    if meant is None:
        return None
    return f"unknown topic {_quoted(topic)}; topics are {TOPICS_TEXT} (did you mean {meant}?)"


class Frame(NamedTuple):
    """A client frame, read: what to subscribe and unsubscribe, and what to answer."""

    subscription: tuple[str, Shape] | None
    unsubscribe: str | None
    mistake: str | None  # the text of an ERROR frame


def parse_frame(text: str) -> Frame | None:
    """A client frame, read; None for a frame that is not JSON, which is ignored.
    Every key the eventbus reads is checked here, whatever the topic: a malformed
    frame raises PolicyViolation. A well-formed frame with no command, or with a
    misspelt topic, has a mistake (and the misspelt topic is left out)."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None  # not JSON: ignored, as Kismet does
    if not isinstance(frame, dict):
        raise PolicyViolation("a frame must be a JSON object")
    subscribe = _topic(frame, "SUBSCRIBE")
    unsubscribe = _topic(frame, "UNSUBSCRIBE")
    shape = _shape(frame)
    if subscribe is None and unsubscribe is None:
        return Frame(None, None, _no_command(frame))
    wrong_in = _check_topic(subscribe)
    wrong_out = _check_topic(unsubscribe)
    mistakes = [wrong for wrong in (wrong_in, wrong_out) if wrong is not None]
    return Frame(
        None if subscribe is None or wrong_in is not None else (subscribe, shape),
        None if wrong_out is not None else unsubscribe,
        "; ".join(dict.fromkeys(mistakes)) or None,
    )


def handle_frame(hub: EventHub, subscriber: Subscriber, text: str) -> None:
    """Apply one client frame to the subscriber's subscriptions; answer a mistake."""
    frame = parse_frame(text)
    if frame is None:
        return
    if frame.subscription is not None:
        topic, shape = frame.subscription
        if topic in TOPICS or topic == ANY_TOPIC:
            hub.subscribe(subscriber, topic, shape)
    if frame.unsubscribe is not None:
        hub.unsubscribe(subscriber, frame.unsubscribe)
    if frame.mistake is not None:
        hub.tell(subscriber, {ERROR: frame.mistake})


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
        if cross_site(websocket, service.config):
            raise HttpError(403, REFUSED)
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
