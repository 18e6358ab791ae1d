"""The server a fuzz module drives, and the invariants every answer and every module
must hold (issue 9): never a 5xx, never a connection dropped without an answer,
never a stall of other clients over STALL_LIMIT, memory back to its baseline."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import orjson
import requests
from hypothesis import settings

from kisalert.http.protocol import LINGER_TIME
from tests.fuzz import wire
from tests.http.helpers import define_fast
from tests.server import BASE_CONFIG, PASSWORD, USER, Server

# The bound on how long one request may hold up everyone else.
STALL_LIMIT = 0.100
# How long the bystander goes on after a property: a short one still gets pings.
PINGS_AFTER = 0.1
# RSS growth allowed between the warmed-up baseline and the end of a module. With the
# allocator told to give memory back (conftest.ALLOCATOR) and the caches filled by the
# warm-up, RSS came back within 0.5 MiB after each HTTP module, and within 2 MiB over
# 2 400 random examples; a leak of 2.5 KiB per request (a body, a protocol object, a
# task) over a module's ~1 500 requests, or one unbounded buffer, goes past this.
# (test_websocket has its own, coarser bound, and says why.)
MEMORY_TOLERANCE_KIB = 4 * 1024
BACKLOG = 100
# A connection's head timer outlives an upgraded websocket (test_websocket waits it
# out before measuring memory): shorter than the default 10 s, to wait less.
HEAD_TIMEOUT = 3.0
CONFIG = BASE_CONFIG + f"alertbacklog={BACKLOG}\nhttpd_head_timeout={HEAD_TIMEOUT:g}\n"
READONLY_KEY_NAME = "fuzz-readonly"
JSON_FORMATS = ("json", "prettyjson")
LINE_FORMATS = ("itjson", "ekjson")


PROFILE = "kisalert-fuzz"  # registered in conftest.py


def examples(default: int) -> settings:
    """The suite's Hypothesis profile with `default` examples per property, or
    FUZZ_EXAMPLES."""
    return settings(
        settings.get_profile(PROFILE),
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", default)),
    )


def check_refusal(answer: wire.Answer, context: str) -> None:
    """A 4xx is one line of plain text, or Kismet's `{}` (api.md)."""
    kind = answer.header(b"content-type") or b""
    if answer.body == b"{}":
        assert kind.startswith(b"application/json"), context
        return
    assert kind == b"text/plain; charset=utf-8", context
    body = answer.body
    assert body.endswith(b"\n") and body.count(b"\n") == 1 and b"\r" not in body, context
    assert len(body) > 1, context
    # One line also for readers that split on every Unicode line break.
    assert len(body.decode("utf-8").splitlines()) == 1, context


def check_json_body(body: bytes, fmt: str, context: str) -> None:
    """A 200 from a `{fmt}` route is what that format promises."""
    if fmt in JSON_FORMATS:
        orjson.loads(body)
    elif body:
        assert body.endswith(b"\n"), context
        for line in body.split(b"\n")[:-1]:
            orjson.loads(line)


def check_answer(answer: wire.Answer, request: bytes, fmt: str | None = None) -> None:
    context = f"request {request[:1500]!r}\nanswer {answer!r}"
    assert answer.status < 500, context
    if 400 <= answer.status < 500 and answer.body:
        check_refusal(answer, context)
    elif answer.status == 200 and fmt in JSON_FORMATS + LINE_FORMATS:
        assert (answer.header(b"content-type") or b"").startswith(b"application/json"), context
        assert fmt is not None
        check_json_body(answer.body, fmt, context)


