"""MSFBCOMSSID, KARMAOUI: trigger and near miss."""

from __future__ import annotations

from pathlib import Path

from tests.wids.frames import BROADCAST, STA, beacon, only, replay, write_pcap

METASPLOIT = "90:e9:75:00:00:01"
KARMA = "00:13:37:00:00:01"


def test_msfbcomssid(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "msf.pcap", [beacon(bssid=METASPLOIT)])
    [alert] = only(replay(capture), "MSFBCOMSSID")
    assert alert["kismet.alert.transmitter_mac"] == METASPLOIT.upper()
    assert alert["kismet.alert.source_mac"] == METASPLOIT.upper()
    assert alert["kismet.alert.dest_mac"] == BROADCAST.upper()
    assert alert["kismet.alert.channel"] == "6"
    assert METASPLOIT.upper() in alert["kismet.alert.text"]
    assert "90:E9:75" in alert["kismet.alert.text"]


def test_msfbcomssid_near_miss(tmp_path: Path) -> None:
    frames = [
        beacon(bssid="90:e9:76:00:00:01"),  # the neighbouring OUI
        beacon(bssid=METASPLOIT, probe_response_to=STA),  # not a beacon
    ]
    capture = write_pcap(tmp_path / "near.pcap", frames, step=2)
    assert only(replay(capture), "MSFBCOMSSID") == []


def test_msfbcomssid_looks_at_the_source_not_the_bssid(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "src.pcap", [beacon(source=METASPLOIT)])
    [alert] = only(replay(capture), "MSFBCOMSSID")
    assert alert["kismet.alert.source_mac"] == METASPLOIT.upper()
    assert alert["kismet.alert.transmitter_mac"] == "02:00:00:00:00:01"


def test_karmaoui(tmp_path: Path) -> None:
    frame = beacon(b"any", bssid=KARMA, probe_response_to=STA)
    capture = write_pcap(tmp_path / "karma.pcap", [frame])
    [alert] = only(replay(capture), "KARMAOUI")
    assert alert["kismet.alert.transmitter_mac"] == KARMA.upper()
    assert alert["kismet.alert.source_mac"] == KARMA.upper()
    assert alert["kismet.alert.dest_mac"] == STA.upper()
    assert alert["kismet.alert.channel"] == "6"
    assert KARMA.upper() in alert["kismet.alert.text"]
    assert "Karma" in alert["kismet.alert.text"]


def test_karmaoui_near_miss(tmp_path: Path) -> None:
    frames = [
        beacon(b"any", bssid="00:13:38:00:00:01", probe_response_to=STA),
        beacon(b"any", bssid=KARMA),  # a beacon, not a probe response
    ]
    capture = write_pcap(tmp_path / "near.pcap", frames, step=2)
    assert only(replay(capture), "KARMAOUI") == []
