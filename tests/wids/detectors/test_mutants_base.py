"""SSIDs with control characters show in alert text as readable escapes."""

from __future__ import annotations

from pathlib import Path

from tests.wids.frames import AP, beacon, only, replay, write_pcap


def test_ssid_control_characters_are_escaped_and_the_rest_kept(tmp_path: Path) -> None:
    # \x01 is a control character; \xff is no UTF-8 and already arrives as an escape.
    capture = write_pcap(tmp_path / "ssid.pcap", [beacon(ssid=b"honeypot\x01\xffok")])
    [alert] = only(replay(capture, 'ssidcanary=honey:ssid="^honeypot"\n'), "SSIDCANARY")
    assert alert["kismet.alert.text"] == (
        f"Beacon from BSSID {AP.upper()} names canary SSID 'honeypot\\x01\\xffok' "
        "of ssidcanary rule 'honey'"
    )
