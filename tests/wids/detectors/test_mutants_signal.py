"""OVERPOWERED names the station that transmitted the loud frame, even when it relays
someone else's traffic."""

from __future__ import annotations

from pathlib import Path

from tests.wids.eapol_dhcp_frames import GATEWAY
from tests.wids.frames import AP, STA, data, only, radiotap, replay, write_pcap

ON = "alert=OVERPOWERED,10/min,1/sec\n"


def test_overpowered_relayed_frame_names_the_relaying_transmitter(tmp_path: Path) -> None:
    # From the AP to a station, carrying the gateway's traffic: the AP is what is loud.
    relayed = data(b"\x08\x00", source=GATEWAY, dest=STA, to_ds=False)
    capture = write_pcap(tmp_path / "relayed.pcap", [radiotap(relayed, signal=-4)], step=2)
    [alert] = only(replay(capture, ON), "OVERPOWERED")
    assert alert["kismet.alert.source_mac"] == AP.upper()
    assert alert["kismet.alert.dest_mac"] == STA.upper()
    assert str(alert["kismet.alert.text"]).startswith(f"Frame from {AP.upper()} received at -4 dBm")
