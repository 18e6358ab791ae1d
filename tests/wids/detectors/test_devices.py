"""DEVICEFOUND, DEVICELOST: trigger and near miss, re-arming, masks, timeouts, bounds."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.dot11 import Dot11
from scapy.packet import Packet

from kisalert.wids.detectors import devices
from kisalert.wids.detectors.devices import Devices
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame
from kisalert.wids.engine import Engine
from tests.wids.frames import (
    AP,
    STA,
    STA2,
    T0,
    beacon,
    data,
    make_config,
    only,
    probe_request,
    radiotap,
    replay,
    write_pcap,
)

HOST = "02:00:00:00:09:09"  # a wired host behind the AP
ZERO = "00:00:00:00:00:00"
MASK = "02:00:00:00:00:00/FF:FF:FF:00:00:00"


def from_sta(source: str = STA) -> Packet:
    return data(b"\x08\x00", source=source)


def run(
    tmp_path: Path, frames: Sequence[Packet | bytes], times: Sequence[float], config: str
) -> list[dict[str, Any]]:
    capture = write_pcap(tmp_path / "watch.pcap", frames, times=[T0 + t for t in times])
    return replay(capture, config)


def traffic(start: int, stop: int) -> tuple[list[Packet | bytes], list[float]]:
    """Beacons from the AP once a second from `start` to `stop` seconds (inclusive):
    one beacon's capture record, built by scapy once (hundreds took seconds)."""
    seconds = list(range(start, stop + 1))
    record = bytes(radiotap(beacon()))
    return [record for _ in seconds], [float(s) for s in seconds]


# DEVICEFOUND


def test_devicefound(tmp_path: Path) -> None:
    records = run(tmp_path, [from_sta()], [0], f"devicefound={STA}\n")
    [alert] = only(records, "DEVICEFOUND")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert alert["kismet.alert.dest_mac"] == AP.upper()
    assert alert["kismet.alert.other_mac"] == ZERO
    assert alert["kismet.alert.channel"] == "6"
    assert alert["kismet.alert.text"] == (
        f"Watched device {STA.upper()} (devicefound {STA.upper()}) seen"
    )


def test_devicefound_near_miss_other_device_or_only_receiving(tmp_path: Path) -> None:
    # STA2 transmits; the watched STA is only ever a receiver.
    ack = Dot11(type=1, subtype=13, addr1=STA)
    frames = [from_sta(STA2), beacon(probe_response_to=STA), ack, data(b"", source=STA2, dest=STA)]
    records = run(tmp_path, frames, [0, 1, 2, 3], f"devicefound={STA}\n")
    assert only(records, "DEVICEFOUND") == []


def test_devicefound_once_while_the_device_keeps_transmitting(tmp_path: Path) -> None:
    times = [0, 30, 89, 150, 209]  # silent for 30, 59, 61, then 59 seconds
    frames = [from_sta() for _ in times]
    records = only(run(tmp_path, frames, times, f"devicefound={STA}\n"), "DEVICEFOUND")
    assert [r["kismet.alert.timestamp"] for r in records] == [T0, T0 + 150]


def test_devicefound_again_after_exactly_the_timeout(tmp_path: Path) -> None:
    records = run(tmp_path, [from_sta(), from_sta()], [0, 60], f"devicefound={STA}\n")
    assert len(only(records, "DEVICEFOUND")) == 2


def test_devicefound_timeout_setting(tmp_path: Path) -> None:
    frames, times = [from_sta(), from_sta()], [0.0, 31.0]
    assert len(only(run(tmp_path, frames, times, f"devicefound={STA}\n"), "DEVICEFOUND")) == 1
    config = f"devicefound={STA}\ndevicefound_timeout=30\n"
    assert len(only(run(tmp_path, frames, times, config), "DEVICEFOUND")) == 2


def test_devicefound_sees_the_source_of_a_from_ds_frame(tmp_path: Path) -> None:
    # A wired host's frame relayed by the AP: addr2 is the AP, the SA is the host.
    frame = data(b"\x08\x00", source=HOST, dest=STA, to_ds=False)
    [alert] = only(run(tmp_path, [frame], [0], f"devicefound={HOST}\n"), "DEVICEFOUND")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == HOST.upper()
    assert alert["kismet.alert.dest_mac"] == STA.upper()


