"""The eventbus websocket against hostile clients (issue 9): malformed frames, bytes a
header cannot hold, and subscriptions too big to apply to every event. A real server
over real sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from tests.server import BASE_CONFIG, Server
from tests.test_eventbus import (
    LOGIN,
    PATH,
    POLICY,
    Client,
    define_pair,
    plain_alert,
    raise_async,
    run,
    settle,
    ws_url,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
MAX_FIELDS = 256  # README.md, eventbus


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("eventbus-hardening"), BASE_CONFIG) as server:
        yield server


@pytest.fixture
def log_mark(server: Server) -> tuple[int, int]:
    """How much the server has printed before the test: what follows is the test's."""
    return len(server.stdout()), len(server.stderr())


def assert_healthy(server: Server, mark: tuple[int, int]) -> None:
    """Still serving, and nothing went wrong inside it during the test."""
    assert server.get("/system/timestamp.json").status_code == 200
    printed = server.stdout()[mark[0] :] + server.stderr()[mark[1] :]
    assert "Traceback" not in printed, printed


def refusal(server: Server, frame: Any) -> tuple[int | None, str]:
    """Subscribe to TIMESTAMP, send `frame`, and read until the server closes: the
    close code and reason (None if it stays open)."""

    async def main() -> tuple[int | None, str]:
        async with websockets.connect(ws_url(server, LOGIN), max_size=None) as ws:
            client = Client(ws)
            await client.send({"SUBSCRIBE": "TIMESTAMP"})
            await client.send(frame)
            code = await client.closed()
            return code, ws.close_reason or ""

    return run(main())


def served(server: Server, frame: Any) -> str:
    """Subscribe to TIMESTAMP, send `frame`, then a frame the server answers at once (a
    misspelled topic): its ERROR answer. Frames are read in order, so the answer shows
    that `frame` was read and let through, and the connection is still open after it."""

    async def main() -> str:
        async with websockets.connect(ws_url(server, LOGIN), max_size=None) as ws:
            client = Client(ws)
            await client.send({"SUBSCRIBE": "TIMESTAMP"})
            await client.send(frame)
            await client.send({"SUBSCRIBE": "ALERTS"})
            while True:
                answer = json.loads(await client.text())
                if "ERROR" in answer:
                    assert ws.close_code is None
                    return str(answer["ERROR"])
                assert list(answer) == ["TIMESTAMP"], answer

    return run(main())


def assert_policy_close(server: Server, mark: tuple[int, int], frame: Any, *words: str) -> None:
    code, reason = refusal(server, frame)
    assert code == POLICY, (code, reason)
    assert reason and "\n" not in reason, reason
    for word in words:
        assert word in reason, reason
    assert_healthy(server, mark)


# Malformed frames: every key the eventbus reads is type-checked


@pytest.mark.parametrize(
    "frame",
    [
        {"SUBSCRIBE": "ALERT", "format": []},
        {"SUBSCRIBE": "ALERT", "format": {}},
        {"SUBSCRIBE": "ALERT", "format": 5},
        {"SUBSCRIBE": "ALERT", "format": None},
        {"SUBSCRIBE": "ALERT", "format": "xml"},
        {"SUBSCRIBE": "*", "format": ["json"]},
        {"SUBSCRIBE": "ALERT", "fields": "kismet.alert.text"},
        {"SUBSCRIBE": "ALERT", "fields": {"kismet.alert.text": 1}},
        {"SUBSCRIBE": "ALERT", "fields": [5]},
        {"SUBSCRIBE": "ALERT", "fields": [[]]},
        {"SUBSCRIBE": "ALERT", "fields": [["a", "b", "c"]]},
        {"SUBSCRIBE": "ALERT", "fields": [{"a": "b"}]},
        {"SUBSCRIBE": "ALERT", "fields": [["a", 5]]},
        {"SUBSCRIBE": "ALERT", "fields": ["/"]},
        {"SUBSCRIBE": "NOSUCHTOPIC", "format": []},
        {"UNSUBSCRIBE": "ALERT", "format": []},
        {"UNSUBSCRIBE": 5},
        {"SUBSCRIBE": "ALERT", "UNSUBSCRIBE": []},
    ],
    ids=json.dumps,
)
def test_malformed_frame_closes_1008_with_reason(
    server: Server, log_mark: tuple[int, int], frame: dict[str, Any]
) -> None:
    assert_policy_close(server, log_mark, frame)


def test_good_frames_still_work_after_the_checks(
    server: Server, log_mark: tuple[int, int], unique_name: str
) -> None:
    sync = define_pair(server, unique_name)

    def shaped(frame: dict[str, Any], text: str) -> bool:
        return frame.get("ALERT") == {"kismet_alert_text": text}

    async def main() -> None:
        async with websockets.connect(ws_url(server, LOGIN)) as ws:
            client = Client(ws)
            fields = ["kismet.alert.text"]
            await client.send({"SUBSCRIBE": "ALERT", "fields": fields, "format": "ekjson"})
            await client.send({"UNSUBSCRIBE": "MESSAGE", "fields": None})
            await settle(client, server, sync, shaped)
            await client.send({"UNSUBSCRIBE": "ALERT"})
            await client.send({"SUBSCRIBE": "ALERT", "format": "itjson"})
            await settle(client, server, sync, plain_alert(sync))
            await raise_async(server, unique_name, "live")
            await client.until(lambda f: plain_alert(unique_name)(f, "live"))

    run(main())
    assert_healthy(server, log_mark)


