"""DEAUTHFLOOD, BCASTDISCON, DISCONCODEINVALID, DEAUTHCODEINVALID: trigger and near miss."""

from __future__ import annotations

from pathlib import Path

from tests.wids.frames import AP, AP2, STA, T0, deauth, only, replay, write_pcap


def test_deauthflood_eleven_frames_within_a_second(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "flood.pcap", [deauth() for _ in range(11)], step=0.09)
    [alert] = only(replay(capture), "DEAUTHFLOOD")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == AP.upper()
    assert alert["kismet.alert.dest_mac"] == STA.upper()
    assert alert["kismet.alert.channel"] == "6"
    assert alert["kismet.alert.frequency"] == 2437000
    assert alert["kismet.alert.text"].startswith(f"Deauth/Disassociate flood on {AP.upper()}")
    # Stamped with the capture time of the eleventh frame.
    assert alert["kismet.alert.timestamp"] == T0 + 10 * 0.09


def test_deauthflood_counts_disassociations_too(tmp_path: Path) -> None:
    frames = [deauth(disassoc=bool(i % 2)) for i in range(11)]
    capture = write_pcap(tmp_path / "mixed.pcap", frames, step=0.05)
    assert len(only(replay(capture), "DEAUTHFLOOD")) == 1


def test_deauthflood_near_miss_ten_in_a_second(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "ten.pcap", [deauth() for _ in range(10)], step=0.09)
    assert only(replay(capture), "DEAUTHFLOOD") == []


def test_deauthflood_near_miss_eleven_spread_over_more_than_a_second(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "slow.pcap", [deauth() for _ in range(11)], step=0.1)
    assert only(replay(capture), "DEAUTHFLOOD") == []


def test_deauthflood_counts_per_bssid(tmp_path: Path) -> None:
    frames = [deauth(bssid=AP if i % 2 else AP2) for i in range(20)]
    capture = write_pcap(tmp_path / "two.pcap", frames, step=0.04)
    assert only(replay(capture), "DEAUTHFLOOD") == []


def test_flood_windows_run_on_packet_time_not_read_speed(tmp_path: Path) -> None:
    # Eleven deauths an hour apart are read in a millisecond: no flood.
    capture = write_pcap(tmp_path / "hours.pcap", [deauth() for _ in range(11)], step=3600)
    assert only(replay(capture), "DEAUTHFLOOD") == []


def test_bcastdiscon(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "bcast.pcap", [deauth(dest="ff:ff:ff:ff:ff:ff")])
    [alert] = only(replay(capture), "BCASTDISCON")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.dest_mac"] == "FF:FF:FF:FF:FF:FF"
    assert alert["kismet.alert.channel"] == "6"
    assert AP.upper() in alert["kismet.alert.text"]


def test_bcastdiscon_near_miss_unicast(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "unicast.pcap", [deauth(dest=STA)])
    assert only(replay(capture), "BCASTDISCON") == []


def test_disconcodeinvalid(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "dis.pcap", [deauth(disassoc=True, reason=27)])
    [alert] = only(replay(capture), "DISCONCODEINVALID")
    assert alert["kismet.alert.source_mac"] == AP.upper()
    assert alert["kismet.alert.dest_mac"] == STA.upper()
    assert "27" in alert["kismet.alert.text"]


def test_disconcodeinvalid_near_miss(tmp_path: Path) -> None:
    frames = [deauth(disassoc=True, reason=r) for r in (1, 8, 24, 32, 45)]
    capture = write_pcap(tmp_path / "ok.pcap", frames, step=2)
    assert only(replay(capture), "DISCONCODEINVALID") == []


def test_deauthcodeinvalid_is_off_by_default_and_fires_when_enabled(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "de.pcap", [deauth(reason=46)])
    assert only(replay(capture), "DEAUTHCODEINVALID") == []
    [alert] = only(replay(capture, "alert=DEAUTHCODEINVALID,5/min,1/sec\n"), "DEAUTHCODEINVALID")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()


def test_deauthcodeinvalid_near_miss(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "de.pcap", [deauth(reason=45)])
    assert only(replay(capture, "alert=DEAUTHCODEINVALID,5/min,1/sec\n"), "DEAUTHCODEINVALID") == []