def test_devicefound_sees_the_transmitter_of_a_control_frame(tmp_path: Path) -> None:
    rts = Dot11(type=1, subtype=11, addr1=AP, addr2=STA)
    [alert] = only(run(tmp_path, [rts], [0], f"devicefound={STA}\n"), "DEVICEFOUND")
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert alert["kismet.alert.transmitter_mac"] == ZERO  # a control frame names no BSSID


def test_devicefound_mask_watches_each_matching_device(tmp_path: Path) -> None:
    frames = [from_sta(STA), from_sta(STA2), from_sta(STA), from_sta("04:00:00:00:01:01")]
    records = only(run(tmp_path, frames, [0, 2, 4, 6], f"devicefound={MASK}\n"), "DEVICEFOUND")
    assert [r["kismet.alert.source_mac"] for r in records] == [STA.upper(), STA2.upper()]
    assert records[0]["kismet.alert.text"] == (
        f"Watched device {STA.upper()} (devicefound {MASK}) seen"
    )


def test_devicefound_mask_near_miss(tmp_path: Path) -> None:
    frames = [from_sta("02:00:01:00:01:01"), beacon(bssid="12:00:00:00:00:01")]
    assert only(run(tmp_path, frames, [0, 2], f"devicefound={MASK}\n"), "DEVICEFOUND") == []


# DEVICELOST


def lost_capture(last: int, config: str, tmp_path: Path) -> list[dict[str, Any]]:
    """STA transmits at 0 on channel 11; the AP beacons on channel 6 from 1 to `last`."""
    frames, times = traffic(1, last)
    frames.insert(0, radiotap(from_sta(), channel=11))
    times.insert(0, 0.0)
    return run(tmp_path, frames, times, config)


def test_devicelost(tmp_path: Path) -> None:
    [alert] = only(lost_capture(62, f"devicelost={STA}\n", tmp_path), "DEVICELOST")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert alert["kismet.alert.dest_mac"] == ZERO
    assert alert["kismet.alert.channel"] == "11"  # where STA was last heard
    assert alert["kismet.alert.frequency"] == 2462000
    assert alert["kismet.alert.text"] == (
        f"Watched device {STA.upper()} (devicelost {STA.upper()}) not seen for 60 seconds"
    )
    assert T0 + 60 <= alert["kismet.alert.timestamp"] <= T0 + 62


def test_devicelost_with_sparse_traffic_is_raised_by_the_frame_that_shows_it(
    tmp_path: Path,
) -> None:
    # Traffic at 30 and 65 s only: the frame at 65 proves 65 s of silence.
    frames = [from_sta(), beacon(), beacon()]
    records = only(run(tmp_path, frames, [0.0, 30.0, 65.0], f"devicelost={STA}\n"), "DEVICELOST")
    assert [record["kismet.alert.timestamp"] for record in records] == [T0 + 65]


def test_devicelost_near_miss_traffic_stops_before_the_timeout(tmp_path: Path) -> None:
    assert only(lost_capture(59, f"devicelost={STA}\n", tmp_path), "DEVICELOST") == []


def test_devicelost_near_miss_device_keeps_transmitting(tmp_path: Path) -> None:
    # Heard every 50 s, and traffic ends 49.5 s after it was last heard.
    frames, times = traffic(1, 200)
    for second in (150, 100, 50, 0):
        frames.insert(second, from_sta())
        times.insert(second, second + 0.5)
    assert times == sorted(times)
    assert only(run(tmp_path, frames, times, f"devicelost={STA}\n"), "DEVICELOST") == []


def test_devicelost_near_miss_never_seen(tmp_path: Path) -> None:
    frames, times = traffic(0, 100)
    assert only(run(tmp_path, frames, times, f"devicelost={STA}\n"), "DEVICELOST") == []


