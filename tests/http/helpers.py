"""Helpers shared by the HTTP tests: quick definitions, checked raises, one test's alerts."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from tests.records import only
from tests.server import PASSWORD, USER, Server

DEFINE = "/alerts/definitions/define_alert.cmd"
RAISE = "/alerts/raise_alerts.cmd"


def define_fast(server: Server, name: str, **args: Any) -> None:
    """A definition that lets many raises through without throttling."""
    response = server.define(name, throttle="100000/min", burst="100000/min", **args)
    assert response.status_code == 200, response.text


def raise_ok(server: Server, name: str, text: str = "something happened", **args: Any) -> None:
    response = server.raise_alert(name, text, **args)
    assert response.status_code == 200, response.text


def raise_pipelined(server: Server, bodies: Sequence[dict[str, Any]], batch: int = 100) -> None:
    """Raise an alert for each of `bodies`, in order, each answered 200: as one client
    on one keep-alive connection that writes `batch` requests at a time before it reads
    their answers (HTTP/1.1 pipelining; the server answers them in order, one after the
    other). Thousands of raises through `requests`, a round trip each, took seconds."""
    login = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    head = (
        f"POST {RAISE} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Basic {login}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        for start in range(0, len(bodies), batch):
            pending = []
            for body in bodies[start : start + batch]:
                form = urlencode({"json": json.dumps(body)}).encode()
                pending.append(f"{head}Content-Length: {len(form)}\r\n\r\n".encode() + form)
            sock.sendall(b"".join(pending))
            for body in bodies[start : start + batch]:
                status, answer = _answer(reader)
                assert status == 200, (body, status, answer)
        reader.close()


def _answer(reader: Any) -> tuple[int, bytes]:
    """The status and body of the next answer on a connection (read with Content-Length)."""
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, reader.read(length)


def mine(server: Server, name: str) -> list[dict[str, Any]]:
    """The server's alerts with this header, oldest first."""
    return only(server.alerts(), name)


def mine_regex(*names: str) -> list[list[str]]:
    """Regex rules that keep only the alerts with these headers."""
    return [["kismet.alert.header", f"^{name}$"] for name in names]


def mine_filter(*names: str) -> dict[str, Any]:
    """A command dictionary that keeps only the alerts with these headers."""
    return {"regex": mine_regex(*names)}


def definitions(server: Server) -> list[dict[str, Any]]:
    response = server.get("/alerts/definitions.json")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def definition(server: Server, name: str) -> dict[str, Any] | None:
    """The definition with this header, or None when there is none."""
    found = [d for d in definitions(server) if d["kismet.alert.definition.header"] == name]
    assert len(found) <= 1
    return found[0] if found else None


def exchange(server: Server, head: bytes, more: int = 0) -> bytes:
    """Send `head`, then `more` bytes of filler as long as the server takes them;
    everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        try:
            sock.sendall(head)
            for _ in range(more // 65536):
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it stopped reading: what matters is what it said
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer
