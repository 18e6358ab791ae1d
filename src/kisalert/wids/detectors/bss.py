"""What networks advertise, record by record (BSSID, SSID), and how it changes."""

from __future__ import annotations

from kisalert.wids.detectors.base import Family
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame


class Bss(Family):
    headers = (
        "CHANCHANGE",
        "CRYPTODROP",
        "ADHOCCONFLICT",
        "DOT11D",
        "BEACONRATE",
        "ADVCRYPTCHANGE",
        "BSSTIMESTAMP",
        "PROBECHAN",
        "AIRJACKSSID",
        "APSPOOF",
        "FORMATSTRING",
    )
    kinds = F.BEACON | F.PROBE_RESP

    def frame(self, frame: Frame, now_us: int) -> None:
        pass  # TODO(wids): implement
