"""DEVICEFOUND, DEVICELOST: a watched relay, masked sources, the exact timeout, bounds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scapy.packet import Packet

from kisalert.wids.detectors import devices
from kisalert.wids.detectors.devices import Devices
from kisalert.wids.engine import Engine
from kisalert.wids.replay import Replay, open_captures
from tests.wids.frames import AP, STA, T0, beacon, data, make_config, only, replay, write_pcap

HOST = "02:00:00:00:09:09"  # a wired host behind the AP
ZERO = "00:00:00:00:00:00"


def relayed() -> Packet:
    """A wired host's frame relayed by the AP: addr2 is the AP, the SA is the host."""
    return data(b"\x08\x00", source=HOST, dest=STA, to_ds=False)


def test_devicefound_a_watched_ap_relaying_another_source_is_the_source(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "relay.pcap", [relayed()])
    [alert] = only(replay(capture, f"devicefound={AP}\n"), "DEVICEFOUND")
    assert alert["kismet.alert.source_mac"] == AP.upper()
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.text"] == (
        f"Watched device {AP.upper()} (devicefound {AP.upper()}) seen"
    )


def test_devicefound_mask_matching_only_the_relayed_source(tmp_path: Path) -> None:
    mask = "02:00:00:00:09:00/FF:FF:FF:FF:FF:00"  # the host, not the AP
    capture = write_pcap(tmp_path / "relay.pcap", [relayed()])
    [alert] = only(replay(capture, f"devicefound={mask}\n"), "DEVICEFOUND")
    assert alert["kismet.alert.source_mac"] == HOST.upper()
    assert alert["kismet.alert.text"] == f"Watched device {HOST.upper()} (devicefound {mask}) seen"


def test_devicelost_raised_by_a_frame_exactly_at_the_timeout(tmp_path: Path) -> None:
    frames = [data(b"\x08\x00"), beacon()]
    capture = write_pcap(tmp_path / "lost.pcap", frames, times=[T0, T0 + 60])
    [alert] = only(replay(capture, f"devicelost={STA}\n"), "DEVICELOST")
    assert alert["kismet.alert.timestamp"] == T0 + 60
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert alert["kismet.alert.other_mac"] == ZERO
    capture = write_pcap(tmp_path / "early.pcap", frames, times=[T0, T0 + 59.999999])
    assert only(replay(capture, f"devicelost={STA}\n"), "DEVICELOST") == []


def test_mask_cache_never_holds_more_than_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "CACHE_LIMIT", 4)
    engine = Engine(
        make_config("devicefound=02:00:00:00:00:00/FF:00:00:00:00:00\n"), families=[Devices]
    )
    [family] = engine.families
    assert isinstance(family, Devices)
    for index in range(12):
        ap = bytes.fromhex(AP.replace(":", ""))
        source = bytes((0x02, 0, 0, 0, 7, index))
        frame = b"\x08\x01\x00\x00" + ap + source + ap + b"\x00\x00"
        engine.feed(105, 1_000_000 + index, frame)
        assert len(family._cache) <= 4
    assert len([hit for hit in engine.hits if hit.header == "DEVICEFOUND"]) == 12


def test_devicefound_timeout_above_an_hour_is_honoured(tmp_path: Path) -> None:
    # Silent 4000 s is not yet 7200 s: no second alert; then 7200 s is.
    frames = [data(b"\x08\x00")] * 3
    times = [T0, T0 + 4000, T0 + 11_200]
    capture = write_pcap(tmp_path / "found.pcap", frames, times=times)
    config = f"devicefound={STA}\ndevicefound_timeout=7200\n"
    found = only(replay(capture, config), "DEVICEFOUND")
    assert [alert["kismet.alert.timestamp"] for alert in found] == [T0, T0 + 11_200]


def test_disabled_devicelost_reports_nothing_not_even_a_throttled_hit(tmp_path: Path) -> None:
    frames = [data(b"\x08\x00"), beacon()]
    capture = write_pcap(tmp_path / "off.pcap", frames, times=[T0, T0 + 61])
    config = make_config(f"devicelost={STA}\nalert=DEVICELOST,0/min,0/sec\n")
    alerts: list[object] = []
    captures = open_captures([capture])
    try:
        summary = asyncio.run(Replay(config, on_alert=alerts.append).run(captures))
    finally:
        captures[0].close()
    assert alerts == []
    assert summary.throttled == 0
