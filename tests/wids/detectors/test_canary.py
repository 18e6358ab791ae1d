"""SSIDCANARY: trigger and near miss, once per (transmitter, SSID), bounded state."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scapy.packet import Packet

from kisalert.wids.detectors.canary import Canary
from kisalert.wids.engine import Engine
from kisalert.wids.state import DEFAULT_LIMIT
from tests.wids.frames import (
    AP,
    AP2,
    STA,
    STA2,
    beacon,
    make_config,
    only,
    probe_request,
    radiotap,
    replay,
    write_pcap,
)

CANARY = 'ssidcanary=honey:ssid="^honeypot"\n'


def run(tmp_path: Path, frames: Sequence[Packet], config: str = CANARY) -> list[dict[str, Any]]:
    capture = write_pcap(tmp_path / "canary.pcap", frames, step=2.0)
    return only(replay(capture, config), "SSIDCANARY")


def check(alert: dict[str, Any], transmitter: str, source: str, dest: str) -> None:
    assert alert["kismet.alert.header"] == "SSIDCANARY"
    assert alert["kismet.alert.transmitter_mac"] == transmitter.upper()
    assert alert["kismet.alert.source_mac"] == source.upper()
    assert alert["kismet.alert.dest_mac"] == dest.upper()
    assert alert["kismet.alert.channel"] == "6"


def test_ssidcanary_beacon(tmp_path: Path) -> None:
    [alert] = run(tmp_path, [beacon(ssid="honeypot-1")])
    check(alert, AP, AP, "ff:ff:ff:ff:ff:ff")
    assert alert["kismet.alert.text"] == (
        f"Beacon from BSSID {AP.upper()} names canary SSID 'honeypot-1' of ssidcanary rule 'honey'"
    )


def test_ssidcanary_probe_response(tmp_path: Path) -> None:
    [alert] = run(tmp_path, [beacon(ssid="honeypot", probe_response_to=STA)])
    check(alert, AP, AP, STA)
    assert alert["kismet.alert.text"].startswith(f"Probe response from BSSID {AP.upper()}")


def test_ssidcanary_probe_request_names_the_station(tmp_path: Path) -> None:
    [alert] = run(tmp_path, [probe_request(ssid="honeypot", source=STA)])
    # (BSSID, source, destination): a probe request's BSSID is the wildcard.
    check(alert, "ff:ff:ff:ff:ff:ff", STA, "ff:ff:ff:ff:ff:ff")
    text = alert["kismet.alert.text"]
    assert text.startswith(f"Probe request from station {STA.upper()}")
    assert "'honeypot'" in text and "'honey'" in text


def test_ssidcanary_near_miss_other_ssid(tmp_path: Path) -> None:
    # A search, so the anchor matters: "my-honeypot" does not start with it.
    frames = [beacon(ssid="my-honeypot"), probe_request(ssid="honeypo")]
    assert run(tmp_path, frames) == []


def test_ssidcanary_near_miss_no_rules(tmp_path: Path) -> None:
    assert run(tmp_path, [beacon(ssid="honeypot")], config="") == []


def test_ssidcanary_ignores_wildcard_probes(tmp_path: Path) -> None:
    assert run(tmp_path, [probe_request(ssid=b"")], 'ssidcanary=any:ssid=""\n') == []


def test_ssidcanary_every_matching_frame_is_reported(tmp_path: Path) -> None:
    # The detector reports each frame; only the tracker's throttle (5/min) thins them.
    frames = [
        beacon(ssid="honeypot"),
        beacon(ssid="honeypot"),
        beacon(ssid="honeypot", bssid=AP2),
        probe_request(ssid="honeypot2", source=STA2),
    ]
    alerts = run(tmp_path, frames)
    assert [a["kismet.alert.source_mac"] for a in alerts] == [
        AP.upper(),
        AP.upper(),
        AP2.upper(),
        STA2.upper(),
    ]


def test_ssidcanary_first_matching_rule_names_it(tmp_path: Path) -> None:
    config = 'ssidcanary=first:ssid="pot"\nssidcanary=second:ssid="^honeypot$"\n'
    [alert] = run(tmp_path, [beacon(ssid="honeypot")], config)
    assert "rule 'first'" in alert["kismet.alert.text"]


def test_ssidcanary_state_is_bounded_and_expires() -> None:
    engine = Engine(make_config(CANARY), families=(Canary,))
    [canary] = engine.families
    assert isinstance(canary, Canary)
    marker = b"\xaa\xbb\xcc\xdd\xee\xff"
    template = bytes(radiotap(probe_request(ssid="honeypot", source="aa:bb:cc:dd:ee:ff")))
    assert template.count(marker) == 1
    rng = random.Random(3)
    ts = 1_000_000_000_000
    for i in range(DEFAULT_LIMIT + 1000):
        engine.feed(127, ts + i * 100, template.replace(marker, rng.randbytes(6)))
    assert len(engine.take_hits()) == DEFAULT_LIMIT + 1000
    assert len(canary.verdicts) == 1
    # An hour of packet time later, idle verdicts are forgotten.
    engine.feed(127, ts + 3700 * 1_000_000, bytes(radiotap(beacon(ssid="other"))))
    assert [key for key, _ in canary.verdicts.items()] == [b"other"]
