"""A flood of random MACs costs bounded memory in every detector family."""

from __future__ import annotations

import random
import struct
import tracemalloc

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP

from kisalert.wids import state
from kisalert.wids.engine import Engine
from tests.wids.benign import eapol_key
from tests.wids.frames import (
    assoc_request,
    beacon,
    data,
    deauth,
    make_config,
    probe_request,
    radiotap,
)

CONFIG = (
    'apspoof=corp:ssid="^corp",validmacs="02:00:00:00:00:01"\n'
    'ssidcanary=canary:ssid="^canary"\n'
    "devicefound=02:00:00:00:00:00/FF:00:00:00:00:00\n"
    "devicelost=02:00:00:00:00:00/FF:00:00:00:00:00\n"
)


def templates() -> list[bytes]:
    dhcp = (
        IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / BOOTP(op=1, chaddr=b"\x02" * 6)
        / DHCP(options=[("message-type", 1), ("hostname", b"h"), "end"])
    )
    ack = (
        IP(src="10.0.0.1", dst="255.255.255.255")
        / UDP(sport=67, dport=68)
        / BOOTP(op=2, chaddr=b"\x02" * 6, yiaddr="10.0.0.9")
        / DHCP(options=[("message-type", 5), "end"])
    )
    frames = [
        beacon(b"corpX"),
        beacon(b"canary", probe_response_to="02:00:00:00:01:01"),
        probe_request(b"canary-probe"),
        deauth(),
        assoc_request(),
        data(b"\x08\x00" + bytes(dhcp)),
        data(b"\x08\x00" + bytes(ack), to_ds=False),
        eapol_key("02:00:00:00:00:01", "02:00:00:00:01:01", True, 0x008A, 1, b"\x11" * 32),
    ]
    return [bytes(radiotap(frame)) for frame in frames]


def flood(engine: Engine, count: int, rng: random.Random, start_us: int) -> int:
    records = templates()
    now = start_us
    for i in range(count):
        record = bytearray(records[i % len(records)])
        head = struct.unpack_from("<H", record, 2)[0]
        mac = b"\x02" + rng.randbytes(5)
        record[head + 10 : head + 16] = mac  # transmitter / source
        record[head + 16 : head + 22] = rng.randbytes(6)  # BSSID or SA/DA
        now += 1000
        engine.feed(127, now, bytes(record))
    return now


@pytest.fixture
def small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "DEFAULT_LIMIT", 500)


@pytest.mark.usefixtures("small_tables")
def test_random_mac_flood_memory_is_flat() -> None:
    engine = Engine(make_config(CONFIG))
    rng = random.Random(7)
    now = flood(engine, 16_000, rng, 1_764_420_000_000_000)
    engine.take_hits()
    tracemalloc.start()
    try:
        now = flood(engine, 8_000, rng, now)
        engine.take_hits()
        first, _ = tracemalloc.get_traced_memory()
        flood(engine, 24_000, rng, now)
        engine.take_hits()
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Three times the frames, and no more memory held than after the first third.
    assert second - first < 256 * 1024, (first, second)
