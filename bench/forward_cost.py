"""What forwarding costs a real kisalert server: raise throughput with four outputs
attached against none, and each output's delivery lag at a steady rate.

Throughput: the same server (batched log, `bench/raise_throughput.py`'s config)
without `forward=` lines and with four outputs, in interleaved rounds (none, four,
none, four, ...); 32 keep-alive clients raise as fast as they can for N seconds
(wrk when installed, as raise_throughput.py does). After each round with outputs the
bench waits until every output has sent everything (`/forward/status.json`:
delivered == raised, backlog 0) and prints that check, with what each receiver got.
Server CPU per alert is counted over the load and again including that drain, since
work an output does after the load stopped is still its cost.

Lag: the server with the four outputs, alerts raised at a steady `--rate` (open loop:
each client sends at fixed times, whatever the answers), each alert's text holding
its send time (`time.time_ns()`); every receiver notes when each alert arrives, and
lag = arrival - send. Each lag round follows one without outputs, for the server's
CPU per alert without them. For e-mail the lag is mostly its `window=` (a mail
gathers what is raised over the window after its first alert), so it is shown but is
not what the lag target is about.

The receivers run in one process of their own (asyncio): syslog over UDP and TCP
(octet-counted), an HTTP receiver answering 200 at once, a QoS 1 subscriber (a few
lines of its own) of a local mosquitto (Debian's, /usr/sbin/mosquitto), and aiosmtpd when the e-mail
output exists. The four outputs: syslog over TCP, webhook, MQTT and e-mail when
`email` is a kind of output, else syslog over UDP and over TCP, webhook and MQTT;
`--outputs` picks others. `--pin` puts the server on the first CPU and the load,
the receivers and mosquitto on the others; the server's forwarding process goes on
the others too (a core to spare), or where `--worker` says. mosquitto runs with its defaults (Nagle
on: `--mqtt-nodelay` sets `set_tcp_nodelay true`), no persistence and no log.

    .venv/bin/python bench/forward_cost.py [--seconds 5] [--repeat 3] [--pin]
        [--parts throughput,lag] [--rate 1000] [--outputs syslog-tcp,webhook,mqtt,email]
        [--mqtt-nodelay] [--load wrk|python] [--worker others|server|all]
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
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from importlib.util import find_spec
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

import raise_throughput as rt
from kisalert.forward import OUTPUTS
from kisalert.forward.mqtt_client import connect_packet

STAMP = re.compile(rb"sent=(\d+)")
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
EMAIL_WINDOW = 1.0  # seconds: the e-mail output's window=
DRAIN_TIMEOUT = 300.0
RECEIVERS = ("syslog-udp", "syslog-tcp", "webhook", "mqtt", "email")
COUNTS = {0: "none", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
# What a receiver got: alerts, their lags in ms (those timed), the last one's arrival
# (time.time_ns()). A tuple: it crosses the pipe from the receivers' process.
Got = tuple[int, list[float], int]


def email_available() -> bool:
    return "email" in OUTPUTS and find_spec("aiosmtpd") is not None


def default_outputs() -> list[str]:
    if email_available():
        return ["syslog-tcp", "webhook", "mqtt", "email"]
    return ["syslog-udp", "syslog-tcp", "webhook", "mqtt"]


# The receivers: one process, one event loop


class Inbox:
    """What one receiver got: a count, and with `keep` each payload and when it came
    (parsed only when collected, so that receiving costs the load's CPU little)."""

    def __init__(self, batches: bool = False) -> None:
        self.batches = batches  # a payload is a mail holding many alerts
        self.keep = False
        self.count = 0
        self.last_ns = 0  # when the last payload came
        self.items: list[tuple[int, bytes]] = []

    def reset(self, keep: bool) -> None:
        self.keep = keep or self.batches  # a mail's alerts are counted when collected
        self.count = 0
        self.last_ns = 0
        self.items = []

    def got(self, at_ns: int, payload: bytes) -> None:
        self.count += 1
        self.last_ns = at_ns
        if self.keep:
            self.items.append((at_ns, payload))

    def result(self) -> Got:
        """Alerts received, the lags in ms of those whose text holds a send time, and
        when the last came."""
        if not self.batches:
            lags = []
            for at_ns, payload in self.items:
                found = STAMP.search(payload)
                if found:
                    lags.append((at_ns - int(found[1])) / 1e6)
            return self.count, lags, self.last_ns
        alerts, lags = 0, []
        for at_ns, content in self.items:
            message = BytesParser(policy=policy.default).parsebytes(content)
            for part in message.iter_attachments():
                records = part.get_payload(decode=True)
                assert isinstance(records, bytes)
                alerts += len(orjson.loads(records))
            body = message.get_body(("plain",))
            text = body.get_payload(decode=True) if body is not None else b""
            assert isinstance(text, bytes)
            lags += [(at_ns - int(stamp)) / 1e6 for stamp in STAMP.findall(text)]
        return alerts, lags, self.last_ns


class Datagrams(asyncio.DatagramProtocol):
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.inbox.got(time.time_ns(), data)


class Frames(asyncio.Protocol):
    """Syslog over TCP: octet-counted frames (RFC 6587)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        now, buffer, pos = time.time_ns(), self.buffer + data, 0
        while (space := buffer.find(b" ", pos)) >= 0:
            end = space + 1 + int(buffer[pos:space])
            if end > len(buffer):
                break
            self.inbox.got(now, buffer[space + 1 : end])
            pos = end
        self.buffer = buffer[pos:]


class Hook(asyncio.Protocol):
    """A webhook receiver that answers every POST 200 at once, on a kept-alive
    connection."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.buffer = b""
        self.transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        now, buffer, pos = time.time_ns(), self.buffer + data, 0
        while (head_end := buffer.find(b"\r\n\r\n", pos)) >= 0:
            length = CONTENT_LENGTH.search(buffer, pos, head_end + 2)
            end = head_end + 4 + (int(length[1]) if length else 0)
            if end > len(buffer):
                break
            self.inbox.got(now, buffer[head_end + 4 : end])
            assert self.transport is not None
            self.transport.write(HTTP_OK)
            pos = end
        self.buffer = buffer[pos:]


class Mailbox:
    """aiosmtpd's handler: every mail accepted."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.got(time.time_ns(), envelope.original_content or b"")
        return "250 OK"


class Subscriber(asyncio.Protocol):
    """A QoS 1 subscriber to `kisalert/#`, no more: it notes each PUBLISH and answers
    its PUBACK. aiomqtt (paho) spends ~250 µs of CPU a message, on the CPU that the
    load and the other receivers share, which would show as kisalert's lag."""

    def __init__(self, inbox: Inbox, ready: asyncio.Event) -> None:
        self.inbox = inbox
        self.ready = ready
        self.buffer = b""
        self.transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        transport.write(connect_packet("bench-subscriber", 0, None, None))
        topic = b"kisalert/#"
        body = b"\x00\x01" + len(topic).to_bytes(2, "big") + topic + b"\x01"
        transport.write(bytes((0x82, len(body))) + body)

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        buffer = self.buffer + data
        acks = []
        while len(buffer) >= 2:
            length, shift, at = 0, 0, 1
            while at < len(buffer):
                digit = buffer[at]
                length |= (digit & 0x7F) << shift
                shift += 7
                at += 1
                if not digit & 0x80:
                    break
            else:
                break  # the length is not all there yet
            if len(buffer) < at + length:
                break
            kind, body = buffer[0] >> 4, buffer[at : at + length]
            buffer = buffer[at + length :]
            if kind == 9:  # SUBACK
                self.ready.set()
            elif kind == 3:  # PUBLISH; QoS 1: a packet id follows the topic
                topic_end = 2 + int.from_bytes(body[:2], "big")
                acks.append(b"\x40\x02" + body[topic_end : topic_end + 2])
                self.inbox.got(now, body[topic_end + 2 :])
        self.buffer = buffer
        if acks and self.transport is not None:
            self.transport.write(b"".join(acks))


async def serve_receivers(conn: Connection, mqtt_port: int, with_email: bool) -> None:
    loop = asyncio.get_running_loop()
    inboxes = {name: Inbox(batches=name == "email") for name in RECEIVERS}
    ports = {"mqtt": mqtt_port}
    udp, _ = await loop.create_datagram_endpoint(
        lambda: Datagrams(inboxes["syslog-udp"]), local_addr=("127.0.0.1", 0)
    )
    sock = udp.get_extra_info("socket")
    for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        with contextlib.suppress(OSError, TypeError):  # a burst must not overflow it
            sock.setsockopt(socket.SOL_SOCKET, option, 16 << 20)
            break
    ports["syslog-udp"] = sock.getsockname()[1]
    servers = {
        "syslog-tcp": await loop.create_server(
            lambda: Frames(inboxes["syslog-tcp"]), "127.0.0.1", 0
        ),
        "webhook": await loop.create_server(lambda: Hook(inboxes["webhook"]), "127.0.0.1", 0),
    }
    if with_email:
        from aiosmtpd.smtp import SMTP

        handler = Mailbox(inboxes["email"])
        servers["email"] = await loop.create_server(
            lambda: SMTP(handler, hostname="receiver.bench"), "127.0.0.1", 0
        )
    for name, server in servers.items():
        ports[name] = server.sockets[0].getsockname()[1]
    ready = asyncio.Event()
    subscriber, _ = await loop.create_connection(
        lambda: Subscriber(inboxes["mqtt"], ready), "127.0.0.1", mqtt_port
    )
    await asyncio.wait_for(ready.wait(), 10)
    commands: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    # uvloop made the pipe non-blocking; a big answer must go whole.
    os.set_blocking(conn.fileno(), True)
    conn.send(ports)
    while True:
        command, keep = await commands.get()
        if command == "reset":
            for inbox in inboxes.values():
                inbox.reset(keep)
            conn.send("ok")
        elif command == "collect":
            conn.send({name: inbox.result() for name, inbox in inboxes.items()})
        else:
            break
    subscriber.close()
    udp.close()
    for server in servers.values():
        server.close()


def receivers_main(conn: Connection, mqtt_port: int, with_email: bool) -> None:
    import uvloop  # as cheap a receiver as can be: its CPU is the load's

    uvloop.run(serve_receivers(conn, mqtt_port, with_email))


class Receivers:
    """The receivers' process, driven over a pipe."""

    def __init__(self, mqtt_port: int, with_email: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=receivers_main, args=(child, mqtt_port, with_email), daemon=True
        )
        self._process.start()
        self.ports: dict[str, int] = self._answer(30)

    def _answer(self, timeout: float) -> Any:
        if not self._conn.poll(timeout):
            raise RuntimeError("the receivers did not answer")
        return self._conn.recv()

    def reset(self, keep: bool) -> None:
        self._conn.send(("reset", keep))
        self._answer(30)

    def collect(self) -> dict[str, Got]:
        self._conn.send(("collect", False))
        found: dict[str, Got] = self._answer(120)
        return found

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(("stop", False))
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


def start_mosquitto(tmp: str, nodelay: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if binary is None:
        raise SystemExit("mosquitto is not installed (apt-get install -y mosquitto)")
    port = rt.free_port()
    conf = Path(tmp) / "mosquitto.conf"
    # No persistence and no log: the broker's own disk work is not what is measured.
    # No queue limit: a subscriber behind by more than 1000 would lose messages.
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "log_dest none\nmax_queued_messages 0\n" + ("set_tcp_nodelay true\n" if nodelay else "")
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL)
    for _ in range(200):
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("mosquitto did not start")


def forward_config(outputs: list[str], ports: dict[str, int]) -> str:
    at = "127.0.0.1"
    lines = {
        "syslog-udp": f"type=syslog,target=udp://{at}:{ports['syslog-udp']}",
        "syslog-tcp": f"type=syslog,target=tcp://{at}:{ports['syslog-tcp']}",
        "webhook": f"type=webhook,url=http://{at}:{ports['webhook']}/hook",
        "mqtt": f"type=mqtt,broker=mqtt://{at}:{ports['mqtt']}",
        # Every alert (the kind's default is HIGH and up), one mail a window.
        "email": f"type=email,smtp=smtp://{at}:{ports.get('email', 0)},starttls=false,"
        f"from=kisalert@bench.test,to=soc@bench.test,min_severity=INFO,window={EMAIL_WINDOW:g}",
    }
    return "".join(f"forward={name}:{lines[name]}\n" for name in outputs)


# The server's side of the story


def api_get(port: int, path: str) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": rt.auth_header()}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body: bytes = answer.read()
        return body


def raised(port: int) -> int:
    """Alerts the server raised since it started, every header (from /metrics)."""
    text = api_get(port, "/metrics").decode()
    counts = re.findall(r"^kisalert_alerts_raised_total\{[^}]*\} (\S+)$", text, re.MULTILINE)
    return sum(int(float(count)) for count in counts)


def status(port: int) -> dict[str, dict[str, Any]]:
    records: list[dict[str, Any]] = orjson.loads(api_get(port, "/forward/status.json"))
    return {
        record["kisalert.forward.name"]: {
            key.removeprefix("kisalert.forward."): value for key, value in record.items()
        }
        for record in records
    }


def drained(port: int, timeout: float) -> tuple[int, dict[str, dict[str, Any]], float]:
    """Once every output has delivered every alert raised (or `timeout` passed): the
    alerts raised, the outputs' status, and the seconds it took."""
    start, count = time.perf_counter(), raised(port)  # the load is over: no more come
    while True:
        outputs = status(port)
        done = all(
            s["delivered"] + s["failed"] >= count and s["backlog"] == 0 for s in outputs.values()
        )
        elapsed = time.perf_counter() - start
        if done or elapsed > timeout:
            return count, outputs, elapsed
        # Not more often: each answer counts every output's backlog in the log.
        time.sleep(0.5)


def define(port: int) -> None:
    async def go() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body: dict[str, object] = {"name": "BENCH", "description": "bench"}
        status, answer = await rt.http(
            reader, writer, rt.post("/alerts/definitions/define_alert.cmd", body)
        )
        writer.close()
        if status != 200:
            raise RuntimeError(f"define_alert: {status} {answer!r}")

    asyncio.run(go())


async def paced_load(port: int, rate: float, seconds: float, connections: int) -> tuple[int, int]:
    """`rate` raises a second for `seconds`, open loop: each client sends at fixed
    times (late ones at once), each text holding its send time. (answered 200, not)"""
    interval = connections / rate
    start = time.perf_counter() + 0.1
    done = errors = 0

    async def client(offset: float) -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        while (due := start + offset + n * interval) - start < seconds:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            text = f"sent={time.time_ns()}"
            status, _ = await rt.http(
                reader, writer, rt.post(rt.RAISE_PATH, {**rt.RAISE_ARGS, "text": text})
            )
            done += status == 200
            errors += status != 200
            n += 1
        writer.close()

    await asyncio.gather(*(client(i * interval / connections) for i in range(connections)))
    return done, errors


@dataclass
class Round:
    variant: str
    rate: float  # raises/s answered 200
    p50: float
    p99: float
    errors: int
    cpu_load: float  # server CPU µs per alert over the load
    cpu_all: float  # ... and the drain after it
    worker_cpu: float  # the forwarding process's CPU µs per alert, with the drain
    drain: float  # seconds from the end of the load until every output was done
    raised: int
    outputs: dict[str, dict[str, Any]]
    received: dict[str, Got]
    start_ns: int  # when the load started (time.time_ns())


def forwarding_processes(server: int, count: int, timeout: float = 10.0) -> list[int]:
    """The pids of the server's `count` forwarding processes (docs/forwarding.md),
    once started."""
    deadline = time.monotonic() + timeout
    found: list[int] = []
    while len(found) < count and time.monotonic() < deadline:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
                if (
                    stat
                    and int(stat.rsplit(")", 1)[1].split()[1]) == server
                    and b"kisalert.forward.worker" in (entry / "cmdline").read_bytes()
                ):
                    found.append(int(entry.name))
            except OSError:
                continue
        time.sleep(0.05)
    return found


class Bench:
    def __init__(self, opts: argparse.Namespace, tmp: str, server_cpus: list[int] | None):
        self.opts = opts
        self.tmp = tmp
        self.server_cpus = server_cpus
        self.other_cpus = sorted(set(os.sched_getaffinity(0)) - set(server_cpus or ()))
        self.all_cpus = sorted(set(self.other_cpus) | set(server_cpus or ()))
        self.outputs: list[str] = opts.outputs.split(",")
        self.label = COUNTS.get(len(self.outputs), str(len(self.outputs)))
        self.mosquitto, mqtt_port = start_mosquitto(tmp, opts.mqtt_nodelay)
        try:
            self.receivers = Receivers(mqtt_port, "email" in self.outputs)
        except BaseException:
            self.mosquitto.terminate()
            raise
        self.conf = Path(tmp) / "forward.conf"
        self.conf.write_text(forward_config(self.outputs, self.receivers.ports))
        self.servers = 0

    def close(self) -> None:
        self.receivers.close()
        self.mosquitto.terminate()
        self.mosquitto.wait(10)

    def run(self, variant: str, lag: bool) -> Round:
        self.receivers.reset(keep=lag)
        self.servers += 1
        extra = ["--config", str(self.conf)] if variant == "four" else []
        proc, port = rt.start_server(
            self.tmp, f"{variant}-{self.servers}", "batched", self.opts.backlog,
            self.server_cpus, extra,
        )  # fmt: skip
        try:
            workers = forwarding_processes(proc.pid, len(self.outputs)) if variant == "four" else []
            for worker in workers if self.server_cpus else []:
                # By default beside the server, not on its core: a core to spare.
                where = {"others": self.other_cpus, "server": self.server_cpus}
                os.sched_setaffinity(worker, where.get(self.opts.worker, self.all_cpus))
            define(port)
            cpu_start, start_ns = rt.cpu_seconds(proc.pid), time.time_ns()
            worker_start = sum(map(rt.cpu_seconds, workers))
            if lag:
                load = paced_load(port, self.opts.rate, self.opts.seconds, self.opts.connections)
                done, errors = asyncio.run(load)
                p50 = p99 = 0.0
            elif self.opts.load == "wrk":
                done, errors, p50, p99 = rt.wrk_load(
                    port, self.opts.clients, self.opts.seconds, self.tmp
                )
            else:
                done, errors, latencies = asyncio.run(
                    rt.raise_load(port, self.opts.clients, self.opts.seconds)
                )
                p50, p99 = rt.pct(latencies, 0.5), rt.pct(latencies, 0.99)
            cpu_load = rt.cpu_seconds(proc.pid) - cpu_start
            count, outputs, drain = drained(port, DRAIN_TIMEOUT)
            cpu_all = rt.cpu_seconds(proc.pid) - cpu_start
            worker_cpu = sum(map(rt.cpu_seconds, workers)) - worker_start
            received = self.receivers.collect() if variant == "four" else {}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        per_alert = 1e6 / max(count, 1)
        return Round(
            variant, done / self.opts.seconds, p50, p99, errors,
            cpu_load * per_alert, cpu_all * per_alert, worker_cpu * per_alert, drain, count,
            outputs, received,
            start_ns,
        )  # fmt: skip


def check_lines(rounds: list[Round]) -> list[str]:
    """Per round with outputs: raised, and what each output delivered and each
    receiver got."""
    lines = [
        f"{'round':<6} {'output':<11} {'raised':>7} {'delivered':>9} {'failed':>6} "
        f"{'backlog':>7} {'received':>8} {'drain s':>7}  all delivered"
    ]
    for number, found in enumerate(rounds, 1):
        for name in found.outputs:
            s = found.outputs[name]
            got = found.received.get(name, (0, [], 0))[0]
            ok = s["delivered"] == found.raised and s["backlog"] == 0 and s["failed"] == 0
            lines.append(
                f"{number:<6} {name:<11} {found.raised:>7} {s['delivered']:>9} {s['failed']:>6} "
                f"{s['backlog']:>7} {got:>8} {found.drain:>7.1f}  {'yes' if ok else 'NO'}"
            )
    return lines


def throughput(bench: Bench) -> None:
    opts, label = bench.opts, bench.label
    rounds: dict[str, list[Round]] = {"none": [], "four": []}
    for number in range(opts.repeat):
        for variant in ("none", "four"):
            rt.stage(f"throughput round {number + 1}/{opts.repeat}: {variant}")
            rounds[variant].append(bench.run(variant, lag=False))
    print(
        f"\nthroughput: {opts.clients} clients for {opts.seconds:g} s per round, load from "
        f"{opts.load}, rounds interleaved none/{label}, median of {opts.repeat}"
    )
    print(
        "(server CPU per alert raised: over the load, and with the drain after it; the\n"
        " forwarding process's, with the drain, on the CPUs the server is not pinned to)"
    )
    print(
        f"{'outputs':<8} {'req/s':>7} {'rounds':>20} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'CPU us':>7} {'+ drain':>8} {'fwd proc us':>11}"
    )
    medians = {}
    for variant, found in rounds.items():
        rates = [r.rate for r in found]
        medians[variant] = statistics.median(rates)
        mid = sorted(found, key=lambda r: r.rate)[len(found) // 2]
        name = "none" if variant == "none" else label
        print(
            f"{name:<8} {medians[variant]:>7.0f} {', '.join(f'{x:.0f}' for x in rates):>20} "
            f"{mid.p50:>7.2f} {mid.p99:>7.2f} {sum(r.errors for r in found):>6} "
            f"{statistics.median(r.cpu_load for r in found):>7.0f} "
            f"{statistics.median(r.cpu_all for r in found):>8.0f} "
            f"{statistics.median(r.worker_cpu for r in found):>11.0f}"
        )
    by_round = zip(rounds["none"], rounds["four"], strict=True)
    pairs = ", ".join(f"{four.rate / none.rate:.0%}" for none, four in by_round)
    ratio = medians["four"] / medians["none"]
    print(f"{label} / none, req/s: {ratio:.0%} (round by round: {pairs})")
    cpu = {v: statistics.median(r.cpu_all for r in found) for v, found in rounds.items()}
    print(f"none / {label}, server CPU per alert with the drain: {cpu['none'] / cpu['four']:.0%}")
    print("\n" + "\n".join(check_lines(rounds["four"])), flush=True)


def lag(bench: Bench) -> None:
    opts = bench.opts
    found: list[Round] = []
    bare: list[Round] = []
    for number in range(opts.repeat):
        # The same load without outputs, for the server's CPU per alert without them.
        for variant in ("none", "four"):
            rt.stage(f"lag round {number + 1}/{opts.repeat}: {opts.rate:g} alerts/s, {variant}")
            (bare if variant == "none" else found).append(bench.run(variant, lag=True))
    print(
        f"\nlag: {opts.rate:g} alerts/s offered for {opts.seconds:g} s from "
        f"{opts.connections} clients; lag = arrival at the receiver - raise sent"
    )
    print(
        "(CPU us: server CPU per alert, with the drain; without outputs: "
        f"{', '.join(f'{r.cpu_all:.0f}' for r in bare)}. out/s: what the output "
        "delivered a second, from the load's start to its last)"
    )
    print(
        f"{'round':<6} {'raised/s':>8} {'CPU us':>7} {'fwd us':>6} {'output':<11} {'alerts':>6} "
        f"{'out/s':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for number, result in enumerate(found, 1):
        for name in bench.outputs:
            count, lags, last_ns = result.received.get(name, (0, [], 0))
            seconds = max(last_ns - result.start_ns, 1) / 1e9
            p50, p99 = (rt.pct([x / 1000 for x in lags], q) for q in (0.5, 0.99))
            print(
                f"{number:<6} {result.rate:>8.0f} {result.cpu_all:>7.0f} "
                f"{result.worker_cpu:>6.0f} {name:<11} {count:>6} "
                f"{count / seconds:>6.0f} {p50:>8.1f} {p99:>8.1f} {max(lags, default=0):>8.1f}"
            )
    print("\n" + "\n".join(check_lines(found)), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parts", default="throughput,lag")
    parser.add_argument("--clients", type=int, default=32, help="throughput: concurrent clients")
    parser.add_argument("--rate", type=float, default=1000.0, help="lag: alerts/s offered")
    parser.add_argument("--connections", type=int, default=16, help="lag: paced clients")
    parser.add_argument("--backlog", type=int, default=50)
    parser.add_argument(
        "--outputs",
        default=",".join(default_outputs()),
        help=f"the outputs attached, of {', '.join(RECEIVERS)}",
    )
    parser.add_argument(
        "--load",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="the throughput load generator (default: wrk when installed)",
    )
    parser.add_argument(
        "--mqtt-nodelay",
        action="store_true",
        help="mosquitto with set_tcp_nodelay true (its default: Nagle on, acks wait)",
    )
    parser.add_argument(
        "--pin", action="store_true", help="server on the first CPU, everything else on the others"
    )
    parser.add_argument(
        "--worker",
        choices=("others", "server", "all"),
        default="others",
        help="with --pin, the CPUs of the forwarding process: the others (default), the "
        "server's, or all of them",
    )
    opts = parser.parse_args()
    unknown = set(opts.outputs.split(",")) - set(RECEIVERS)
    if unknown or ("email" in opts.outputs.split(",") and not email_available()):
        parser.error(f"--outputs: unknown or unavailable {sorted(unknown) or 'email'}")
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus = cpus[:1] if opts.pin and len(cpus) > 1 else None
    if server_cpus:
        os.sched_setaffinity(0, cpus[1:])  # wrk, mosquitto and the receivers inherit it
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(opts, tmp, server_cpus)
        try:
            pinned = f"server pinned to CPU {server_cpus[0]}" if server_cpus else "not pinned"
            print(
                f"kisalert forwarding cost: batched log, backlog {opts.backlog}, {pinned}, "
                f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
                f"load average {load:.2f} at the start"
            )
            nodelay = ", mosquitto set_tcp_nodelay" if opts.mqtt_nodelay else ""
            print(f"outputs: {', '.join(bench.outputs)}{nodelay}", flush=True)
            if "throughput" in opts.parts:
                throughput(bench)
            if "lag" in opts.parts:
                lag(bench)
        finally:
            bench.close()
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
