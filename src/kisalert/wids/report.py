"""What `kisalert replay` shows a person: a progress bar, alert lines and a summary."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from kisalert.alert import Alert
from kisalert.wids.capture import linktypes
from kisalert.wids.replay import Summary


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"  # pragma: no cover - the loop always returns


class ProgressBar:
    """One line on a terminal, redrawn in place: bytes and frames read."""

    def __init__(self, out: TextIO = sys.stderr) -> None:
        self._out = out
        self._started = time.monotonic()
        self._drawn = False

    def __call__(self, done: int, total: int, frames: int) -> None:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        if total:
            width = max(10, min(40, shutil.get_terminal_size((80, 24)).columns - 50))
            share = done / total
            filled = int(width * min(share, 1.0))
            bar = "#" * filled + "-" * (width - filled)
            read = f"[{bar}] {share * 100:5.1f}% {_size(done)}/{_size(total)}"
        else:  # a pipe among the captures: how much is to come is not known
            read = f"{_size(done)} read"
        self._out.write(f"\r{read} {frames:,} frames {frames / elapsed:,.0f}/s")
        self._out.flush()
        self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            self._out.write("\r\033[K")
            self._out.flush()


def alert_line(alert: Alert) -> str:
    record = alert.record
    when = datetime.fromtimestamp(alert.timestamp_us / 1_000_000, UTC)
    channel = record["kismet.alert.channel"]
    where = f" ch {channel}" if channel else ""
    return (
        f"{when.strftime('%Y-%m-%d %H:%M:%S.%f')} {alert.header}{where} "
        f"{record['kismet.alert.transmitter_mac']}: {record['kismet.alert.text']}"
    )


def summary_table(summary: Summary) -> str:
    counts = summary.counts
    rows: list[tuple[str, str]] = [("captures read", f"{summary.files}")]
    for linktype, number in sorted(counts.linktypes().items()):
        rows.append((f"frames, {linktypes.name(linktype)}", f"{number:,}"))
    rows.append(("frames in all", f"{counts.records:,}"))
    rows.append(("skipped (no 802.11 in link type)", f"{counts.other_link:,}"))
    rows.append(("malformed", f"{counts.malformed:,}"))
    rows.append(("bad FCS (dropped)", f"{counts.bad_fcs:,}"))
    if counts.rewinds:
        rows.append(("time went back, detectors restarted", f"{counts.rewinds:,}"))
    rows.append(("seconds", f"{summary.seconds:.2f}"))
    rows.append(("frames per second", f"{summary.frames_per_second:,.0f}"))
    for header, number in sorted(summary.alerts.items()):
        rows.append((f"alerts, {header}", f"{number:,}"))
    rows.append(("alerts in all", f"{sum(summary.alerts.values()):,}"))
    rows.append(("throttled", f"{summary.throttled:,}"))
    left = max(len(name) for name, _ in rows)
    right = max(len(value) for _, value in rows)
    return "\n".join(f"{name.ljust(left)}  {value.rjust(right)}" for name, value in rows)