# The size of `fields`


def test_fields_at_the_limit_are_accepted(server: Server, unique_name: str) -> None:
    sync = define_pair(server, unique_name)
    fields = ["kismet.alert.text"] + [f"no.such.{i}" for i in range(MAX_FIELDS - 1)]

    def shaped(frame: dict[str, Any], text: str) -> bool:
        record = frame.get("ALERT")
        return isinstance(record, dict) and record.get("kismet.alert.text") == text

    async def main() -> None:
        async with websockets.connect(ws_url(server, LOGIN)) as ws:
            client = Client(ws)
            await client.send({"SUBSCRIBE": "ALERT", "fields": fields})
            await settle(client, server, sync, shaped)
            await raise_async(server, unique_name, "live")
            frame = (await client.until(lambda f: shaped(f, "live")))[-1]
            assert len(frame["ALERT"]) == MAX_FIELDS

    run(main())


# 40 000 entries still fit in one 1 MiB frame; 100 000 (which cut raising to 14/s)
# no longer reach the eventbus at all (test_a_frame_over_1_mib_closes_1009).
@pytest.mark.parametrize("count", [MAX_FIELDS + 1, 40_000])
def test_too_many_fields_close_1008(server: Server, log_mark: tuple[int, int], count: int) -> None:
    fields = [f"kismet.alert.f{i}" for i in range(count)]
    assert_policy_close(server, log_mark, {"SUBSCRIBE": "ALERT", "fields": fields}, str(MAX_FIELDS))


def test_too_long_fields_close_1008(server: Server, log_mark: tuple[int, int]) -> None:
    fields = [["x" * 4000, "y" * 4000] for _ in range(10)]
    assert_policy_close(server, log_mark, {"SUBSCRIBE": "*", "fields": fields}, "fields")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ([["kismet.alert.text", f"copy{i}"] for i in range(MAX_FIELDS)], ["entry 2", "entry 1"]),
        (["kismet.alert.location/kismet.common.location.alt", "kismet.alert.location"], ["inside"]),
        ([["kismet.alert.text", "n" * 5000]], ["names", "4096"]),
    ],
    ids=["renames", "inside", "names"],
)
def test_fields_that_multiply_a_record_close_1008(
    server: Server, log_mark: tuple[int, int], fields: list[Any], words: list[str]
) -> None:
    assert_policy_close(server, log_mark, {"SUBSCRIBE": "ALERT", "fields": fields}, *words)


# Bytes over 0x7F in the upgrade request


def upgrade(server: Server, target: bytes, *headers: bytes) -> tuple[int, bytes]:
    """Send a websocket upgrade request as raw bytes: the answer's status and the
    rest of what the server sent before closing (or, after a 101, nothing)."""
    request = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % target
    request += b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
    request += b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n"
    request += b"".join(header + b"\r\n" for header in headers) + b"\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        status = int(data.split(b" ", 2)[1])
        if status != 101:
            while chunk := sock.recv(65536):
                data += chunk
    _, _, body = data.partition(b"\r\n\r\n")
    return status, body


@pytest.mark.parametrize("value", [b"\xff", b"caf\xc3\xa9", b"a\x80b\xfe"])
def test_high_bytes_in_a_header_are_no_server_error(
    server: Server, log_mark: tuple[int, int], value: bytes
) -> None:
    status, body = upgrade(server, PATH.encode(), b"X-Test: " + value)
    assert status == 401
    assert body.startswith(b"Login required: send HTTP Basic auth"), body
    status, _ = upgrade(server, f"{PATH}?{LOGIN}".encode(), b"X-Test: " + value)
    assert status == 101
    assert_healthy(server, log_mark)


def test_high_bytes_in_the_cookie_are_no_server_error(
    server: Server, log_mark: tuple[int, int]
) -> None:
    status, _ = upgrade(server, f"{PATH}?{LOGIN}".encode(), b"Cookie: other=\xff\xfe")
    assert status == 101
    assert_healthy(server, log_mark)


def test_high_bytes_in_the_url_are_400(server: Server, log_mark: tuple[int, int]) -> None:
    # httptools refuses the request line before the websocket protocol sees it.
    status, _ = upgrade(server, PATH.encode() + b"?x=\xff&" + LOGIN.encode())
    assert status == 400
    assert_healthy(server, log_mark)


def test_a_frame_over_1_mib_closes_1009(server: Server, log_mark: tuple[int, int]) -> None:
    """uvicorn's default took 16 MiB frames from any readonly subscriber."""
    code, _ = refusal(server, {"SUBSCRIBE": "ALERT", "pad": "x" * (1 << 20)})
    assert code == 1009
    # Under the limit: read and served (the unknown key is ignored), the connection open.
    answer = served(server, {"SUBSCRIBE": "ALERT", "pad": "x" * ((1 << 20) - 100)})
    assert answer.startswith("unknown topic 'ALERTS'")
    assert_healthy(server, log_mark)
