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
        if self._max < signal < 0:  # 0: the capture header gave no signal
            sender = frame.addr2
            # ACK and CTS frames name only their receiver.
            who = f"from {mac_text(sender)}" if sender else f"to {mac_text(frame.addr1)}"
            self.alert(
                "OVERPOWERED",
                f"Frame {who} received at {signal} dBm, above the dot11_max_signal limit "
                f"of {self._max} dBm: a transmitter that close or that loud is unusual",
                frame,
                now_us,
                source=sender,
            )
