"""A bystander client, run as its own process
(`python -m tests.fuzz.pinger PORT TOKEN SERVER_PID`): it asks a cheap route over one
keep-alive connection every few milliseconds while the fuzz runs, and on each
`report` line from stdin prints (one JSON line) the latencies seen since the
previous report.

It is a separate process so that its timings are not the fuzz's: in the test
process it would wait for the GIL behind Hypothesis generating examples.

Each ping's latency is also given net of scheduling delay: the time the kernel kept
the server's event-loop thread, or this pinger, runnable but off every CPU (from
/proc/.../schedstat). On a machine shared with other test runs that delay alone can
reach hundreds of milliseconds; what is left is the time the server itself spent
on other work, or blocked, before answering: the stall a request caused.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
from typing import Any

PATH = "/system/timestamp.json"
PAUSE = 0.005  # seconds between pings: the server spends most of its time on the fuzz


def run_queue_wait(pid: int, tid: int) -> float:
    """Seconds thread `tid` of `pid` has spent runnable but waiting for a CPU."""
    with open(f"/proc/{pid}/task/{tid}/schedstat") as stats:
        return int(stats.read().split()[1]) / 1e9


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.raw: list[float] = []
        self.net: list[float] = []
        self.worst: list[tuple[float, float, float]] = []  # (net, raw, wall time at start)
        self.failures: list[str] = []

    def add(self, raw: float, net: float, started: float) -> None:
        with self.lock:
            self.raw.append(raw)
            self.net.append(net)
            self.worst = sorted([*self.worst, (net, raw, started)], reverse=True)[:5]

    def fail(self, reason: str) -> None:
        with self.lock:
            self.failures.append(reason)

    def take(self) -> dict[str, Any]:
        with self.lock:
            report = {
                "count": len(self.raw),
                "raw": summary(self.raw),
                "net": summary(self.net),
                "worst": self.worst,
                "failures": self.failures[:10],
            }
            self.raw, self.net, self.worst, self.failures = [], [], [], []
            return report


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies) or [0.0]
    count = len(ordered)
    return {
        "max": ordered[-1],
        "p50": ordered[count // 2],
        "p99": ordered[min(count - 1, count * 99 // 100)],
    }


def ping(port: int, token: str, server_pid: int, stats: Stats, stop: threading.Event) -> None:
    headers = {"Cookie": f"KISMET={token}"}
    me, my_tid = os.getpid(), threading.get_native_id()
    connection: http.client.HTTPConnection | None = None
    while not stop.is_set():
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.time()
        waited = run_queue_wait(server_pid, server_pid) + run_queue_wait(me, my_tid)
        start = time.perf_counter()
        try:
            connection.request("GET", PATH, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            stats.fail(f"{type(exc).__name__}: {exc}")
            connection.close()
            connection = None
            continue
        raw = time.perf_counter() - start
        waited = run_queue_wait(server_pid, server_pid) + run_queue_wait(me, my_tid) - waited
        stats.add(raw, max(0.0, raw - waited), started)
        if response.status != 200:
            stats.fail(f"status {response.status}")
        time.sleep(PAUSE)


def main() -> None:
    port, token, server_pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    stats, stop = Stats(), threading.Event()
    worker = threading.Thread(target=ping, args=(port, token, server_pid, stats, stop), daemon=True)
    worker.start()
    for line in sys.stdin:
        if line.strip() == "report":
            print(json.dumps(stats.take()), flush=True)
    stop.set()
    worker.join(timeout=35)


if __name__ == "__main__":
    main()
