"""How a frame's advertised encryption reads in an alert's text."""

from __future__ import annotations

from pathlib import Path

from tests.wids.frames import beacon, only, replay, write_pcap


def test_advcryptchange_names_an_unencrypted_network_open(tmp_path: Path) -> None:
    frames = [beacon(crypt="open"), beacon(crypt="wpa2")]
    capture = write_pcap(tmp_path / "capture.pcap", frames, step=2.0)
    [alert] = only(replay(capture), "ADVCRYPTCHANGE")
    assert "from open to WPA2 CCMP PSK," in alert["kismet.alert.text"]
