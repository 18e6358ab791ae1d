"""What a new BSS record starts with decides the alerts of the frames after it: the
new-record alerts' exact texts, an SSID that is not UTF-8 held against apspoof rules,
and a first beacon that advertises no usable mode (mesh: neither ESS nor IBSS)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from scapy.layers.dot11 import Dot11Beacon
from scapy.packet import Packet

from tests.wids.frames import AP, beacon, headers, only, replay, write_pcap

A = AP.upper()
ROGUE = "02:00:00:00:00:09"


def run(tmp_path: Path, frames: Sequence[Packet], config: str = "") -> list[dict[str, object]]:
    """The alert records of `frames`, 2 s apart (beyond any 1/sec throttle)."""
    return replay(write_pcap(tmp_path / "bss.pcap", frames, step=2.0), config)


def test_airjackssid_text(tmp_path: Path) -> None:
    [alert] = only(run(tmp_path, [beacon(ssid="AirJack")]), "AIRJACKSSID")
    assert alert["kismet.alert.text"] == (
        f"Beacon for SSID 'AirJack' from BSSID {A}: the default SSID of the AirJack attack tool"
    )


def test_formatstring_text(tmp_path: Path) -> None:
    [alert] = only(run(tmp_path, [beacon(ssid="%s%n")]), "FORMATSTRING")
    assert alert["kismet.alert.text"] == (
        f"Beacon for SSID '%s%n' from BSSID {A} carries a printf format sequence, an "
        "exploit attempt on software that logs SSIDs"
    )


def test_apspoof_matches_an_ssid_that_is_not_utf8(tmp_path: Path) -> None:
    # The SSID's bad byte decodes as U+FFFD for the pattern, so `^corp` still matches.
    config = 'apspoof=corp-ap:ssid="^corp",validmacs="02:00:00:00:00:01"\n'
    records = run(tmp_path, [beacon(ssid=b"corp\xff", bssid=ROGUE)], config)
    [alert] = only(records, "APSPOOF")
    assert alert["kismet.alert.text"] == (
        f"Beacon for SSID 'corp\\xff' from {ROGUE.upper()} not in the authorised list of "
        "apspoof rule 'corp-ap'"
    )


def with_capability(frame: Packet, cap: str) -> Packet:
    frame[Dot11Beacon].cap = cap
    return frame


@pytest.mark.parametrize("cap", ["privacy", "ESS+IBSS+privacy"])
def test_a_first_beacon_without_one_mode_sets_none(tmp_path: Path, cap: str) -> None:
    # Neither mode bit (a mesh beacon) or both: the record has no mode yet, so the
    # next beacon's IBSS sets it without a conflict, and only the ESS after that is one.
    frames = [with_capability(beacon(), cap), beacon(ibss=True), beacon()]
    records = run(tmp_path, frames)
    assert headers(records) == ["ADHOCCONFLICT"]
    [alert] = records
    assert alert["kismet.alert.text"] == (
        f"Network 'corp' (BSSID {A}) is advertised as an infrastructure AP by a beacon "
        f"from {A}, having been advertised as ad-hoc (IBSS)"
    )
