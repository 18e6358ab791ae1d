"""The /eventbus/events.ws websocket: subscribe to ALERT, MESSAGE, TIMESTAMP or `*`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from kisalert.auth import READONLY
from kisalert.bus import ANY_TOPIC
from kisalert.errors import AlertError
from kisalert.eventbus import FORMATS, POLICY, TOPICS, Shape, Subscriber
from kisalert.fields import simplifier
from kisalert.http.endpoint import authenticate, error_response, password_credentials, session_token
from kisalert.http.errors import HttpError
from kisalert.service import Service


class PolicyViolation(Exception):
    """A client frame that ends the connection with close code 1008."""


def _shape(frame: dict[str, Any]) -> Shape:
    fmt = frame.get("format", "json")
    if fmt not in FORMATS:
        raise PolicyViolation(f"unknown format {fmt!r}")
    try:
        simplify = simplifier(frame.get("fields"))
    except AlertError as exc:
        raise PolicyViolation(str(exc)) from None
    return Shape(simplify, fmt)


def handle_frame(subscriber: Subscriber, text: str) -> None:
    """Apply one client frame to the subscriber's subscriptions."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return  # not JSON: ignored, as Kismet does
    if not isinstance(frame, dict):
        raise PolicyViolation("a frame must be a JSON object")
    if "SUBSCRIBE" in frame:
        topic = frame["SUBSCRIBE"]
        if not isinstance(topic, str):
            raise PolicyViolation("a topic must be a string")
        if topic in TOPICS or topic == ANY_TOPIC:
            subscriber.subscriptions[topic] = _shape(frame)
    if "UNSUBSCRIBE" in frame:
        topic = frame["UNSUBSCRIBE"]
        if not isinstance(topic, str):
            raise PolicyViolation("a topic must be a string")
        subscriber.subscriptions.pop(topic, None)


def _text_header(size: int) -> bytes:
    """The header of an unmasked, final websocket text frame (RFC 6455)."""
    if size < 126:
        return bytes((0x81, size))
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big")
    return bytes((0x81, 127)) + size.to_bytes(8, "big")


class FrameWriter:
    """Sends queued frames, several in one socket write when they have piled up.

    One write per frame costs a system call each, which dominated fan-out to many
    subscribers. Where the server is uvicorn's `websockets` protocol (the one this
    server runs, without extensions), frames are encoded here and written together,
    then the protocol's own flow control waits while the socket's buffer is full.
    Anywhere else, frames go out one by one through the ASGI interface.
    """

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        protocol = getattr(getattr(websocket, "_send", None), "__self__", None)
        usable = (
            protocol is not None
            and hasattr(protocol, "transport")
            and callable(getattr(protocol, "ensure_open", None))
            and callable(getattr(protocol, "drain", None))
            and not getattr(protocol, "extensions", True)
        )
        self._protocol: Any = protocol if usable else None

    async def send(self, frames: list[bytes]) -> None:
        protocol = self._protocol
        if protocol is None:
            for frame in frames:
                await self._websocket.send_text(frame.decode())
            return
        await protocol.ensure_open()  # raises once the connection is closing
        parts: list[bytes] = []
        for frame in frames:
            parts.append(_text_header(len(frame)))
            parts.append(frame)
        protocol.transport.write(b"".join(parts))
        await protocol.drain()


MAX_FRAMES_PER_WRITE = 64


async def _send_frames(websocket: WebSocket, subscriber: Subscriber) -> None:
    writer = FrameWriter(websocket)
    frames = subscriber.frames
    while True:
        await subscriber.ready.wait()
        subscriber.ready.clear()
        while frames and subscriber.close_code is None:
            count = min(len(frames), MAX_FRAMES_PER_WRITE)
            await writer.send([frames.popleft() for _ in range(count)])
        if subscriber.close_code is not None:
            return


async def events(service: Service, websocket: WebSocket) -> None:
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
    if password_credentials(websocket) is None and token:
        # Logged in by session or key: the connection lives only as long as it does.
        def still_valid() -> bool:
            return service.principal_for_token(token) is not None

    subscriber = Subscriber(service.config.eventbus_queue, still_valid)
    await websocket.accept()
    service.events.attach(subscriber)
    sender = asyncio.create_task(_send_frames(websocket, subscriber))
    receiver = asyncio.create_task(_receive(websocket, subscriber))
    # A subscriber cut off for falling behind may be stuck in a send: wait for the
    # cut itself too, not only for the tasks.
    closing = asyncio.create_task(subscriber.closing.wait())
    tasks = (sender, receiver, closing)
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        service.events.detach(subscriber)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        if websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(subscriber.close_code or 1000)


async def _receive(websocket: WebSocket, subscriber: Subscriber) -> None:
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", errors="replace")
            if text is not None:
                handle_frame(subscriber, text)
    except PolicyViolation:
        subscriber.close(POLICY)
    except WebSocketDisconnect:
        subscriber.close(1000)
