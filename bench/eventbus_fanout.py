"""Eventbus fan-out: delivery latency from raise to websocket frame, and raise
throughput with subscribers attached.

Starts `kisalert serve --memory`, attaches S websocket subscribers to the ALERT
topic (raw sockets spread over a few subscriber processes), raises alerts at a fixed rate from
keep-alive HTTP clients, and measures, for every frame, the time from just before
its raise request was sent to its arrival. Then it raises as fast as 32 clients
can with the subscribers still attached. Prints a table.

    .venv/bin/python bench/eventbus_fanout.py [--subscribers 1,10,100] [--rates 200,1000] [--pin]

The subscribers, the raising clients and the server share the machine's cores, so
at high fan-out the numbers are bound by the clients as much as by the server;
`--pin` gives the server the first CPU to itself and the rest to everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import raise_throughput as rt


def subscriber_process(
    port: int, count: int, ready: multiprocessing.Event, stop: multiprocessing.Event, out: str
) -> None:
    """`count` subscribers on raw sockets. A websocket client library costs more per
    frame than the server does, and these processes share the machine with the
    server: frames are counted, and their send times read, by one regular expression
    over what arrives (each ALERT frame holds exactly one alert text)."""
    import base64
    import re
    import selectors
    import socket

    text = re.compile(rb'"kismet\.alert\.text":"([^"]*)"')
    latencies: list[float] = []
    received = 0
    selector = selectors.DefaultSelector()
    tails: dict[socket.socket, bytes] = {}
    path = f"/eventbus/events.ws?user={rt.USER}&password={rt.PASSWORD}"
    subscribe = b'{"SUBSCRIBE": "ALERT"}'
    mask = b"\x00\x00\x00\x00"  # a zero mask leaves the payload as it is
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        tails[sock] = head.split(b"\r\n\r\n", 1)[1]
        sock.sendall(bytes((0x81, 0x80 | len(subscribe))) + mask + subscribe)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    time.sleep(0.5)
    ready.set()
    quiet_since = None
    while True:
        events = selector.select(0.2)
        now = time.time()
        if not events:
            if stop.is_set():
                quiet_since = quiet_since or now
                if now - quiet_since > 1.0:
                    break
            continue
        quiet_since = None
        for key, _ in events:
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                selector.unregister(sock)
                continue
            data = tails[sock] + data
            end = 0
            for match in text.finditer(data):
                received += 1
                end = match.end()
                # A text that is not a send time is counted, not timed.
                with contextlib.suppress(ValueError):
                    latencies.append(now - float(match[1]))
            # What follows the last complete text is the start of the next frame.
            tails[sock] = data[end:]
    Path(out).write_text(f"{received}\n" + "\n".join(f"{x:.6f}" for x in latencies))


async def paced_raises(port: int, rate: float, seconds: float, connections: int = 8) -> int:
    """Raise `rate` alerts a second for `seconds`, each text holding its send time."""
    interval = connections / rate
    done = 0

    async def client(offset: float) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = time.perf_counter() + offset
        n = 0
        while True:
            due = start + n * interval
            if due - start > seconds:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            request = rt.post(
                "/alerts/raise_alerts.cmd", {"name": "FANOUT", "text": f"{time.time():.6f}"}
            )
            status, _ = await rt.http(reader, writer, request)
            done += status == 200
            n += 1
        writer.close()

    await asyncio.gather(*(client(i * interval / connections) for i in range(connections)))
    return done


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", default="1,10,100")
    parser.add_argument("--rates", default="200,1000")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--processes", type=int, default=2, help="subscriber processes")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="run the server on the first CPU and everything else on the others",
    )
    opts = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if opts.pin and len(cpus) > 1:
        os.sched_setaffinity(0, cpus[1:])  # the subscribers and clients start from here
    # Each row is printed as soon as it is measured.
    print(f"kisalert eventbus fan-out: {opts.seconds:g} s per row, {os.cpu_count()} CPUs")
    print("(server CPU: the server's CPU time per alert raised, fan-out included)")
    header = f"{'workload':<44} {'alerts/s':>9} {'frames':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(header + f" {'server CPU us':>14}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "fanout.conf"
        conf.write_text(
            f"httpd_username={rt.USER}\nhttpd_password={rt.PASSWORD}\n"
            "alert=FANOUT,1000000/sec,1000000/sec\neventbus_queue=100000\n"
        )
        for subscribers in (int(s) for s in opts.subscribers.split(",")):
            rt.stage(f"{subscribers} subscribers: starting a server")
            port = rt.free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "kisalert", "serve", "--memory", "--config", str(conf),
                 "--data-dir", str(Path(tmp) / "data"), "--listen", f"127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL, env=os.environ.copy(),
            )  # fmt: skip
            if opts.pin and len(cpus) > 1:
                os.sched_setaffinity(server.pid, cpus[:1])
            try:
                measure(port, server.pid, subscribers, opts, tmp)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(30)
    return 0


def print_row(name: str, rate: float, frames: int, p50: float, p99: float, cpu: float) -> None:
    p50_text = f"{p50:>8.1f}" if p50 else f"{'':>8}"
    p99_text = f"{p99:>8.1f}" if p99 else f"{'':>8}"
    print(f"{name:<44} {rate:>9.0f} {frames:>9} {p50_text} {p99_text} {cpu:>14.0f}", flush=True)


def measure(port: int, pid: int, subscribers: int, opts: argparse.Namespace, tmp: str) -> None:
    for _ in range(200):
        try:
            rt.socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)

    async def define() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = {"name": "FANOUT", "description": "fan-out bench"}
        await rt.http(reader, writer, rt.post("/alerts/definitions/define_alert.cmd", body))
        writer.close()

    asyncio.run(define())
    for rate in [float(r) for r in opts.rates.split(",")] + [0.0]:
        procs = min(opts.processes, subscribers)
        ready = [multiprocessing.Event() for _ in range(procs)]
        stop = multiprocessing.Event()
        outs = [str(Path(tmp) / f"lat-{subscribers}-{rate}-{i}.txt") for i in range(procs)]
        shares = [subscribers // procs + (i < subscribers % procs) for i in range(procs)]
        workers = [
            multiprocessing.Process(
                target=subscriber_process, args=(port, shares[i], ready[i], stop, outs[i])
            )
            for i in range(procs)
        ]
        for worker in workers:
            worker.start()
        for event in ready:
            event.wait(30)
        cpu_before = rt.cpu_seconds(pid)
        if rate:
            done = asyncio.run(paced_raises(port, rate, opts.seconds))
            name = f"{subscribers} subscribers, {rate:.0f} alerts/s offered"
            achieved = done / opts.seconds
        else:
            done, _, _ = asyncio.run(rt.raise_load(port, 32, opts.seconds, "FANOUT"))
            name = f"{subscribers} subscribers, raise as fast as 32 clients can"
            achieved = done / opts.seconds
        cpu_per_alert = (rt.cpu_seconds(pid) - cpu_before) / max(done, 1) * 1e6
        stop.set()  # subscribers finish once no frame has come for a second
        for worker in workers:
            worker.join(120)
        received = 0
        latencies: list[float] = []
        for out in outs:
            first, *rest = Path(out).read_text().split("\n")
            received += int(first)
            latencies += [float(line) for line in rest if line]
        p50 = percentile(latencies, 0.5) if rate else 0.0
        p99 = percentile(latencies, 0.99) if rate else 0.0
        print_row(name, achieved, received, p50, p99, cpu_per_alert)


if __name__ == "__main__":
    raise SystemExit(main())
