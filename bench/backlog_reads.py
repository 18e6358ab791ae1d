"""Read latency and memory of a real kisalert server at several backlog sizes.

For each backlog size N it starts `kisalert serve --memory` with `alertbacklog=N`,
fills the backlog with N varied alerts over HTTP, reads the server's resident memory,
then times reads from one keep-alive client: the whole backlog, a `last-time` slice
of the newest 10 ms, and an `alerts_view` page (page mode, as Kismet's web UI
asks for it, with and without a search). Meanwhile another client raises an alert
every 20 ms, timing how long raises wait while big answers are built. Prints a table.

    .venv/bin/python bench/backlog_reads.py [--backlogs 50,10000,100000] [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).parent))

import raise_throughput as rt


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def fill(port: int, count: int, clients: int = 32) -> float:
    """Raise `count` alerts with varied texts and addresses; the newest one's stamp."""
    next_index = 0

    async def client() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while next_index < count:
            i = next_index
            next_index += 1
            mac = ":".join(f"{(i >> shift) & 0xFF:02X}" for shift in (40, 32, 24, 16, 8, 0))
            body = {
                "name": "BENCH",
                "text": f"Deauthentication flood from {mac}, {i % 97 + 3} frames in 1s",
                "bssid": mac,
                "source": mac,
                "channel": str(i % 13 + 1),
            }
            status, _ = await rt.http(reader, writer, rt.post("/alerts/raise_alerts.cmd", body))
            assert status == 200, status
        writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _, body = await rt.http(reader, writer, rt.get("/alerts/last-time/-1/alerts.json"))
    writer.close()
    newest = json.loads(body)
    return float(newest[-1]["kismet.alert.timestamp"]) if newest else 0.0


async def timed_reads(port: int, path: str, seconds: float) -> tuple[list[float], int]:
    """Sequential GETs of `path` for about `seconds` (at least 5): latencies, body size."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    request = rt.get(path)
    latencies: list[float] = []
    size = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(latencies) < 5:
        start = time.perf_counter()
        status, body = await rt.http(reader, writer, request)
        latencies.append(time.perf_counter() - start)
        assert status == 200, (status, body[:200])
        size = len(body)
    writer.close()
    return latencies, size


class Prober(threading.Thread):
    """Raises one alert every 20 ms on its own connection, timing each: how long a
    raise waits while the server builds big answers for someone else."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        request = rt.post("/alerts/raise_alerts.cmd", {"name": "PROBE", "text": "probe"})
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            stream = sock.makefile("rb")
            while not self.stop.wait(0.02):
                start = time.perf_counter()
                sock.sendall(request)
                length = 0
                while (line := stream.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                stream.read(length)
                self.latencies.append(time.perf_counter() - start)


def paths(newest: float, backlog: int) -> list[tuple[str, str]]:
    page = "page=0&length=50&sort=kismet.alert.timestamp&sort_dir=desc"
    return [
        ("all_alerts.json", "/alerts/all_alerts.json"),
        # What a poller asks for: the alerts of the last moments (here the last 10 ms
        # of a fill that raised a few hundred a second).
        ("last-time, newest 10 ms", f"/alerts/last-time/{newest - 0.01:.6f}/alerts.json"),
        ("alerts_view page 0 of 50", f"/alerts/alerts_view.json?{page}"),
        (
            "alerts_view page, search",
            f"/alerts/alerts_view.json?{page}&search={quote('AA:BB')}",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlogs", default="50,10000,100000")
    parser.add_argument("--seconds", type=float, default=3.0, help="per read row")
    opts = parser.parse_args()
    memory: list[tuple[int, int, int, float]] = []
    # The read table is printed a row at a time, as each is measured; the memory
    # table, whose rows come from the fills, once every backlog is done.
    print(f"kisalert backlog reads: {opts.seconds:g} s per row, {os.cpu_count()} CPUs")
    print("(raise p99: a raise every 20 ms from another client while the reads run)")
    head = f"{'backlog':>8} {'read':<28} {'reads':>6} {'p50 ms':>8} {'p99 ms':>8} {'body KiB':>9}"
    print(f"{head} {'raise p99 ms':>13}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for backlog in (int(b) for b in opts.backlogs.split(",")):
            rt.stage(f"backlog {backlog}: starting a server, raising {backlog} alerts")
            proc, port = rt.start_server(tmp, f"reads-{backlog}", "memory", backlog)
            try:
                asyncio.run(define(port))
                before = rss_bytes(proc.pid)
                started = time.perf_counter()
                newest = asyncio.run(fill(port, backlog))
                filled = time.perf_counter() - started
                after = rss_bytes(proc.pid)
                memory.append((backlog, before, after, filled))
                for name, path in paths(newest, backlog):
                    prober = Prober(port)
                    prober.start()
                    try:
                        latencies, size = asyncio.run(timed_reads(port, path, opts.seconds))
                    finally:
                        prober.stop.set()
                        prober.join()
                    print(
                        f"{backlog:>8} {name:<28} {len(latencies):>6} "
                        f"{rt.pct(latencies, 0.5):>8.2f} {rt.pct(latencies, 0.99):>8.2f} "
                        f"{size / 1024:>9.1f} {rt.pct(prober.latencies, 0.99):>13.2f}",
                        flush=True,
                    )
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
    print()
    head = f"{'backlog':>8} {'RSS empty MiB':>14} {'RSS full MiB':>13} {'per alert B':>12}"
    print(f"{head} {'fill s':>7}")
    for backlog, before, after, filled in memory:
        per_alert = (after - before) / backlog if backlog else 0.0
        print(
            f"{backlog:>8} {before / 2**20:>14.1f} {after / 2**20:>13.1f} "
            f"{per_alert:>12.0f} {filled:>7.1f}",
            flush=True,
        )
    return 0


async def define(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for name in ("BENCH", "PROBE"):
        body = {"name": name, "description": "bench", "throttle": "1000/sec", "burst": "1000/sec"}
        request = rt.post("/alerts/definitions/define_alert.cmd", body)
        status, _ = await rt.http(reader, writer, request)
        assert status == 200, status
    writer.close()


if __name__ == "__main__":
    raise SystemExit(main())
