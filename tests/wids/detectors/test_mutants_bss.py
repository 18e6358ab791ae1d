"""BSS alerts read exactly as a user sees them: the network, what changed, the frame
kind in lower case and its source."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from scapy.packet import Packet

from kisalert.wids.detectors.bss import Bss
from tests.wids.frames import AP, STA, T0, beacon, only, replay, write_pcap

A = AP.upper()


def text_of(tmp_path: Path, frames: Sequence[Packet], header: str, step: float = 2.0) -> str:
    capture = write_pcap(tmp_path / "bss.pcap", frames, step=step)
    [alert] = only(replay(capture), header)
    return str(alert["kismet.alert.text"])


@pytest.mark.parametrize(
    ("ibss", "now", "was"),
    [
        (False, "ad-hoc (IBSS)", "an infrastructure AP"),
        (True, "an infrastructure AP", "ad-hoc (IBSS)"),
    ],
)
def test_adhocconflict_text_names_the_new_and_the_old_mode(
    tmp_path: Path, ibss: bool, now: str, was: str
) -> None:
    frames = [beacon(ibss=ibss), beacon(ibss=not ibss)]
    assert text_of(tmp_path, frames, "ADHOCCONFLICT") == (
        f"Network 'corp' (BSSID {A}) is advertised as {now} by a beacon from {A}, "
        f"having been advertised as {was}"
    )


def test_dot11d_text(tmp_path: Path) -> None:
    frames = [beacon(country=b"US"), beacon(country=b"JP")]
    assert text_of(tmp_path, frames, "DOT11D") == (
        f"Network 'corp' (BSSID {A}) changed its 802.11d country from 'US' to 'JP', "
        f"in a beacon from {A}"
    )


def test_cryptodrop_text(tmp_path: Path) -> None:
    frames = [beacon(crypt="wpa2"), beacon(crypt="open")]
    assert text_of(tmp_path, frames, "CRYPTODROP") == (
        f"Network 'corp' (BSSID {A}) advertised WPA2 CCMP PSK and now advertises no "
        f"encryption, in a beacon from {A}"
    )


def test_advcryptchange_text(tmp_path: Path) -> None:
    frames = [beacon(crypt="wpa2"), beacon(crypt="wep")]
    assert text_of(tmp_path, frames, "ADVCRYPTCHANGE") == (
        f"Network 'corp' (BSSID {A}) changed its advertised encryption from WPA2 CCMP PSK "
        f"to WEP, in a beacon from {A}"
    )


def test_beaconrate_text(tmp_path: Path) -> None:
    frames = [beacon(interval=100), beacon(interval=50)]
    assert text_of(tmp_path, frames, "BEACONRATE") == (
        f"Network 'corp' (BSSID {A}) changed its beacon interval from 100 to 50 TU, "
        f"in a beacon from {A}"
    )


def test_bsstimestamp_text(tmp_path: Path) -> None:
    # Seven beacons alternating between two radios' TSFs: six jumps within six seconds.
    frames = [beacon(tsf=500_000_000 if i % 2 == 0 else 1_000) for i in range(7)]
    assert text_of(tmp_path, frames, "BSSTIMESTAMP", step=1.0) == (
        f"Beacon timestamps of BSSID {A} (network 'corp') jumped more than 5 times within "
        "a minute, the latest from 1000 to 500000000 us: two radios may be sharing this BSSID"
    )


def bss_texts(tmp_path: Path, frames: Sequence[Packet], **options: Any) -> list[str]:
    """`header: text` of every BSS alert of `frames`, 2 s apart unless told."""
    options.setdefault("step", 2.0)
    records = replay(write_pcap(tmp_path / "bss.pcap", frames, **options))
    return [
        f"{r['kismet.alert.header']}: {r['kismet.alert.text']}"
        for r in records
        if r["kismet.alert.header"] in Bss.headers
    ]


def test_each_change_is_held_against_the_latest_value_not_the_first(tmp_path: Path) -> None:
    frames = [
        beacon(country=b"US", interval=100, channel=6),
        beacon(country=b"JP", interval=50, ibss=True, channel=11),
        beacon(country=b"FR", interval=100, channel=1),
    ]
    network = f"Network 'corp' (BSSID {A})"
    assert bss_texts(tmp_path, frames) == [
        f"DOT11D: {network} changed its 802.11d country from 'US' to 'JP', in a beacon from {A}",
        f"BEACONRATE: {network} changed its beacon interval from 100 to 50 TU, in a beacon "
        f"from {A}",
        f"ADHOCCONFLICT: {network} is advertised as ad-hoc (IBSS) by a beacon from {A}, "
        "having been advertised as an infrastructure AP",
        f"CHANCHANGE: {network} moved from channel 6 to channel 11",
        f"DOT11D: {network} changed its 802.11d country from 'JP' to 'FR', in a beacon from {A}",
        f"BEACONRATE: {network} changed its beacon interval from 50 to 100 TU, in a beacon "
        f"from {A}",
        f"ADHOCCONFLICT: {network} is advertised as an infrastructure AP by a beacon from {A}, "
        "having been advertised as ad-hoc (IBSS)",
        f"CHANCHANGE: {network} moved from channel 11 to channel 1",
    ]


def test_a_hidden_network_is_named_by_its_empty_ssid(tmp_path: Path) -> None:
    frames = [beacon(ssid=b"", channel=6), beacon(ssid=b"", channel=11)]
    assert bss_texts(tmp_path, frames) == [
        f"CHANCHANGE: Network '' (BSSID {A}) moved from channel 6 to channel 11"
    ]


def test_a_protected_beacon_makes_no_record(tmp_path: Path) -> None:
    # Its body is not read, so it would make an open, channel-less record of the
    # empty SSID, which a hidden network's first real beacon would then "change".
    forged = beacon(ssid=b"")
    forged.FCfield = "protected"
    assert bss_texts(tmp_path, [forged, beacon(ssid=b"")]) == []


def test_once_beacons_are_seen_probe_responses_no_longer_set_the_record(
    tmp_path: Path,
) -> None:
    # The record is made by a probe response; the first beacon takes over as baseline,
    # so a forged open probe response after it raises one alert, not a second one
    # when the next genuine beacon "changes it back".
    probe = beacon(probe_response_to=STA)
    forged = beacon(probe_response_to=STA, crypt="open")
    frames = [probe, beacon(), forged, beacon()]
    assert [text.split(":")[0] for text in bss_texts(tmp_path, frames)] == ["CRYPTODROP"]


def test_the_same_tsf_again_is_no_jump(tmp_path: Path) -> None:
    # Some APs never start their TSF: every beacon says 0.
    assert bss_texts(tmp_path, [beacon(tsf=0) for _ in range(8)], step=1.0) == []


def test_a_bssid_clock_outlives_the_record_that_started_it(tmp_path: Path) -> None:
    # 'corp' beacons once and is forgotten an hour later; meanwhile 'corp5' of the same
    # BSSID jumps between two radios' TSFs. The sixth jump, after 'corp' is gone, is
    # still held against the clock the BSSID's records share.
    times = [T0] + [T0 + 3590 + i for i in range(5)] + [T0 + 3601]
    tsfs = [500_000_000] + [1_000, 500_000_000] * 3
    frames = [beacon(ssid="corp" if i == 0 else "corp5", tsf=t) for i, t in enumerate(tsfs)]
    texts = bss_texts(tmp_path, frames, times=times)
    assert [text.split(":")[0] for text in texts] == ["BSSTIMESTAMP"]
    assert texts[0].startswith(f"BSSTIMESTAMP: Beacon timestamps of BSSID {A} (network 'corp5')")
