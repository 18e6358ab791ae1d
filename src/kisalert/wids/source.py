"""Capture sources in a running server: files read into it and interfaces captured live.

Each source reads, decodes and detects in its own thread, with its own engine and
its own packet-time throttles, so neither a fast file nor a busy interface holds up
the event loop, and one source's timing never bends another's windows. Hits go to
the loop in batches; the thread waits for each batch to be raised, so the loop sets
the pace and nothing is dropped. A source that fails raises SOURCEERROR, posts an
ERROR message and prints one line; the server goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Coroutine, Iterable, Iterator
from typing import Any

from kisalert import messages
from kisalert.config import Config, SourceSpec
from kisalert.errors import Throttled, Unavailable
from kisalert.messages import MessageBus, well_formed
from kisalert.throttle import PacketThrottles
from kisalert.tracker import AlertTracker, RaiseRequest
from kisalert.wids.capture.live import LiveCapture, LiveError, interface_exists
from kisalert.wids.capture.pcapfile import CaptureDamaged, CaptureError, CaptureFile, Record
from kisalert.wids.detectors.base import Hit
from kisalert.wids.engine import REWIND_US, Engine
from kisalert.wids.replay import enabled_alerts, request_of

SLICE = 4096  # frames read between checks for hits and for a stop
BATCH = 512  # hits handed to the loop at once, at most
POLL = 0.1  # seconds a live read waits, so a stop is seen within a second
RETRY = 0.02  # seconds between tries while the alert log has no room
STOP_WAIT = 1.0  # seconds `Sources.stop` gives the threads
WAKE = 0.5  # seconds between checks, while waiting for the loop, that it still runs


class SourceFailed(Exception):
    """A source cannot go on; str() is the one line to report."""


class _Stopping(Exception):
    """The server is stopping: leave the read loop."""


# What a source is doing, as its record says it.
STARTING, READING, CAPTURING, DONE, FAILED, STOPPED = (
    "starting", "reading", "capturing", "done", "failed", "stopped",
)  # fmt: skip


class Source:
    """One capture source: a file or an interface, read by its own thread.

    `state`, `error` and the counts its record shows are written by its thread (plain
    attribute assignments, each whole) and read on the loop: counts are taken from
    the engine at each batch boundary, never while the engine is counting.
    """

    def __init__(
        self,
        spec: SourceSpec,
        config: Config,
        tracker: AlertTracker,
        messagebus: MessageBus,
        enabled: Iterable[str],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.spec = spec
        self.engine = Engine(config, enabled)
        self._tracker = tracker
        self._messagebus = messagebus
        self._loop = loop
        self._book = PacketThrottles(REWIND_US)  # touched on the loop only
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"source {spec.name}", daemon=True)
        self.kind = ""  # "file" or "interface", once known ("" if it is neither)
        self.state = STARTING
        self.error = ""
        # frames read, malformed, with a bad FCS, of a link type without 802.11
        self.counts = (0, 0, 0, 0)
        self.alerts = 0  # raised and accepted (not throttled), on the loop

    def record(self) -> dict[str, object]:
        """The source as GET /sources/all_sources answers it."""
        frames, malformed, bad_fcs, other_link = self.counts
        return {
            "kisalert.source.name": well_formed(self.spec.name),
            "kisalert.source.definition": well_formed(self.spec.value),
            "kisalert.source.type": self.kind,
            "kisalert.source.realtime": self.spec.realtime,
            "kisalert.source.state": self.state,
            "kisalert.source.error": well_formed(self.error),
            "kisalert.source.frames": frames,
            "kisalert.source.malformed": malformed,
            "kisalert.source.bad_fcs": bad_fcs,
            "kisalert.source.other_link": other_link,
            "kisalert.source.alerts": self.alerts,
        }

    def start(self) -> None:
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        """True once the thread has ended (waits up to `timeout` seconds)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # The thread

    def _run(self) -> None:
        try:
            value = self.spec.value
            if os.path.isfile(value):
                self.kind = "file"
                self._read_file(value)
            elif interface_exists(value):
                self.kind = "interface"
                self._capture(value)
            elif os.path.exists(value):
                raise SourceFailed(f"{value}: not a capture file or a network interface")
            else:
                raise SourceFailed(f"{value}: no such file or interface")
        except _Stopping:
            self._settle(STOPPED)
        except SourceFailed as exc:
            self._settle(FAILED, str(exc))
            self._call_quietly(self._failed(str(exc)))
        except Exception as exc:  # a bug must not take the server with it
            traceback.print_exc()
            reason = f"internal error: {type(exc).__name__}: {exc}"
            self._settle(FAILED, reason)
            self._call_quietly(self._failed(reason))
        else:
            self._settle(DONE)

    def _settle(self, state: str, error: str = "") -> None:
        self._take_counts()
        self.error = error
        self.state = state

    def _take_counts(self) -> None:
        counts = self.engine.counts
        self.counts = (counts.records, counts.malformed, counts.bad_fcs, counts.other_link)

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` on the loop and wait for it: the loop's pace is the source's."""
        loop = self._loop
        try:
            future = asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError:  # the loop is closed: the server has gone
            coro.close()
            raise _Stopping() from None
        while True:
            try:
                future.result(WAKE)
                return
            except TimeoutError:
                # A loop that ended without stopping the source (a crash) would
                # leave this thread waiting for ever.
                if not loop.is_running():
                    future.cancel()
                    raise _Stopping() from None

    def _call_quietly(self, coro: Coroutine[Any, Any, None]) -> None:
        with contextlib.suppress(_Stopping):
            self._call(coro)

    def _flush(self) -> None:
        self._take_counts()
        engine = self.engine
        if engine.hits:
            self._call(self._raise(engine.take_hits()))

    def _read_file(self, path: str) -> None:
        try:
            capture = CaptureFile(path)
        except CaptureError as exc:
            raise SourceFailed(str(exc)) from None
        with capture:
            self.state = READING
            pace = "at its recorded pace" if self.spec.realtime else "as fast as possible"
            self._call(self._post(f"reading {path} {pace}", messages.INFO))
            records: Iterator[Record] = iter(capture)
            if self.spec.realtime:
                records = self._paced(records)
            try:
                self._feed(records)
            except CaptureDamaged as exc:
                self._flush()
                raise SourceFailed(
                    f"{exc}; read {self.engine.counts.records} frames before it"
                ) from None
        self._call(
            self._post(f"read {self.engine.counts.records} frames from {path}", messages.INFO)
        )

    def _paced(self, records: Iterator[Record]) -> Iterator[Record]:
        """`records` no sooner than their timestamps say, counted from the first."""
        first_us: int | None = None
        started = 0.0
        for record in records:
            ts_us = record[1]
            if first_us is None:
                first_us = ts_us
                started = time.monotonic()
            delay = started + (ts_us - first_us) / 1_000_000 - time.monotonic()
            if delay > 0:
                # What was found so far is raised now, not after the wait.
                self._flush()
                if self._stop.wait(delay):
                    raise _Stopping()
            yield record

    def _feed(self, records: Iterator[Record]) -> None:
        """Every record of `records`, raising hits every SLICE frames or BATCH hits."""
        feed = self.engine.feed
        hits = self.engine.hits
        stop = self._stop
        while True:
            for count, (linktype, ts_us, data) in enumerate(records, 1):
                feed(linktype, ts_us, data)
                if count == SLICE or len(hits) >= BATCH:
                    break
            else:
                self._flush()
                return
            self._flush()
            if stop.is_set():
                raise _Stopping()

    def _capture(self, interface: str) -> None:
        try:
            capture = LiveCapture(interface)
        except LiveError as exc:
            raise SourceFailed(str(exc)) from None
        with capture:
            self.state = CAPTURING
            self._call(self._post(f"capturing on {interface}", messages.INFO))
            feed = self.engine.feed
            hits = self.engine.hits
            try:
                while not self._stop.is_set():
                    for linktype, ts_us, data in capture.read(POLL):
                        feed(linktype, ts_us, data)
                        if len(hits) >= BATCH:
                            self._flush()
                    self._flush()
            except LiveError as exc:
                self._flush()
                raise SourceFailed(str(exc)) from None

    # On the loop

    async def _raise(self, hits: list[Hit]) -> None:
        tracker = self._tracker
        book = self._book
        for hit in hits:
            request = request_of(hit)
            while True:
                try:
                    if await tracker.raise_detected(request, hit.ts_us, book) is not None:
                        self.alerts += 1
                    break
                except Unavailable:
                    # The log writer is behind: wait for it rather than lose the alert.
                    if self._stop.is_set():
                        return
                    await asyncio.sleep(RETRY)

    async def _post(self, text: str, flags: int) -> None:
        self._messagebus.post(f"source {self.spec.name}: {text}", flags)

    async def _failed(self, reason: str) -> None:
        # A file name need not be UTF-8; an alert's text must be.
        text = well_formed(f"source {self.spec.name} failed: {reason}")
        print(f"kisalert: {text}", file=sys.stderr, flush=True)
        while True:
            try:
                await self._tracker.raise_alert(RaiseRequest("SOURCEERROR", text))
                break
            except Throttled:
                break
            except Unavailable:
                if self._stop.is_set():
                    break
                await asyncio.sleep(RETRY)
        self._messagebus.post(text, messages.ERROR)


class Sources:
    """The capture sources of one server."""

    def __init__(self, config: Config, tracker: AlertTracker, messagebus: MessageBus) -> None:
        self._config = config
        self._tracker = tracker
        self._messagebus = messagebus
        self.running: list[Source] = []

    async def start(self) -> None:
        if not self._config.sources:
            return
        enabled = await enabled_alerts(self._tracker)
        loop = asyncio.get_running_loop()
        for spec in self._config.sources:
            source = Source(spec, self._config, self._tracker, self._messagebus, enabled, loop)
            self.running.append(source)
            source.start()

    async def stop(self) -> None:
        """Stop every source; the loop keeps running meanwhile, so raises in flight finish."""
        for source in self.running:
            source.signal_stop()
        deadline = time.monotonic() + STOP_WAIT
        for source in self.running:
            while not source.join(0) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        self.running.clear()
