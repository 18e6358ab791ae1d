"""MSFBCOMSSID and KARMAOUI read exactly as a user sees them."""

from __future__ import annotations

from pathlib import Path

from scapy.packet import Packet

from tests.wids.frames import STA, beacon, only, replay, write_pcap

METASPLOIT = "90:e9:75:00:00:01"
KARMA = "00:13:37:00:00:01"


def text_of(tmp_path: Path, frame: Packet, header: str) -> str:
    capture = write_pcap(tmp_path / "oui.pcap", [frame])
    [alert] = only(replay(capture), header)
    return str(alert["kismet.alert.text"])


def test_msfbcomssid_text(tmp_path: Path) -> None:
    assert text_of(tmp_path, beacon(bssid=METASPLOIT), "MSFBCOMSSID") == (
        f"Beacon from {METASPLOIT.upper()}, in the OUI 90:E9:75 of the Metasploit Broadcom "
        "driver exploit"
    )


def test_karmaoui_text(tmp_path: Path) -> None:
    frame = beacon(b"any", bssid=KARMA, probe_response_to=STA)
    assert text_of(tmp_path, frame, "KARMAOUI") == (
        f"Probe response from {KARMA.upper()}, in the OUI 00:13:37 of the Karma rogue AP "
        "tool, which answers every probed SSID"
    )
