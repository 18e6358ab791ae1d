"""kisalert on Redis (issue 10): raise throughput next to the memory store, and
eventbus latency across replicas.

Starts its own redis-server (Debian's package) on a free loopback port, without
persistence (`--save ""`, no append-only file) unless `--persist everysec` (an
append-only file fsynced once a second), and measures, in rounds that interleave the
configurations so that a noisy moment of a shared machine does not land on one only:

- raises: `kisalert serve --memory` (the memory store, log off) against the Redis
  store (`--memory --store redis://…`: log off too, so only the store differs) with
  one replica and with two (the clients split evenly between them; one client
  alternates between the replicas request by request, which wrk cannot do, so that
  row's load is asyncio clients), with 1 and 32 keep-alive clients. The load is
  bench/raise_throughput.py's: wrk when installed, else asyncio clients;
- the eventbus: a websocket subscribed to ALERT on replica B while 8 keep-alive
  clients raise `--rate` alerts a second on replica A; the time from each raise's
  send, and from its answer, to its frame's arrival, and whether every alert
  answered 200 arrived exactly once and each client's in the order it raised them.
  For reference, the same with the subscriber on the raising replica, and on one
  memory-store server.

Every configuration starts from an empty Redis (FLUSHALL). `--pin` puts the kisalert
servers on the first CPU, and the load, the subscriber and redis-server on the others
(`--redis-cpu server`: redis-server with the kisalert servers instead).

`--variant NAME=PATH` adds the configuration `redis1-NAME` (and allows `redis2-NAME` in
`--configs`): servers started with PATH before their PYTHONPATH, measured in the same
rounds as the others. With hiredis (`pip install --target DIR hiredis`, then
`--variant hiredis=DIR`) redis-py parses replies with it; with a patched copy of
`src` (`--variant patched=/tmp/copy/src`) a change is measured against the tree as it
is, interleaved.

    .venv/bin/python bench/redis_scale.py [--seconds 4] [--clients 1,32] [--repeat 3]
        [--configs memory,redis1,redis2] [--rate 1000] [--persist none|everysec]
        [--redis-cpu load|server] [--variant NAME=PATH] [--load wrk|python] [--pin]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from statistics import median

import redis

sys.path.insert(0, str(Path(__file__).parent))

import raise_throughput as rt

TEXT = re.compile(r'"kismet\.alert\.text":"([^"]*)"')
RAISERS = 8  # keep-alive connections the paced eventbus raises come from


@dataclass
class RaiseRow:
    rate: float
    p50: float
    p99: float
    errors: int
    server_us: float
    redis_us: float
    load: str


@dataclass
class BusRow:
    rate: float
    frames: int
    lost: int
    repeated: int
    disordered: int
    from_send: list[float]
    from_answer: list[float]
    server_us: list[float]  # per server: the raising one first


class RedisServer:
    """redis-server on a free loopback port, in `tmp`; `persist` is "none" or
    "everysec"."""

    def __init__(self, tmp: str, persist: str, cpus: list[int] | None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis_scale: redis-server is not installed (`make test` installs it)")
        self.port = rt.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", tmp, "--save", ""]
        if persist == "everysec":
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            args += ["--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        if cpus:
            os.sched_setaffinity(self.process.pid, cpus)
        self.client = redis.Redis(port=self.port)
        for _ in range(200):
            with contextlib.suppress(redis.ConnectionError):
                self.client.ping()
                return
            time.sleep(0.05)
        raise SystemExit(f"redis_scale: redis-server did not start on port {self.port}")

    def flush(self) -> None:
        self.client.flushall()

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(30)


def replica_count(config: str) -> int:
    return 0 if config == "memory" else int(config.removeprefix("redis").split("-")[0])


def variant(config: str) -> str:
    """The variant a configuration runs ("" for the tree as it is)."""
    return config.partition("-")[2]


def label(config: str) -> str:
    count = replica_count(config)
    if not count:
        return "memory store"
    name = f"redis, {count} replica{'' if count == 1 else 's'}"
    return name + (f", {variant(config)}" if variant(config) else "")


def start_servers(
    tmp: str, config: str, round_no: int, store: RedisServer, opts: argparse.Namespace
) -> list[tuple[subprocess.Popen[bytes], int]]:
    count = replica_count(config)
    if not count:
        return [rt.start_server(tmp, f"memory-{round_no}", "memory", 50, opts.server_cpus)]
    store.flush()
    saved = os.environ.get("PYTHONPATH")
    if variant(config):
        path = opts.variants[variant(config)]
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (path, saved) if p)
    try:
        # "memory" is rt's name for `--memory`: the alert log off.
        store_args = ["--store", store.url]
        names = [f"{config}-{round_no}-{n}" for n in range(count)]
        return [
            rt.start_server(tmp, name, "memory", 50, opts.server_cpus, store_args) for name in names
        ]
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


async def define(ports: list[int]) -> None:
    """The bench alert on every server (an identical define is 200 on each replica)."""
    for port in ports:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body: dict[str, object] = {"name": "BENCH", "description": "bench"}
        status, answer = await rt.http(
            reader, writer, rt.post("/alerts/definitions/define_alert.cmd", body)
        )
        assert status == 200, answer
        writer.close()


def shares(clients: int, servers: int) -> list[int]:
    return [clients // servers + (n < clients % servers) for n in range(servers)]


async def alternating(
    ports: list[int], clients: int, seconds: float
) -> tuple[int, int, list[float]]:
    """Clients that each hold a connection to every server and send their raises to
    one after the other, as a round-robin balancer in front of them would."""
    request = rt.post(rt.RAISE_PATH, {**rt.RAISE_ARGS})
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    counts = Counter[bool]()

    async def client() -> None:
        links = [await asyncio.open_connection("127.0.0.1", port) for port in ports]
        turn = 0
        while time.perf_counter() < deadline:
            reader, writer = links[turn % len(links)]
            start = time.perf_counter()
            status, _ = await rt.http(reader, writer, request)
            latencies.append(time.perf_counter() - start)
            counts[status == 200] += 1
            turn += 1
        for _, writer in links:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return counts[True], counts[False], latencies


async def python_load(
    ports: list[int], clients: int, seconds: float
) -> tuple[int, int, list[float]]:
    if clients < len(ports):
        return await alternating(ports, clients, seconds)
    parts = await asyncio.gather(
        *(
            rt.raise_load(port, share, seconds)
            for port, share in zip(ports, shares(clients, len(ports)), strict=True)
        )
    )
    return sum(p[0] for p in parts), sum(p[1] for p in parts), [x for p in parts for x in p[2]]


def wrk_load(
    ports: list[int], clients: int, seconds: float, tmp: str
) -> tuple[int, int, float, float]:
    """One wrk per server, at once; p50 is their mean weighted by requests, p99 the
    larger of theirs (wrk reports quantiles, which do not merge exactly)."""
    dirs = [Path(tmp) / f"wrk-{n}" for n in range(len(ports))]
    for path in dirs:
        path.mkdir(exist_ok=True)
    jobs = list(zip(ports, shares(clients, len(ports)), dirs, strict=True))
    with ThreadPoolExecutor(len(jobs)) as pool:
        parts = list(pool.map(lambda job: rt.wrk_load(job[0], job[1], seconds, str(job[2])), jobs))
    done = sum(p[0] for p in parts)
    p50 = sum(p[0] * p[2] for p in parts) / max(done, 1)
    return done, sum(p[1] for p in parts), p50, max(p[3] for p in parts)


def measure_raises(
    ports: list[int],
    pids: list[int],
    store: RedisServer,
    clients: int,
    opts: argparse.Namespace,
    tmp: str,
) -> RaiseRow:
    server_before = sum(rt.cpu_seconds(pid) for pid in pids)
    redis_before = rt.cpu_seconds(store.process.pid)
    if opts.load == "wrk" and clients >= len(ports):
        done, errors, p50, p99 = wrk_load(ports, clients, opts.seconds, tmp)
        load = "wrk"
    else:
        done, errors, latencies = asyncio.run(python_load(ports, clients, opts.seconds))
        p50, p99 = rt.pct(latencies, 0.5), rt.pct(latencies, 0.99)
        load = "python"
    per = 1e6 / max(done, 1)
    server_us = (sum(rt.cpu_seconds(pid) for pid in pids) - server_before) * per
    redis_us = (rt.cpu_seconds(store.process.pid) - redis_before) * per
    return RaiseRow(done / opts.seconds, p50, p99, errors, server_us, redis_us, load)


def subscriber(
    port: int,
    ready: multiprocessing.synchronize.Event,
    stop: multiprocessing.synchronize.Event,
    out: str,
) -> None:
    """One websocket subscribed to ALERT: writes each alert text it receives with its
    arrival time, until `stop` is set and nothing has come for a second. Sets
    `ready` once a "sync" alert has arrived."""
    from websockets.asyncio.client import connect

    arrivals: list[str] = []

    async def main() -> None:
        url = f"ws://127.0.0.1:{port}/eventbus/events.ws?user={rt.USER}&password={rt.PASSWORD}"
        last = time.monotonic()

        async def receive(ws: object) -> None:
            nonlocal last
            async for frame in ws:  # type: ignore[attr-defined]
                now = time.time()
                last = time.monotonic()
                for text in TEXT.findall(frame):
                    if text.startswith("sync"):
                        ready.set()
                    else:
                        arrivals.append(f"{text} {now:.6f}")

        async with connect(url, max_queue=None, compression=None) as ws:
            await ws.send('{"SUBSCRIBE": "ALERT"}')
            task = asyncio.create_task(receive(ws))
            while not (stop.is_set() and time.monotonic() - last > 1.0):
                await asyncio.sleep(0.1)
            task.cancel()

    asyncio.run(main())
    Path(out).write_text("\n".join(arrivals))


async def sync(port: int, ready: multiprocessing.synchronize.Event) -> None:
    """Raise "sync" alerts until the subscriber has one: its subscription is then in
    effect for alerts raised here."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for n in range(200):
        await rt.http(reader, writer, rt.post(rt.RAISE_PATH, {**rt.RAISE_ARGS, "text": f"sync{n}"}))
        await asyncio.sleep(0.05)
        if ready.is_set():
            break
    writer.close()
    if not ready.is_set():
        raise SystemExit("redis_scale: the subscriber received no alert in 10 s")


