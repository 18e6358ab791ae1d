"""BSS alerts read exactly as a user sees them: the network, what changed, the frame
kind in lower case and its source."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from scapy.packet import Packet

from tests.wids.frames import AP, beacon, only, replay, write_pcap

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