def test_devicelost_raised_once_then_rearmed_when_it_reappears(tmp_path: Path) -> None:
    frames, times = traffic(1, 300)
    frames.insert(0, from_sta())
    times.insert(0, 0.0)
    records = only(run(tmp_path, frames, times, f"devicelost={STA}\n"), "DEVICELOST")
    assert len(records) == 1  # silent for 300 s, raised once
    frames.insert(100, from_sta())  # back at 99.5, then silent again
    times.insert(100, 99.5)
    records = only(run(tmp_path, frames, times, f"devicelost={STA}\n"), "DEVICELOST")
    assert len(records) == 2
    assert T0 + 159.5 <= records[1]["kismet.alert.timestamp"] <= T0 + 161.5


def test_devicelost_not_raised_across_a_capture_gap_the_device_ends(tmp_path: Path) -> None:
    # Nothing at all is heard for 10 minutes, and the first frame after is STA's own.
    frames = [from_sta(), from_sta(), beacon(), beacon()]
    records = run(tmp_path, frames, [0, 600, 601, 602], f"devicelost={STA}\n")
    assert only(records, "DEVICELOST") == []


def test_devicelost_timeout_setting(tmp_path: Path) -> None:
    assert only(lost_capture(40, f"devicelost={STA}\n", tmp_path), "DEVICELOST") == []
    config = f"devicelost={STA}\ndevicelost_timeout=30\n"
    [alert] = only(lost_capture(40, config, tmp_path), "DEVICELOST")
    assert alert["kismet.alert.text"].endswith("not seen for 30 seconds")


def test_devicelost_mask_watches_each_matching_device(tmp_path: Path) -> None:
    frames, times = traffic(2, 70)
    frames[:0] = [from_sta(STA), from_sta(STA2)]
    times[:0] = [0.0, 1.0]
    records = only(run(tmp_path, frames, times, f"devicelost={MASK}\n"), "DEVICELOST")
    assert sorted(r["kismet.alert.source_mac"] for r in records) == [STA.upper(), STA2.upper()]
    assert all(f"(devicelost {MASK})" in r["kismet.alert.text"] for r in records)


def test_found_and_lost_together(tmp_path: Path) -> None:
    config = f"devicefound={STA}\ndevicelost={STA}\n"
    records = lost_capture(62, config, tmp_path)
    assert len(only(records, "DEVICEFOUND")) == 1
    assert len(only(records, "DEVICELOST")) == 1


# Cost and bounds


def test_nothing_configured_takes_the_family_off_every_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(self: Devices, frame: Frame, now_us: int) -> None:
        raise AssertionError("Devices.frame called with nothing to watch")

    monkeypatch.setattr(Devices, "frame", refuse)
    engine = Engine(make_config(""), families=[Devices])
    [family] = engine.families
    assert family.kinds == 0
    for frame in (from_sta(), beacon(), probe_request(), Dot11(type=1, subtype=13, addr1=STA)):
        engine.feed(127, 1_000_000, bytes(radiotap(frame)))
    assert engine.counts.decoded == 4


def test_configured_family_asks_for_every_frame() -> None:
    engine = Engine(make_config(f"devicelost={STA}\n"), families=[Devices])
    assert engine.families[0].kinds == F.ANY


def raw_data_frame(source: bytes) -> bytes:
    """A to-DS null-payload data frame as raw 802.11 (link type 105)."""
    ap = bytes.fromhex(AP.replace(":", ""))
    return b"\x08\x01\x00\x00" + ap + source + ap + b"\x00\x00"


def test_random_mac_flood_under_a_broad_mask_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(devices, "WATCH_LIMIT", 50)
    monkeypatch.setattr(devices, "CACHE_LIMIT", 80)
    broad = "02:00:00:00:00:00/FF:00:00:00:00:00"
    config = make_config(f"devicefound={broad}\ndevicelost={broad}\n")
    engine = Engine(config, families=[Devices])
    [family] = engine.families
    assert isinstance(family, Devices)
    rng = random.Random(7)
    for index in range(2000):
        first = 0x02 if index % 2 else 0x06  # half inside the mask
        mac = bytes([first]) + rng.randbytes(5)
        engine.feed(105, 1_000_000 + index * 10_000, raw_data_frame(mac))
    assert len(family._found) <= 50
    assert len(family._lost) <= 50
    assert len(family._cache) <= 80
    found = [hit for hit in engine.hits if hit.header == "DEVICEFOUND"]
    assert len(found) == 1000  # every distinct matching device, each once
