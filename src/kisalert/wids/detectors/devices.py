"""Watched devices: DEVICEFOUND and DEVICELOST from devicefound=/devicelost= lines."""

from __future__ import annotations

from kisalert.wids.detectors.base import Family
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame


class Devices(Family):
    headers = ("DEVICEFOUND", "DEVICELOST")
    kinds = F.ANY

    def frame(self, frame: Frame, now_us: int) -> None:
        pass  # TODO(wids): implement
