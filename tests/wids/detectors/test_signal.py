"""OVERPOWERED: off by default; above dot11_max_signal (-10 dBm) and below 0."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.dot11 import Dot11

from tests.wids.frames import AP, BROADCAST, STA, beacon, data, only, radiotap, replay, write_pcap

ON = "alert=OVERPOWERED,10/min,1/sec\n"
ZERO = "00:00:00:00:00:00"


def loud(tmp_path: Path, signals: list[int], config: str = ON) -> list[dict[str, object]]:
    frames = [radiotap(beacon(), signal=signal) for signal in signals]
    capture = write_pcap(tmp_path / "loud.pcap", frames, step=2)
    return only(replay(capture, config), "OVERPOWERED")


def test_overpowered(tmp_path: Path) -> None:
    [alert] = loud(tmp_path, [-5])
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == AP.upper()
    assert alert["kismet.alert.dest_mac"] == BROADCAST.upper()
    assert alert["kismet.alert.channel"] == "6"
    text = str(alert["kismet.alert.text"])
    assert text.startswith(f"Frame from {AP.upper()} received at -5 dBm")
    assert "-10 dBm" in text


def test_overpowered_is_off_by_default(tmp_path: Path) -> None:
    assert loud(tmp_path, [-5], config="") == []


def test_overpowered_near_miss_at_the_limit_or_without_a_signal(tmp_path: Path) -> None:
    # -10 is not above the limit; 0 is what a capture without a signal field reads as.
    assert loud(tmp_path, [-10, 0, -50]) == []


def test_overpowered_limit_setting(tmp_path: Path) -> None:
    assert loud(tmp_path, [-20]) == []
    [alert] = loud(tmp_path, [-20], config=ON + "dot11_max_signal=-30\n")
    assert "-30 dBm" in str(alert["kismet.alert.text"])


def test_overpowered_data_and_control_frames(tmp_path: Path) -> None:
    frames = [
        radiotap(data(b"\x08\x00"), signal=-3),
        radiotap(Dot11(type=1, subtype=13, addr1=STA), signal=-3),  # an ACK: no sender
    ]
    capture = write_pcap(tmp_path / "kinds.pcap", frames, step=2)
    station, ack = only(replay(capture, ON), "OVERPOWERED")
    assert station["kismet.alert.source_mac"] == STA.upper()
    assert station["kismet.alert.transmitter_mac"] == AP.upper()
    assert ack["kismet.alert.source_mac"] == ZERO
    assert ack["kismet.alert.dest_mac"] == STA.upper()
    assert str(ack["kismet.alert.text"]).startswith(f"Frame to {STA.upper()} received at -3 dBm")
