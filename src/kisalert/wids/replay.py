"""An offline IDS run over capture files, with no server: `kisalert replay`.

Alerts go through a real tracker, as in a server, on a clock that follows packet
time: detector windows, throttling and alert timestamps are the capture's, so a
capture raises the same alerts however fast it is read.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kisalert.alert import Alert
from kisalert.alertlog import AlertLog
from kisalert.bus import Bus
from kisalert.clock import ManualClock
from kisalert.config import Config
from kisalert.errors import Unavailable
from kisalert.messages import MessageBus
from kisalert.store import MemoryStore
from kisalert.throttle import PacketThrottles
from kisalert.timestamps import from_micros
from kisalert.tracker import AlertTracker, RaiseRequest
from kisalert.wids.capture.pcapfile import CaptureDamaged, CaptureError, CaptureFile, Record
from kisalert.wids.detectors.base import Hit
from kisalert.wids.engine import REWIND_US, Counts, Engine

# Frames read between checks for hits and progress.
SLICE = 4096
PROGRESS_EVERY = 0.2  # seconds of wall time


@dataclass
class Summary:
    counts: Counts
    files: int = 0
    damaged: list[str] = field(default_factory=list)  # one line per damaged capture
    alerts: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    seconds: float = 0.0

    @property
    def frames_per_second(self) -> float:
        return self.counts.records / self.seconds if self.seconds > 0 else 0.0


# (bytes read, bytes in all, records read)
Progress = Callable[[int, int, int], None]


def request_of(hit: Hit) -> RaiseRequest:
    return RaiseRequest(
        hit.header,
        hit.text,
        hit.transmitter,
        hit.source,
        hit.dest,
        hit.other,
        hit.channel,
        hit.frequency,
    )


async def enabled_alerts(tracker: AlertTracker) -> frozenset[str]:
    """The alert names whose rates allow any alert at all."""
    return frozenset(
        d.name
        for d in await tracker.store.definitions()
        if d.limits.limit.count and d.limits.burst.count
    )


class Replay:
    def __init__(
        self,
        config: Config,
        on_alert: Callable[[Alert], None] | None = None,
        log_path: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.clock = ManualClock(0.0)
        self.bus = Bus()
        self.messagebus = MessageBus(self.bus, self.clock)
        self.log = AlertLog(log_path) if log_path is not None else None
        self.store = MemoryStore(
            self.clock, config.backlog, self.log.first_free if self.log else None
        )
        self.tracker = AlertTracker(
            self.store,
            self.bus,
            self.messagebus,
            self.clock,
            config.rates,
            config.location,
            self.log,
        )
        self.book = PacketThrottles(REWIND_US)
        self._on_alert = on_alert
        self._progress = progress

    async def run(self, captures: Sequence[CaptureFile]) -> Summary:
        """Read every capture in turn. CaptureDamaged ends a file, not the run."""
        await self.tracker.register_builtins()
        if self.log is not None:
            self.log.open()
        engine = Engine(self.config, await enabled_alerts(self.tracker))
        summary = Summary(engine.counts)
        sizes = [capture.size for capture in captures]
        # A pipe's size is not known (0): then neither is the whole's.
        total = sum(sizes) if all(sizes) else 0
        done = 0
        started = time.perf_counter()
        try:
            for capture in captures:
                summary.files += 1
                try:
                    await self._read(capture, engine, summary, done, total)
                except CaptureDamaged as exc:
                    summary.damaged.append(str(exc))
                await self._raise(engine, summary)
                done += capture.size or capture.bytes_read()
        finally:
            summary.seconds = time.perf_counter() - started
            if self.log is not None:
                await self.log.close()
        if self._progress is not None:
            self._progress(done, total, engine.counts.records)
        return summary

    async def _read(
        self, capture: CaptureFile, engine: Engine, summary: Summary, done: int, total: int
    ) -> None:
        records: Iterator[Record] = iter(capture)
        feed = engine.feed
        hits = engine.hits
        progress = self._progress
        next_report = time.monotonic() + PROGRESS_EVERY
        while True:
            for count, (linktype, ts_us, data) in enumerate(records, 1):
                feed(linktype, ts_us, data)
                if hits or count == SLICE:
                    break
            else:
                return
            if hits:
                await self._raise(engine, summary)
            if progress is not None and time.monotonic() >= next_report:
                next_report = time.monotonic() + PROGRESS_EVERY
                progress(done + capture.bytes_read(), total, engine.counts.records)

    async def _raise(self, engine: Engine, summary: Summary) -> None:
        for hit in engine.take_hits():
            self.clock.set(from_micros(hit.ts_us))
            try:
                alert = await self.tracker.raise_detected(request_of(hit), hit.ts_us, self.book)
            except Unavailable:
                # The log writer is behind: wait for it rather than lose the alert.
                await self._wait_for_log()
                alert = await self.tracker.raise_detected(request_of(hit), hit.ts_us, self.book)
            if alert is None:
                summary.throttled += 1
                continue
            summary.alerts[alert.header] += 1
            if self._on_alert is not None:
                self._on_alert(alert)

    async def _wait_for_log(self) -> None:
        import asyncio

        log = self.log
        while log is not None and not log.has_room():
            if log.failure is not None:
                raise Unavailable(f"Alert not logged: {log.failure}")
            await asyncio.sleep(0.01)


def open_captures(paths: Sequence[Path]) -> list[CaptureFile]:
    """Open every capture before reading any, so a bad name stops the run at once.

    Raises CaptureError naming the first file that cannot be opened or is not a capture.
    """
    opened: list[CaptureFile] = []
    try:
        for path in paths:
            opened.append(CaptureFile(path))
    except CaptureError:
        for capture in opened:
            capture.close()
        raise
    return opened