class Pinger:
    """The bystander process of tests/fuzz/pinger.py."""

    def __init__(self, port: int, token: str, server_pid: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.pinger", str(port), token, str(server_pid)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[2],
        )

    def report(self) -> dict[str, Any]:
        """Latencies since the previous report."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("report\n")
        self.proc.stdin.flush()
        report: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return report

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Target:
    """A fuzz module's server, with the credentials the fuzz uses, its bystander, and
    what has been measured so far."""

    def __init__(self, server: Server, token: str, readonly_key: str) -> None:
        self.server = server
        self.token = token  # an admin session
        self.readonly_key = readonly_key
        self.pinger: Pinger | None = None
        self.baseline_kib = 0
        self.reports: list[tuple[str, dict[str, Any]]] = []
        self.in_flight: list[tuple[float, float, bytes]] = []

    @property
    def port(self) -> int:
        return self.server.port

    def __repr__(self) -> str:  # printed with every failing example
        return f"<Target {self.server.url}>"

    # Credentials, as the request strategies name them

    def credentials(
        self, how: str, session: str | None = None
    ) -> tuple[list[tuple[bytes, bytes]], str]:
        """Headers and a query string part for a way of logging in (with `session`
        for the admin session the fuzz and the bystander share)."""
        token, key = (session or self.token).encode(), self.readonly_key.encode()
        if how == "admin-cookie":
            return [(b"Cookie", b"KISMET=" + token)], ""
        if how == "admin-bearer":
            return [(b"Authorization", b"Bearer " + token)], ""
        if how == "admin-query":
            return [], "KISMET=" + token.decode()
        if how == "readonly-bearer":
            return [(b"Authorization", b"Bearer " + key)], ""
        if how == "readonly-cookie":
            return [(b"Cookie", b"other=1; KISMET=" + key + b"; KISMET=x")], ""
        if how == "garbage-bearer":
            return [(b"Authorization", b"Bearer \xff\x00" + token[:5])], ""
        if how == "garbage-basic":
            return [(b"Authorization", b"Basic !!notbase64")], ""
        if how == "both":  # a bad token beside a good one
            return [(b"Authorization", b"Bearer nope"), (b"Cookie", b"KISMET=" + token)], ""
        assert how == "none", how
        return [], ""

    def spare_session(self) -> str:
        """An admin session of its own, for a request that may end it (a logout):
        the shared one is the bystander's too."""
        answer = requests.post(
            self.server.url + "/session/login", auth=(USER, PASSWORD), timeout=10
        )
        assert answer.status_code == 200, answer.text
        return str(answer.cookies["KISMET"])

    # The invariants

    def send(
        self, request: bytes, fmt: str | None = None, head_request: bool = False
    ) -> wire.Answer:
        with self.timed(request):
            answer = wire.exchange(self.port, request, head_request)
        check_answer(answer, request, fmt)
        return answer

    @contextlib.contextmanager
    def timed(self, what: bytes) -> Iterator[None]:
        """Notes when `what` was in flight, to name the suspects of a stall."""
        start = time.time()
        try:
            yield
        finally:
            self.in_flight.append((start, time.time(), what[:400]))

    def suspects(self, started: float, latency: float) -> list[str]:
        """What was in flight while a ping that began at `started` waited."""
        return [
            f"{(end - start) * 1000:.0f} ms: {what!r}"
            for start, end, what in self.in_flight
            if start <= started + latency and end >= started
        ][:5]

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.server.proc.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    def settled_rss_kib(self, settle: float = LINGER_TIME + 0.5) -> int:
        """RSS once closed connections are gone (`settle` seconds) and it stops falling."""
        time.sleep(settle)
        rss = self.rss_kib()
        for _ in range(10):
            time.sleep(0.3)
            now = self.rss_kib()
            if now >= rss:
                break
            rss = now
        return min(rss, self.rss_kib())

    def assert_alive(self) -> None:
        assert self.server.proc.poll() is None, self.server.stderr()[-3000:]
        printed = self.server.stdout() + self.server.stderr()
        assert "Traceback" not in printed, printed[-5000:]

    @contextlib.contextmanager
    def watched(self, label: str) -> Iterator[None]:
        """Runs a fuzz property, then checks that the bystander was served all along,
        never waiting more than STALL_LIMIT, and that nothing went wrong inside."""
        assert self.pinger is not None
        self.pinger.report()
        self.in_flight = []
        yield
        time.sleep(PINGS_AFTER)
        report = self.pinger.report()
        slowest = sorted(self.in_flight, key=lambda item: item[0] - item[1])[:3]
        report["slowest"] = [(round(end - start, 3), what[:300]) for start, end, what in slowest]
        self.reports.append((label, report))
        self.assert_alive()
        assert not report["failures"], report
        assert report["count"] > 0, report
        net, raw = report["net"], report["raw"]
        worst, _, started = report["worst"][0]
        assert net["max"] < STALL_LIMIT, (
            f"another client waited {net['max'] * 1000:.0f} ms beyond scheduling delays "
            f"(limit {STALL_LIMIT * 1000:.0f}; {raw['max'] * 1000:.0f} ms in all); "
            f"net p50 {net['p50'] * 1000:.1f} ms, p99 {net['p99'] * 1000:.1f} ms over "
            f"{report['count']} pings; in flight meanwhile: "
            + "\n".join(self.suspects(started, worst))
        )

    def assert_memory_back(
        self, settle: float = LINGER_TIME + 0.5, tolerance_kib: int = MEMORY_TOLERANCE_KIB
    ) -> None:
        """RSS, `settle` seconds after the last request, is near the baseline."""
        # The backlog and the messagebus hold the fuzz's last alerts, up to 16 KiB of
        # text each: what they hold is bounded, and put back as it was.
        fill_backlog(self.server, self.token)
        rss = self.settled_rss_kib(settle)
        summary = "\n  ".join(
            f"{label}: n={r['count']} net max {r['net']['max'] * 1000:.1f} ms "
            f"p99 {r['net']['p99'] * 1000:.1f} ms; raw max {r['raw']['max'] * 1000:.1f} ms "
            f"p99 {r['raw']['p99'] * 1000:.1f} ms p50 {r['raw']['p50'] * 1000:.1f} ms; "
            f"slowest requests {r['slowest']}"
            for label, r in self.reports
        )
        print(f"\nRSS baseline {self.baseline_kib} KiB, after {rss} KiB; pings:\n  {summary}")
        assert rss - self.baseline_kib < tolerance_kib, (
            f"RSS grew from {self.baseline_kib} KiB to {rss} KiB (tolerance {tolerance_kib} KiB)"
        )

    # Setting up

    @classmethod
    def start(cls, server: Server) -> Target:
        response = server.get("/system/timestamp.json")
        assert response.status_code == 200, response.text
        token = response.cookies.get("KISMET")
        assert token
        key = server.command(
            "/auth/apikey/generate.cmd",
            {"name": READONLY_KEY_NAME, "role": "readonly", "duration": 0},
        )
        assert key.status_code == 200, key.text
        target = cls(server, str(token), key.text.strip())
        define_fast(server, "FUZZ")
        fill_backlog(server, target.token)
        return target

    def begin(self, warm_up: Callable[[], None] | None = None, rounds: int = 1) -> None:
        """Warm the server up (rounds of the standard requests, and `warm_up`), take
        the RSS baseline, and start the bystander."""
        for _ in range(rounds):
            for request in warm_up_requests(self):
                self.send(request, head_request=request.startswith(b"HEAD "))
            if warm_up is not None:
                warm_up()
        self.baseline_kib = self.settled_rss_kib() if rounds else 0
        self.pinger = Pinger(self.port, self.token, self.server.proc.pid)

    def close(self) -> None:
        if self.pinger is not None:
            self.pinger.close()


