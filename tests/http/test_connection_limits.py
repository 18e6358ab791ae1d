"""What one connection can hold (kisalert.http.protocol): a time bound on the request
head, exact head limits whose answer reaches the client, the answer to a body that is
refused while it is still being sent, and pipelining after a non-websocket upgrade."""

from __future__ import annotations

import base64
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from kisalert.http.protocol import BoundedHttpToolsProtocol, with_timeouts
from tests.http.helpers import exchange
from tests.server import BASE_CONFIG, PASSWORD, USER, Server
from tests.slack import slack
from tests.wids.frames import make_config

AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
TIMESTAMP = b"GET /system/timestamp.json HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n" % (
    AUTH.encode()
)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server ends the connection within `seconds` (what it sends is read)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


# The bounds are settings; these tests run a server with short ones rather than wait
# out the defaults (10 s and 20 s, checked without waiting below). Each is still
# several trickle steps long, so a bound counted between bytes is told apart.
HEAD_SECONDS, BODY_SECONDS = 1.0, 1.5
STEP = 0.25  # between trickled bytes


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    config = BASE_CONFIG + (
        f"httpd_head_timeout={HEAD_SECONDS:g}\nhttpd_body_timeout={BODY_SECONDS:g}\n"
    )
    with Server(tmp_path_factory.mktemp("quick"), config) as server:
        yield server


def test_the_default_bounds_are_10_and_20_seconds() -> None:
    config = make_config()
    assert (config.head_timeout, config.body_timeout) == (10.0, 20.0)
    assert BoundedHttpToolsProtocol.head_refusal == (
        b"408 Request Timeout",
        "Request timeout (no complete request head in 10 s)",
    )
    assert BoundedHttpToolsProtocol.body_refusal == (
        b"408 Request Timeout",
        "Request timeout (the body did not arrive in 20 s)",
    )
    assert with_timeouts(10.0, 20.0) is BoundedHttpToolsProtocol


def test_a_connection_without_a_complete_head_is_closed(quick: Server) -> None:
    port = quick.port
    with (
        socket.create_connection(("127.0.0.1", port)) as silent,
        socket.create_connection(("127.0.0.1", port)) as slow,
    ):
        start = time.monotonic()
        closed = False
        # A head trickled a byte at a time never completes: the time bound is on the
        # whole head, not between bytes.
        for byte in TIMESTAMP:
            if time.monotonic() - start > slack(HEAD_SECONDS * 3):
                break
            try:
                slow.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            # Meanwhile everyone else is served.
            assert quick.get("/system/timestamp.json").status_code == 200
            time.sleep(STEP)
        assert closed or closed_within(slow, slack(HEAD_SECONDS * 3))
        assert time.monotonic() - start > HEAD_SECONDS - STEP  # not cut short
        assert closed_within(silent, slack(HEAD_SECONDS * 3))


def test_a_body_that_does_not_arrive_in_time_is_answered_408_and_closed(
    quick: Server,
) -> None:
    """A body trickled a byte at a time: the bound is on the whole body, counted from
    its head; everyone else is served meanwhile, and the connection ends."""
    head = (
        b"POST /alerts/raise_alert.cmd HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        % AUTH.encode()
    )
    with socket.create_connection(("127.0.0.1", quick.port)) as slow:
        slow.sendall(head + b"json=")
        slow.settimeout(STEP)
        start, answer = time.monotonic(), b""
        while not answer and time.monotonic() - start < slack(BODY_SECONDS * 5):
            try:
                slow.send(b"x")
                answer = slow.recv(65536)
            except TimeoutError:
                assert quick.get("/system/timestamp.json").status_code == 200
            except (BrokenPipeError, ConnectionResetError):
                break
        waited = time.monotonic() - start
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
        expected = f"\r\n\r\nRequest timeout (the body did not arrive in {BODY_SECONDS:g} s)\n"
        assert answer.endswith(expected.encode())
        assert waited > BODY_SECONDS - STEP, waited  # not cut short: the bound is the whole body
        assert closed_within(slow, 10)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /system/timestamp.json?p=" + b"u" * 70_000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (TIMESTAMP + b"X-Pad: " + b"h" * 100_000 + b"\r\n\r\n", b"431"),
        # Many headers, none long: the limit is on the section.
        (
            TIMESTAMP
            + b"X-Pad: "
            + b"h" * 1000
            + b"".join(b"X-%d: %s\r\n" % (i, b"h" * 1000) for i in range(70))
            + b"\r\n",
            b"431",
        ),
        # Far over the limit, sent in one go: the answer is not lost to a reset.
        (b"GET /" + b"u" * 1_000_000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (TIMESTAMP + b"X-Pad: " + b"h" * 1_000_000 + b"\r\n\r\n", b"431"),
    ],
    ids=["url-70k", "header-100k", "headers-71k", "url-1M", "header-1M"],
)
def test_a_head_over_the_limit_is_refused(
    shared_server: Server, request_bytes: bytes, status: bytes
) -> None:
    for _ in range(5):
        answer = exchange(shared_server, request_bytes)
        assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:80]
        assert answer.endswith(b" (limit 64 KiB)\n")


def test_a_head_just_under_the_limits_is_served(quick: Server) -> None:
    url = b"/system/timestamp.json?p=" + b"u" * 60_000
    head = TIMESTAMP.replace(b"/system/timestamp.json", url)
    # (The quick server closes the kept-alive connection sooner, which ends the read.)
    answer = exchange(quick, head + b"X-Pad: " + b"h" * 60_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:80]


@pytest.mark.parametrize(
    ("pad", "status", "text"),
    [
        (0, 413, b"Request body too large (limit 1 MiB)\n"),
        (200_000, 431, b"Request headers too large (limit 64 KiB)\n"),
    ],
    ids=["body", "head"],
)
def test_a_refusal_reaches_a_client_still_sending_its_body(
    shared_server: Server, pad: int, status: int, text: bytes
) -> None:
    """urllib sends the whole body before it reads: the answer must survive that."""
    body = b"x" * (5 << 20)
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    if pad:
        headers["X-Pad"] = "h" * pad
    for _ in range(20):
        request = urllib.request.Request(
            shared_server.url + "/alerts/raise_alerts.cmd", data=body, headers=headers
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == status
        assert caught.value.read() == text


def test_requests_after_a_non_websocket_upgrade_are_not_left_hanging(
    shared_server: Server,
) -> None:
    upgrade = TIMESTAMP + b"Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    with socket.create_connection(("127.0.0.1", shared_server.port)) as sock:
        sock.sendall(upgrade + TIMESTAMP + b"\r\n")
        sock.settimeout(10)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pytest.fail(f"the connection hangs after {answer[:200]!r}")
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:80]
    # Either every request is answered, or the first says the connection ends there.
    answers = answer.count(b"HTTP/1.1 ")
    assert answers == 2 or (answers == 1 and b"\r\nconnection: close\r\n" in answer)
