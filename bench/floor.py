"""The floor for bench/raise_throughput.py: the least work a raise can do in Python.

An ASGI app on kisalert's own server stack (`kisalert.serve.server_config`) that does
only what no raise can skip, each step in the cheapest form Python has: the login
found in a dict by its header, the body read, the `json=` form decoded the way
kisalert's fast path does it, the command's fields type-checked and its MAC checked
by a regular expression, the alert stamped, given Kismet's id (kisalert's own
checksum), built as a record in Kismet's key order, serialized once by orjson and
kept in a 50-alert backlog, and the answer sent.

Left out, because they are features rather than the raise itself: throttling, the
eventbus, the message bus, the alert log, metrics, the login lockout, session
expiry, name rules, id collisions, locations and every error message. So the floor
is not a server anyone could run; it says how close to the ceiling a raise written
in Python can come at all.

    .venv/bin/python bench/floor.py PORT
"""

from __future__ import annotations

import base64
import re
import sys
import time
from collections import deque
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from ceiling import serve_app  # bench/ is the script's own directory
from kisalert.alert_id import checksum

USER, PASSWORD = "bench", "bench-password"
LOGINS = {b"Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()): USER}
# header -> (class, severity, phy): the definition raise_throughput.py defines.
DEFINITIONS = {"BENCH": ("OTHER", 5, 0)}
MAC = re.compile(r"[0-9A-F]{2}(?::[0-9A-F]{2}){5}")
ZERO_MAC = "00:00:00:00:00:00"
BACKLOG = 50

START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"13")],
}
BODY: Message = {"type": "http.response.body", "body": b"Alert raised\n"}
REFUSED: Message = {
    "type": "http.response.start",
    "status": 400,
    "headers": [(b"content-length", b"0")],
}
EMPTY: Message = {"type": "http.response.body", "body": b""}

backlog: deque[tuple[int, bytes]] = deque()
by_id: dict[int, bytes] = {}


def _alert(command: dict[str, Any]) -> bool:
    definition = DEFINITIONS.get(command.get("name"))  # type: ignore[arg-type]
    text = command.get("text", "")
    mac = command.get("bssid", ZERO_MAC)
    channel = command.get("channel", "")
    if (
        definition is None
        or type(text) is not str
        or type(mac) is not str
        or MAC.fullmatch(mac) is None
        or type(channel) is not str
    ):
        return False
    klass, severity, phy = definition
    name: str = command["name"]
    now_us = time.time_ns() // 1000
    stamp = f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"
    hashed = f"{name} {severity} {phy} {stamp} {mac} {ZERO_MAC} {ZERO_MAC} {ZERO_MAC} {channel}"
    alert_id = checksum(hashed.encode())
    record = {
        "kismet.alert.device_key": "00_0",
        "kismet.alert.header": name,
        "kismet.alert.class": klass,
        "kismet.alert.hash": alert_id,
        "kismet.alert.severity": severity,
        "kismet.alert.phy_id": phy,
        "kismet.alert.timestamp": now_us / 1e6,
        "kismet.alert.transmitter_mac": mac,
        "kismet.alert.source_mac": ZERO_MAC,
        "kismet.alert.dest_mac": ZERO_MAC,
        "kismet.alert.other_mac": ZERO_MAC,
        "kismet.alert.channel": channel,
        "kismet.alert.frequency": 0,
        "kismet.alert.text": text,
        "kismet.alert.location": {},
    }
    data = orjson.dumps(record)
    if len(backlog) >= BACKLOG:
        by_id.pop(backlog.popleft()[0], None)
    backlog.append((alert_id, data))
    by_id[alert_id] = data
    return True


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    user = None
    for key, value in scope["headers"]:
        if key == b"authorization":
            user = LOGINS.get(value)
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    ok = False
    if user is not None and body.startswith(b"json="):
        try:
            raw = body[5:].replace(b"+", b" ").replace(b"%", b"\\x").decode("unicode_escape")
            command = orjson.loads(raw.encode("latin-1"))
        except (UnicodeDecodeError, orjson.JSONDecodeError):
            command = None
        ok = isinstance(command, dict) and _alert(command)
    if ok:
        await send(START)
        await send(BODY)
    else:
        await send(REFUSED)
        await send(EMPTY)


def main() -> None:
    serve_app(app, int(sys.argv[1]))


if __name__ == "__main__":
    main()
