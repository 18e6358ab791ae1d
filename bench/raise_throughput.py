"""Raise throughput of a real kisalert server over loopback HTTP.

Starts `kisalert serve` on a free port (log off, batched, strict), defines an
unthrottled alert, then has N concurrent keep-alive clients raise alerts for a fixed
time. Prints a table; numbers depend on the machine, so compare runs made on the
same one. Reads and memory at large backlogs: bench/backlog_reads.py.

    .venv/bin/python bench/raise_throughput.py [--seconds 4] [--clients 1,8,32] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

USER, PASSWORD = "bench", "bench-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def auth_header() -> str:
    import base64

    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


async def http(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One request on a keep-alive connection; returns (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


def post(path: str, args: dict[str, object]) -> bytes:
    body = ("json=" + quote(json.dumps(args))).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {auth_header()}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {auth_header()}\r\n\r\n".encode()


async def raise_load(
    port: int, clients: int, seconds: float, name: str = "BENCH"
) -> tuple[int, int, list[float]]:
    request = post(
        "/alerts/raise_alerts.cmd",
        {"name": name, "text": "bench alert", "bssid": "AA:BB:CC:DD:EE:FF", "channel": "6"},
    )
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = 0

    async def client() -> int:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status, _ = await http(reader, writer, request)
            latencies.append(time.perf_counter() - start)
            if status == 200:
                done += 1
            else:
                errors += 1
        writer.close()
        return done

    counts = await asyncio.gather(*(client() for _ in range(clients)))
    return sum(counts), errors, latencies


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of process `pid` (Linux /proc), or 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def start_server(
    tmp: str, name: str, mode: str, backlog: int
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = Path(tmp) / f"bench-{name}.conf"
    conf.write_text(
        f"httpd_username={USER}\nhttpd_password={PASSWORD}\nalertbacklog={backlog}\n"
        "alert=BENCH,1000000/sec,1000000/sec\n"
        + (f"kis_log_sync={mode}\n" if mode in ("batched", "strict") else "")
    )
    args = [sys.executable, "-m", "kisalert", "serve", "--config", str(conf)]
    args += ["--data-dir", str(Path(tmp) / f"data-{name}"), "--listen", f"127.0.0.1:{port}"]
    if mode == "memory":
        args.append("--memory")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=os.environ.copy())
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--backlog", type=int, default=50)
    parser.add_argument(
        "--log", default="memory,batched,strict", help="alert log modes to measure, in order"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds over all modes; the median is shown"
    )
    opts = parser.parse_args()
    # Rounds interleave the modes, so that a noisy moment of a shared machine does
    # not land on one mode only.
    results: dict[str, list[tuple[float, float, float, int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(opts.repeat):
            for mode in opts.log.split(","):
                proc, port = start_server(tmp, f"{mode}-{round_no}", mode, opts.backlog)
                try:
                    for row in asyncio.run(run(port, proc.pid, opts, mode)):
                        results.setdefault(row[0], []).append(row[1:])
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    print(
        f"kisalert raise bench: {opts.seconds:g} s per row, median of {opts.repeat}, "
        f"backlog {opts.backlog}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print("(server CPU: CPU time of all server threads per request, steadier than req/s)")
    header = f"{'workload':<40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    print(header + f" {'server CPU us':>14}")
    for name, runs in results.items():
        rate, p50, p99, errors, cpu = sorted(runs)[len(runs) // 2]
        cpu_text = f"{cpu:>14.0f}" if cpu else f"{'':>14}"
        print(f"{name:<40} {rate:>9.0f} {p50:>8.2f} {p99:>8.2f} {errors:>7} {cpu_text}")
    return 0


async def run(
    port: int, pid: int, opts: argparse.Namespace, mode: str
) -> list[tuple[str, float, float, float, int, float]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    status, body = await http(
        reader,
        writer,
        post("/alerts/definitions/define_alert.cmd", {"name": "BENCH", "description": "bench"}),
    )
    assert status == 200, body
    writer.close()
    rows = []
    for clients in (int(c) for c in opts.clients.split(",")):
        cpu_before = cpu_seconds(pid)
        done, errors, lat = await raise_load(port, clients, opts.seconds)
        cpu_per_alert = (cpu_seconds(pid) - cpu_before) / max(done, 1) * 1e6
        rows.append(
            (
                f"raise ({mode}), {clients} clients",
                done / opts.seconds,
                pct(lat, 0.5),
                pct(lat, 0.99),
                errors,
                cpu_per_alert,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
