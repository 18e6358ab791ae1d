"""Raise throughput of a real kisalert server over loopback HTTP, against its ceiling.

Starts, in turn, the ceiling (bench/ceiling.py: a bare ASGI app that answers the same
POST with 200 on kisalert's own server stack), on request the floor (bench/floor.py:
the least work a raise can do in Python, on the same stack) and `kisalert serve` on a free port
(log off, batched, strict), defines an unthrottled alert, then has N concurrent
keep-alive clients raise alerts with Basic auth for a fixed time. Prints a table and
the ratios the targets are stated in (kisalert against the ceiling, the batched log
against memory), all measured in the same run; absolute numbers depend on the
machine and swing between runs, ratios much less.

The load comes from `wrk` when it is installed (Debian package `wrk`; a C client that
needs far less CPU per request than the server does), else from asyncio clients in
this process. `--pin` gives the server the first CPU and the load the others.

    .venv/bin/python bench/raise_throughput.py [--seconds 4] [--clients 1,8,32] [--repeat 3]
        [--log ceiling,floor,memory,batched,strict] [--load wrk|python] [--pin]

Reads and memory at large backlogs: bench/backlog_reads.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

USER, PASSWORD = "bench", "bench-password"
RAISE_PATH = "/alerts/raise_alerts.cmd"
RAISE_ARGS = {"name": "BENCH", "text": "bench alert", "bssid": "AA:BB:CC:DD:EE:FF", "channel": "6"}
BENCH_DIR = Path(__file__).resolve().parent


def stage(text: str) -> None:
    """A line on stderr as a stage starts, so a long run shows where it is (the
    tables go to stdout)."""
    print(f"-- {text}", file=sys.stderr, flush=True)


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
    request = post(RAISE_PATH, {**RAISE_ARGS, "name": name})
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
    tmp: str,
    name: str,
    mode: str,
    backlog: int,
    cpus: list[int] | None = None,
    extra_args: Sequence[str] = (),
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    if mode in ("ceiling", "floor"):
        args = [sys.executable, str(BENCH_DIR / f"{mode}.py"), str(port)]
    else:
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
        args += extra_args
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=os.environ.copy())
    if cpus:
        os.sched_setaffinity(proc.pid, cpus)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Authorization"] = {auth}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


def wrk_load(port: int, clients: int, seconds: float, tmp: str) -> tuple[int, int, float, float]:
    """(requests, non-2xx, p50 ms, p99 ms) from one wrk run."""
    body = "json=" + quote(json.dumps(RAISE_ARGS))
    script = Path(tmp) / "raise.lua"
    script.write_text(WRK_SCRIPT.format(body=json.dumps(body), auth=json.dumps(auth_header())))
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{RAISE_PATH}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))

    def quantile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if not found:
            return 0.0
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    return done - (int(bad.group(1)) if bad else 0), errors, quantile("50"), quantile("99")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--backlog", type=int, default=50)
    parser.add_argument(
        "--log",
        default="ceiling,memory,batched,strict",
        help="servers to measure, in order: ceiling (bare ASGI app), floor (the least a "
        "raise can do in Python) and alert log modes",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds over all modes; the median is shown"
    )
    parser.add_argument(
        "--load",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="the load generator (default: wrk when installed)",
    )
    parser.add_argument(
        "--pin", action="store_true", help="server on the first CPU, load on the others"
    )
    opts = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus = cpus[:1] if opts.pin and len(cpus) > 1 else None
    if server_cpus:
        os.sched_setaffinity(0, cpus[1:])  # wrk, started from here, inherits it
    # Rounds interleave the modes, so that a noisy moment of a shared machine does
    # not land on one mode only.
    results: dict[str, list[tuple[float, float, float, int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(opts.repeat):
            for mode in opts.log.split(","):
                stage(f"round {round_no + 1}/{opts.repeat}: {mode} server")
                proc, port = start_server(
                    tmp, f"{mode}-{round_no}", mode, opts.backlog, server_cpus
                )
                try:
                    for row in asyncio.run(run(port, proc.pid, opts, mode, tmp)):
                        results.setdefault(row[0], []).append(row[1:])
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    print(
        f"kisalert raise bench: {opts.seconds:g} s per row, median of {opts.repeat}, "
        f"backlog {opts.backlog}, load from {opts.load}, "
        f"{'server pinned to CPU ' + str(server_cpus[0]) if server_cpus else 'not pinned'}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print("(server CPU: CPU time of all server threads per request, steadier than req/s)")
    header = f"{'workload':<40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    print(header + f" {'server CPU us':>14}")
    medians: dict[str, float] = {}
    for name, runs in results.items():
        rate, p50, p99, errors, cpu = sorted(runs)[len(runs) // 2]
        medians[name] = rate
        cpu_text = f"{cpu:>14.0f}" if cpu else f"{'':>14}"
        print(f"{name:<40} {rate:>9.0f} {p50:>8.2f} {p99:>8.2f} {errors:>7} {cpu_text}")
    ratios = []
    for clients in opts.clients.split(","):
        for top, bottom, what in (
            ("memory", "ceiling", "kisalert (memory) / ceiling"),
            ("floor", "ceiling", "floor / ceiling"),
            ("batched", "memory", "batched log / memory"),
            ("strict", "memory", "strict log / memory"),
        ):
            a = medians.get(f"raise ({top}), {clients} clients")
            b = medians.get(f"raise ({bottom}), {clients} clients")
            if a and b:
                ratios.append(f"{what + ', ' + clients + ' clients':<40} {a / b:>9.0%}")
    if ratios:
        print("\n" + "\n".join(ratios), flush=True)
    return 0


async def run(
    port: int, pid: int, opts: argparse.Namespace, mode: str, tmp: str
) -> list[tuple[str, float, float, float, int, float]]:
    if mode not in ("ceiling", "floor"):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        define = {"name": "BENCH", "description": "bench"}
        status, body = await http(
            reader, writer, post("/alerts/definitions/define_alert.cmd", define)
        )
        assert status == 200, body
        writer.close()
    rows = []
    for clients in (int(c) for c in opts.clients.split(",")):
        stage(f"  {clients} client{'' if clients == 1 else 's'} for {opts.seconds:g} s")
        cpu_before = cpu_seconds(pid)
        if opts.load == "wrk":
            done, errors, p50, p99 = wrk_load(port, clients, opts.seconds, tmp)
        else:
            done, errors, lat = await raise_load(port, clients, opts.seconds)
            p50, p99 = pct(lat, 0.5), pct(lat, 0.99)
        cpu_per_alert = (cpu_seconds(pid) - cpu_before) / max(done, 1) * 1e6
        rows.append(
            (
                f"raise ({mode}), {clients} clients",
                done / opts.seconds,
                p50,
                p99,
                errors,
                cpu_per_alert,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
