"""Ordinary traffic raises nothing: every detector's false-positive guard at once."""

from __future__ import annotations

from pathlib import Path

from tests.wids import benign
from tests.wids.frames import replay, write_pcap

# Every alert on, at generous rates, so that a detector that misfires cannot hide
# behind a disabled default.
EVERYTHING_ON = "".join(
    f"alert={name},100/sec,100/sec\n"
    for name in ("DEAUTHCODEINVALID", "OVERPOWERED", "NONCEDEGRADE", "NONCEREUSE", "QCOMEXTENDED")
)


def test_benign_capture_raises_nothing(tmp_path: Path) -> None:
    frames, times = benign.frames()
    capture = write_pcap(tmp_path / "office.pcap", frames, times=times)
    assert replay(capture) == []
    assert replay(capture, EVERYTHING_ON) == []