async def paced(
    port: int, rate: float, seconds: float, tag: str
) -> tuple[dict[str, tuple[float, float, int]], float]:
    """`rate` raises a second for `seconds` from RAISERS connections, each text
    "tag/connection/n/send time"; returns text -> (sent, answered, status), and the
    seconds it took."""
    interval = RAISERS / rate
    per_connection = int(seconds * rate / RAISERS)
    records: dict[str, tuple[float, float, int]] = {}
    start = time.perf_counter() + 0.05

    async def connection(c: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for n in range(per_connection):
            delay = start + (n + c / RAISERS) * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.time()
            text = f"{tag}/{c}/{n}/{sent:.6f}"
            status, _ = await rt.http(
                reader, writer, rt.post(rt.RAISE_PATH, {**rt.RAISE_ARGS, "text": text})
            )
            records[text] = (sent, time.time(), status)
        writer.close()

    await asyncio.gather(*(connection(c) for c in range(RAISERS)))
    # From the first raise due to the last answer, plus 1/rate: at the rate offered,
    # the last raise is due 1/rate before `seconds` have passed.
    return records, time.perf_counter() - start + interval / RAISERS


def measure_bus(
    raiser: int, listener: int, pids: list[int], opts: argparse.Namespace, tmp: str, tag: str
) -> BusRow:
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    out = str(Path(tmp) / f"bus-{tag}.txt")
    worker = multiprocessing.Process(target=subscriber, args=(listener, ready, stop, out))
    worker.start()
    try:
        asyncio.run(sync(raiser, ready))
        before = [rt.cpu_seconds(pid) for pid in pids]
        records, elapsed = asyncio.run(paced(raiser, opts.rate, opts.seconds, tag))
        cpu = [rt.cpu_seconds(pid) - was for pid, was in zip(pids, before, strict=True)]
    finally:
        stop.set()
        worker.join(60)
    answered = {text: times for text, times in records.items() if times[2] == 200}
    arrived = [line.rsplit(" ", 1) for line in Path(out).read_text().split("\n") if line]
    mine = [(text, float(at)) for text, at in arrived if text.startswith(tag + "/")]
    counts = Counter(text for text, _ in mine)
    # Each connection's alerts must arrive in the order it raised them.
    newest: dict[str, int] = {}
    disordered = 0
    for text, _ in mine:
        _, c, n, _ = text.split("/")
        if int(n) < newest.get(c, -1):
            disordered += 1
        newest[c] = max(newest.get(c, -1), int(n))
    firsts = {text: at for text, at in reversed(mine)}
    return BusRow(
        rate=len(answered) / elapsed,
        frames=len(mine),
        lost=len(answered.keys() - counts.keys()),
        repeated=sum(n - 1 for n in counts.values()) + len(counts.keys() - answered.keys()),
        disordered=disordered,
        from_send=[at - answered[t][0] for t, at in firsts.items() if t in answered],
        from_answer=[at - answered[t][1] for t, at in firsts.items() if t in answered],
        server_us=[seconds / max(len(records), 1) * 1e6 for seconds in cpu],
    )


def clients_text(clients: int | str) -> str:
    return f"{clients} client{'' if str(clients) == '1' else 's'}"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add = parser.add_argument
    add("--seconds", type=float, default=4.0, help="of each raise row and eventbus row")
    add("--clients", default="1,32", help='"" for the eventbus rows only')
    add("--configs", default="memory,redis1,redis2", help="memory, redisN, redisN-VARIANT")
    add("--repeat", type=int, default=3, help="rounds over all configurations")
    add("--rate", type=float, default=1000.0, help="eventbus rows: alerts a second")
    add("--persist", choices=("none", "everysec"), default="none")
    add("--redis-cpu", choices=("load", "server"), default="load")
    add("--variant", action="append", default=[], metavar="NAME=PATH", help="see above")
    add("--load", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python")
    add("--pin", action="store_true", help="servers on the first CPU, the rest on the others")
    opts = parser.parse_args()
    opts.configs = opts.configs.split(",")
    opts.variants = dict(v.split("=", 1) for v in opts.variant)
    for name in opts.variants:
        if f"redis1-{name}" not in opts.configs:
            opts.configs.append(f"redis1-{name}")
    for config in opts.configs:
        if variant(config) and variant(config) not in opts.variants:
            parser.error(f"{config}: give --variant {variant(config)}=PATH")
    return opts


def main() -> int:
    opts = options()
    cpus = sorted(os.sched_getaffinity(0))
    opts.pinned = opts.pin and len(cpus) > 1
    opts.server_cpus = cpus[:1] if opts.pinned else None
    if opts.pinned:
        os.sched_setaffinity(0, cpus[1:])  # wrk, the subscriber and redis-server inherit it
    raises: dict[str, list[RaiseRow]] = {}
    buses: dict[str, list[BusRow]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = RedisServer(
            tmp, opts.persist, opts.server_cpus if opts.redis_cpu == "server" else None
        )
        try:
            for round_no in range(opts.repeat):
                for config in opts.configs:
                    rt.stage(f"round {round_no + 1}/{opts.repeat}: {label(config)}")
                    servers = start_servers(tmp, config, round_no, store, opts)
                    try:
                        measure(config, servers, store, opts, tmp, raises, buses)
                    finally:
                        for proc, _ in servers:
                            proc.send_signal(signal.SIGTERM)
                        for proc, _ in servers:
                            proc.wait(30)
        finally:
            store.stop()
    report(raises, buses, opts, cpus)
    return 0


def measure(
    config: str,
    servers: list[tuple[subprocess.Popen[bytes], int]],
    store: RedisServer,
    opts: argparse.Namespace,
    tmp: str,
    raises: dict[str, list[RaiseRow]],
    buses: dict[str, list[BusRow]],
) -> None:
    """One round of one configuration: its raise rows, then its eventbus rows."""
    ports = [port for _, port in servers]
    pids = [proc.pid for proc, _ in servers]
    asyncio.run(define(ports))
    for clients in (int(c) for c in opts.clients.split(",") if c):
        rt.stage(f"  {clients_text(clients)}")
        row = measure_raises(ports, pids, store, clients, opts, tmp)
        raises.setdefault(f"raise, {label(config)}, {clients_text(clients)}", []).append(row)
    for name, raiser, listener in bus_pairs(config, ports):
        rt.stage(f"  eventbus: {name}")
        tag = f"{len(buses.get(name, []))}{config}{raiser}{listener}"
        buses.setdefault(name, []).append(measure_bus(raiser, listener, pids, opts, tmp, tag))


def bus_pairs(config: str, ports: list[int]) -> list[tuple[str, int, int]]:
    """The eventbus rows a configuration's servers measure: (name, raiser, listener)."""
    if config == "memory":
        return [("memory store, one server", ports[0], ports[0])]
    if replica_count(config) == 2:
        return [
            (f"{label(config)}: listen on the raising replica", ports[0], ports[0]),
            (f"{label(config)}: raise on A, listen on B", ports[0], ports[1]),
        ]
    return []


def setting(opts: argparse.Namespace, cpus: list[int]) -> str:
    """What the run was, for the line above the tables."""
    where = "not pinned"
    if opts.pinned:
        redis_cpu = cpus[0] if opts.redis_cpu == "server" else cpus[1]
        where = (
            f"kisalert servers on CPU {cpus[0]}, the load on CPU {cpus[1]}, "
            f"redis-server on CPU {redis_cpu}"
        )
    answer = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    redis_version = answer.stdout.split()[2].removeprefix("v=")
    persist = "no persistence" if opts.persist == "none" else "appendonly, appendfsync everysec"
    return (
        f"kisalert on Redis: {opts.seconds:g} s per row, {opts.repeat} rounds, load from "
        f"{opts.load}; {where}; redis-server {redis_version} ({persist}), redis-py "
        f"{version('redis')}; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )


def report(
    raises: dict[str, list[RaiseRow]],
    buses: dict[str, list[BusRow]],
    opts: argparse.Namespace,
    cpus: list[int],
) -> None:
    print(setting(opts, cpus))
    if raises:
        report_raises(raises, opts)
    if buses:
        report_buses(buses, opts)


def report_raises(raises: dict[str, list[RaiseRow]], opts: argparse.Namespace) -> None:
    print("(req/s: median of the rounds and their range; p50, p99 and CPU from the median round;")
    print(" server CPU: all kisalert processes' CPU time per raise; redis CPU: redis-server's)")
    print(
        f"{'workload':<44} {'req/s':>7} {'range':>11} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
        f" {'server CPU us':>13} {'redis CPU us':>12}  load"
    )
    for name, rows in raises.items():
        ordered = sorted(rows, key=lambda r: r.rate)
        mid = ordered[len(ordered) // 2]
        spread = f"{ordered[0].rate:.0f}-{ordered[-1].rate:.0f}"
        print(
            f"{name:<44} {mid.rate:>7.0f} {spread:>11} {mid.p50:>7.2f} {mid.p99:>7.2f} "
            f"{sum(r.errors for r in rows):>6} {mid.server_us:>13.0f} {mid.redis_us:>12.0f}"
            f"  {mid.load}"
        )
    print("\n(ratios: of the medians, then of each round's two rows)")
    for clients in filter(None, opts.clients.split(",")):
        memory = raises.get(f"raise, memory store, {clients_text(clients)}", [])
        for config in (c for c in opts.configs if c != "memory"):
            rows = raises.get(f"raise, {label(config)}, {clients_text(clients)}", [])
            if not (memory and rows):
                continue
            ratio = median(r.rate for r in rows) / median(r.rate for r in memory)
            each = " ".join(f"{a.rate / b.rate:.0%}" for a, b in zip(rows, memory, strict=True))
            goal = ""
            if config == "redis1" and int(clients) > 1:
                # The target is throughput under concurrent raises, which one round
                # trip to Redis serves together; one client's raises wait their own
                # round trip each, one after the other (docs/performance.md).
                goal = f"  target >= 50 %: {'met' if ratio >= 0.5 else 'NOT met'}"
            elif config == "redis1":
                goal = "  (one raise at a time: latency-bound)"
            name = f"{label(config)} / memory, {clients_text(clients)}"
            print(f"{name:<44} {ratio:>7.0%}  rounds: {each}{goal}")


def report_buses(buses: dict[str, list[BusRow]], opts: argparse.Namespace) -> None:
    print(
        f"\neventbus: {opts.rate:.0f} alerts/s offered from {RAISERS} keep-alive clients for "
        f"{opts.seconds:g} s, one websocket on ALERT; one row per round"
    )
    print(
        f"{'workload':<52} {'alerts/s':>8} {'frames':>7} {'lost':>5} {'twice':>5} {'order':>5}"
        f" {'send->frame p50/p99/max ms':>27} {'answer->frame p50/p99/max ms':>29}"
        f" {'server CPU us':>13}"
    )
    for name, rows in buses.items():
        for row in rows:
            send = "/".join(f"{rt.pct(row.from_send, q):.1f}" for q in (0.5, 0.99, 1.0))
            answer = "/".join(f"{rt.pct(row.from_answer, q):.1f}" for q in (0.5, 0.99, 1.0))
            print(
                f"{name:<52} {row.rate:>8.0f} {row.frames:>7} {row.lost:>5} {row.repeated:>5} "
                f"{row.disordered:>5} {send:>27} {answer:>29} "
                f"{'/'.join(f'{us:.0f}' for us in row.server_us):>13}"
            )
    print("(lost: answered 200 and never arrived; twice: arrived again, or was not answered 200;")
    print(" order: arrived after a later alert of the same client;")
    print(" server CPU: per alert, of the raising replica / the other (A/B))")
    print()
    for name, rows in buses.items():
        if not name.endswith("raise on A, listen on B"):
            continue
        worst = max(rt.pct(row.from_send, 0.99) for row in rows)
        faults = sum(row.lost + row.repeated + row.disordered for row in rows)
        slowest = min(row.rate for row in rows)
        verdict = "met" if worst <= 100 and not faults else "NOT met"
        if slowest < 0.95 * opts.rate:
            verdict = f"not measured: the raises reached only {slowest:.0f}/s"
        print(
            f"{name.partition(':')[0]}, eventbus across replicas: worst p99 (from send) "
            f"{worst:.1f} ms, {faults} lost, repeated or out of order; "
            f"target p99 <= 100 ms at {opts.rate:.0f}/s: {verdict}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
