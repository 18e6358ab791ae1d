"""WPA handshakes and WPS: attacks and exploits in EAPOL frames."""

from __future__ import annotations

from kisalert.wids.detectors.base import Family
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame


class Eapol(Family):
    headers = (
        "WPSBRUTE",
        "NONCEDEGRADE",
        "NONCEREUSE",
        "RTL8195VD1406",
        "VDOO202027301",
        "VDOO202027302",
    )
    kinds = F.EAPOL

    def frame(self, frame: Frame, now_us: int) -> None:
        pass  # TODO(wids): implement