def fill_backlog(server: Server, token: str) -> None:
    """A full backlog of varied alerts for the reads to work over."""

    def raise_some(part: int) -> None:
        with requests.Session() as session:
            session.headers["Cookie"] = f"KISMET={token}"
            for i in range(part, BACKLOG, 4):
                args = {
                    "name": "FUZZ",
                    "text": f"alert {i} é 😀 <b>",
                    "bssid": f"00:11:22:33:44:{i % 256:02X}",
                    "channel": str(i % 14),
                }
                response = session.post(
                    server.url + "/alerts/raise_alerts.cmd",
                    data={"json": json.dumps(args)},
                    timeout=10,
                )
                assert response.status_code == 200, response.text

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(raise_some, range(4)))


def warm_up_requests(target: Target) -> list[bytes]:
    """Requests that take every route through its usual and its refusing paths, so
    that the baseline is taken with the server's caches and pools in use."""
    cookie = [(b"Cookie", b"KISMET=" + target.token.encode())]
    form = [*cookie, (b"Content-Type", b"application/x-www-form-urlencoded")]
    shaped = (
        b"json="
        + quote_plus(
            json.dumps(
                {
                    "fields": ["kismet.alert.text", ["kismet.alert.header", "h"]],
                    "regex": [["kismet.alert.text", "alert [0-9]+"]],
                }
            )
        ).encode()
    )
    requests_ = [
        wire.build(b"GET", b"/alerts/all_alerts.json", cookie),
        wire.build(b"POST", b"/alerts/all_alerts.prettyjson", form, shaped),
        wire.build(b"POST", b"/alerts/alerts_view.ekjson?page=0&length=10&search=a", form, shaped),
        wire.build(b"GET", b"/alerts/last-time/-60/alerts.itjson", cookie),
        wire.build(b"GET", b"/alerts/wrapped/last-time/0/alerts.json", cookie),
        wire.build(b"GET", b"/alerts/by-id/1/alert.json", cookie),
        wire.build(b"GET", b"/alerts/by-id/x/alert.json", cookie),
        wire.build(b"GET", b"/alerts/definitions.json", cookie),
        wire.build(b"GET", b"/messagebus/all_messages.json", cookie),
        wire.build(b"GET", b"/messagebus/last-time/0/messages.json", cookie),
        wire.build(b"GET", b"/auth/apikey/list.json", cookie),
        wire.build(b"HEAD", b"/system/timestamp.json", cookie),
        wire.build(b"GET", b"/session/check_session", cookie),
        wire.build(b"GET", b"/healthz", []),
        wire.build(b"GET", b"/alerts/all_alerts.json", []),
        wire.build(b"GET", b"/alerts/all_alerts.xml", cookie),
        wire.build(b"PUT", b"/alerts/all_alerts.json", cookie),
        wire.build(b"POST", b"/alerts/all_alerts.json", form, b"json=[1]"),
        wire.build(b"POST", b"/alerts/all_alerts.json", form, b'json={"regex":[["a","("]]}'),
        wire.build(b"POST", b"/alerts/all_alerts.json", form, b"x" * (1 << 20 | 1)),
        wire.build(b"POST", b"/alerts/raise_alerts.cmd", form, b'json={"name":"FUZZ","text":"w"}'),
        wire.build(b"POST", b"/alerts/raise_alerts.cmd", form, b'json={"name":"FUZZ"}'),
        wire.build(b"POST", b"/alerts/definitions/define_alert.cmd", form, b"json={}"),
        wire.build(b"GET", b"/x?" + b"q" * 70_000, cookie),
        wire.build(b"GET", b"/", [(b"X-Pad", b"p" * 70_000)]),
        b"\x16\x03\x01garbage\r\n\r\n",
    ]
    json_body = [*cookie, (b"Content-Type", b"application/json")]
    # Fill what the server caches (re2 keeps 128 compiled patterns, SQLite its pages)
    # and the allocator's high-water marks, as a long fuzz run does.
    for size in range(1, 140):
        spec = {
            "regex": [["kismet.alert.text", f"(?i).{{{size * 3}}}[0-9]"]],
            "fields": [["kismet.alert.text", "t" * size]],
        }
        requests_.append(
            wire.build(
                b"POST", b"/alerts/all_alerts.prettyjson", json_body, json.dumps(spec).encode()
            )
        )
    for alert_id in range(1, 4000, 97):
        requests_.append(wire.build(b"GET", b"/alerts/by-id/%d/alert.json" % alert_id, cookie))
    big = json.dumps({"fields": ["kismet.alert.text"] * 256, "x": "é" * 300_000}).encode()
    requests_ += [wire.build(b"POST", b"/alerts/all_alerts.prettyjson", json_body, big)] * 3
    return requests_
