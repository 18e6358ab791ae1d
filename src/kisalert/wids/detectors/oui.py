"""Transmitters whose vendor prefix belongs to an attack tool: MSFBCOMSSID, KARMAOUI."""

from __future__ import annotations

from kisalert.wids.detectors.base import Family
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text

METASPLOIT_OUI = b"\x90\xe9\x75"
KARMA_OUI = b"\x00\x13\x37"


class Oui(Family):
    headers = ("MSFBCOMSSID", "KARMAOUI")
    kinds = F.BEACON | F.PROBE_RESP

    def frame(self, frame: Frame, now_us: int) -> None:
        source = frame.source
        if source.startswith(METASPLOIT_OUI) and frame.kind == F.BEACON:
            self.alert(
                "MSFBCOMSSID",
                f"Beacon from {mac_text(source)}, in the OUI 90:E9:75 of the "
                "Metasploit Broadcom driver exploit",
                frame,
                now_us,
            )
        elif source.startswith(KARMA_OUI) and frame.kind == F.PROBE_RESP:
            self.alert(
                "KARMAOUI",
                f"Probe response from {mac_text(source)}, in the OUI 00:13:37 of "
                "the Karma rogue AP tool, which answers every probed SSID",
                frame,
                now_us,
            )
