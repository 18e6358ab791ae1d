"""WIDS engine speed and memory: `kisalert replay` over large generated captures.

Writes two radiotap pcaps (unless they exist): a mixed capture (beacons of 60
networks with full modern element sets, probe requests and responses, encrypted QoS
data, open data with DHCP, ACK/RTS/CTS, WPA2 handshakes, the odd deauth), and a
random-MAC flood (every beacon from a new BSSID with a new SSID). Runs `kisalert
replay --quiet` over each and prints frames per second and peak RSS. Target: the
mixed capture at >= 110 000 frames/s, RSS <= 100 MB whatever the size.

    .venv/bin/python bench/replay.py [--frames 1000000] [--repeat 3] [--pin]
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

T0 = 1_764_420_000


def radiotap(freq: int, signal: int) -> bytes:
    # flags, channel, dBm signal: what most monitor-mode drivers write
    return struct.pack("<BBHIBxHHb", 0, 0, 15, 0x2A, 0, freq, 0x00A0, signal)


def elements(*pairs: tuple[int, bytes]) -> bytes:
    return b"".join(bytes([eid, len(body)]) + body for eid, body in pairs)


RSN = b"\x01\x00\x00\x0f\xac\x04\x01\x00\x00\x0f\xac\x04\x01\x00\x00\x0f\xac\x02\x80\x00"
HT_CAP = bytes(26)
HT_OP = bytes(22)
WMM = b"\x00\x50\xf2\x02\x01\x01\x80\x00" + bytes(16)
EXT_CAP = b"\x04\x00\x08\x00\x00\x00\x00\x40"


def mac(n: int) -> bytes:
    return b"\x02" + n.to_bytes(5, "big")


def beacon(bssid: bytes, ssid: bytes, channel: int, subtype: int = 8) -> bytes:
    head = struct.pack("<BBH6s6s6sH", subtype << 4, 0, 0, b"\xff" * 6, bssid, bssid, 0)
    fixed = struct.pack("<QHH", 0, 100, 0x0411)
    ies = elements(
        (0, ssid),
        (1, b"\x82\x84\x8b\x96\x0c\x12\x18\x24"),
        (3, bytes([channel])),
        (5, b"\x00\x01\x00\x00"),
        (7, b"US \x01\x0b\x1e"),
        (42, b"\x00"),
        (50, b"\x30\x48\x60\x6c"),
        (48, RSN),
        (45, HT_CAP),
        (61, HT_OP),
        (127, EXT_CAP),
        (221, WMM),
    )
    return head + fixed + ies


def probe_request(sta: bytes, ssid: bytes) -> bytes:
    head = struct.pack("<BBH6s6s6sH", 0x40, 0, 0, b"\xff" * 6, sta, b"\xff" * 6, 0)
    return head + elements((0, ssid), (1, b"\x02\x04\x0b\x16"), (50, b"\x0c\x12\x18\x24"))


def qos_data(bssid: bytes, sta: bytes, size: int) -> bytes:
    head = struct.pack("<BBH6s6s6sHH", 0x88, 0x41, 0, bssid, sta, bssid, 0, 0)
    return head + bytes(8) + os.urandom(size)  # CCMP header, then ciphertext


def open_dhcp(bssid: bytes, sta: bytes) -> bytes:
    head = struct.pack("<BBH6s6s6sH", 0x08, 0x01, 0, bssid, sta, b"\xff" * 6, 0)
    dhcp = bytes([1, 1, 6, 0]) + bytes(24) + sta + bytes(10 + 192) + b"\x63\x82\x53\x63"
    dhcp += b"\x35\x01\x01\x3d\x07\x01" + sta + b"\x0c\x04host\xff"
    udp = struct.pack(">HHHH", 68, 67, 8 + len(dhcp), 0) + dhcp
    ip = struct.pack(
        ">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(4), b"\xff" * 4
    )
    return head + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + ip + udp


def eapol(bssid: bytes, sta: bytes, message: int) -> bytes:
    from_ap = message in (1, 3)
    flags = 0x02 if from_ap else 0x01
    a1, a2 = (sta, bssid) if from_ap else (bssid, sta)
    head = struct.pack("<BBH6s6s6sH", 0x08, flags, 0, a1, a2, bssid, 0)
    info = {1: 0x008A, 2: 0x010A, 3: 0x13CA, 4: 0x030A}[message]
    key = struct.pack(
        ">BHHQ32s16s8s8s16sH",
        2,
        info,
        16,
        message,
        os.urandom(32),
        bytes(16),
        bytes(8),
        bytes(8),
        bytes(16) if message == 1 else os.urandom(16),
        0,
    )
    body = struct.pack(">BBH", 2, 3, len(key)) + key
    return head + b"\xaa\xaa\x03\x00\x00\x00\x88\x8e" + body


def control(kind: int, ra: bytes, ta: bytes) -> bytes:
    if kind == 0xD4:  # ACK
        return struct.pack("<BBH6s", kind, 0, 0, ra)
    return struct.pack("<BBH6s6s", kind, 0, 0, ra, ta)  # RTS


def deauth(bssid: bytes, sta: bytes) -> bytes:
    return struct.pack("<BBH6s6s6sHH", 0xC0, 0, 0, sta, bssid, bssid, 0, 7)


def write(path: Path, frames: int, flood: bool, seed: int = 1) -> None:
    rng = random.Random(seed)
    freqs = (2412, 2437, 2462, 5180, 5745)
    aps = [(mac(i), f"net-{i:02}".encode(), (1, 6, 11, 36, 149)[i % 5]) for i in range(60)]
    stations = [mac(0x10000 + i) for i in range(400)]
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 127))
        for n in range(frames):
            ts = T0 * 1_000_000 + n * 100
            if flood:
                # Every frame from new addresses, every kind that keeps state.
                bssid, sta = b"\x02" + rng.randbytes(5), b"\x02" + rng.randbytes(5)
                kind = n % 6
                if kind == 0:
                    frame = beacon(bssid, rng.randbytes(8).hex().encode(), 6)
                elif kind == 1:
                    frame = probe_request(sta, rng.randbytes(6).hex().encode())
                elif kind == 2:
                    frame = deauth(bssid, sta)
                elif kind == 3:
                    frame = open_dhcp(bssid, sta)
                elif kind == 4:
                    frame = eapol(bssid, sta, 1 + n % 4)
                else:
                    frame = beacon(bssid, b"corp-" + rng.randbytes(4).hex().encode(), 6, 5)
                freq = 2437
            else:
                bssid, ssid, channel = aps[n % 60]
                sta = stations[rng.randrange(400)]
                freq = freqs[channel % 5] if channel < 14 else freqs[3 + (channel > 100)]
                roll = rng.random()
                if roll < 0.30:
                    frame = beacon(bssid, ssid, channel)
                elif roll < 0.40:
                    frame = probe_request(sta, rng.choice((b"", ssid)))
                elif roll < 0.45:
                    frame = beacon(bssid, ssid, channel, subtype=5)
                elif roll < 0.75:
                    frame = qos_data(bssid, sta, rng.randrange(40, 1400))
                elif roll < 0.85:
                    frame = control(0xD4, sta, b"")
                elif roll < 0.93:
                    frame = control(0xB4, bssid, sta)
                elif roll < 0.97:
                    frame = eapol(bssid, sta, 1 + n % 4)
                elif roll < 0.995:
                    frame = open_dhcp(bssid, sta)
                else:
                    frame = deauth(bssid, sta)
            record = radiotap(freq, -40 - n % 50) + frame
            out.write(
                struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(record), len(record))
            )
            out.write(record)


# For the flood: every detector on and every watch list in use, so that every
# family keeps state for the flood's addresses.
EVERYTHING = (
    'apspoof=corp:ssid="^corp",validmacs="02:00:00:00:00:01"\n'
    'ssidcanary=canary:ssid="canary"\n'
    "devicefound=02:00:00:00:00:00/FF:00:00:00:00:00\n"
    "devicelost=02:00:00:00:00:00/FF:00:00:00:00:00\n"
    + "".join(
        f"alert={name},10/min,1/sec\n"
        for name in (
            "DEAUTHCODEINVALID",
            "OVERPOWERED",
            "NONCEDEGRADE",
            "NONCEREUSE",
            "QCOMEXTENDED",
        )
    )
)


def run(capture: Path, frames: int, pin: bool, config: Path | None) -> tuple[float, int]:
    args = [sys.executable, "-m", "kisalert", "replay", "--quiet", str(capture)]
    if config is not None:
        args[4:4] = ["--config", str(config)]
    if pin:
        args = ["taskset", "-c", "1", *args]
    # A wrapper process, so that its children's peak RSS is this run's alone.
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *args], check=True, capture_output=True, text=True
    ).stdout.split()
    return frames / float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pin", action="store_true", help="run replay on core 1 alone")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    everything = args.dir / "kisalert-bench-everything.conf"
    everything.write_text(EVERYTHING)
    captures = {}
    for name, flood in (("mixed", False), ("flood", True)):
        path = args.dir / f"kisalert-bench-{name}2-{args.frames}.pcap"
        if not path.exists():
            print(f"-- writing {path} ...", file=sys.stderr, flush=True)
            write(path, args.frames, flood)
        captures[name] = path
    print(
        f"{'capture':<8} {'config':<10} {'frames':>10} {'MB':>6} {'frames/s':>10} "
        f"{'peak RSS MB':>12}",
        flush=True,
    )
    runs = [
        ("mixed", None),
        ("mixed", everything),
        ("flood", everything),
    ]
    for name, config in runs:
        path = captures[name]
        rates = []
        peak = 0
        label = "default" if config is None else "everything"
        for attempt in range(args.repeat):
            print(
                f"-- replaying {name} ({label} config), run {attempt + 1}/{args.repeat}",
                file=sys.stderr,
                flush=True,
            )
            rate, rss = run(path, args.frames, args.pin, config)
            rates.append(rate)
            peak = max(peak, rss)
        rates.sort()
        size = path.stat().st_size / 1e6
        print(
            f"{name:<8} {label:<10} "
            f"{args.frames:>10,} {size:>6.0f} {rates[len(rates) // 2]:>10,.0f} "
            f"{peak / 1024:>12.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
