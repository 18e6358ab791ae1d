"""Transmitters louder than any legitimate one should be: OVERPOWERED."""

from __future__ import annotations

from kisalert.config import Config
from kisalert.wids.detectors.base import Family, Report
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text


class Signal(Family):
    headers = ("OVERPOWERED",)
    kinds = F.ANY

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        super().__init__(config, report, enabled)
        self._max = config.dot11_max_signal

    def frame(self, frame: Frame, now_us: int) -> None:
        signal = frame.signal
        if self._max < signal < 0:
            self.alert(
                "OVERPOWERED",
                f"Frame from {mac_text(frame.addr2 or frame.addr1)} received at {signal} dBm, "
                f"above the dot11_max_signal limit of {self._max} dBm: a transmitter "
                "that close or that loud is unusual",
                frame,
                now_us,
                source=frame.addr2 or frame.source,
            )
