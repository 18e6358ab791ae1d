"""SSIDs that nobody should be using: SSIDCANARY."""

from __future__ import annotations

from kisalert.wids.detectors.base import Family
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame


class Canary(Family):
    headers = ("SSIDCANARY",)
    kinds = F.BEACON | F.PROBE_RESP | F.PROBE_REQ

    def frame(self, frame: Frame, now_us: int) -> None:
        pass  # TODO(wids): implement
