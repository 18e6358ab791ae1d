"""One asyncio task per output: the only place that retries, backs off, filters,
caps and keeps count.

The runner reads the alerts after its position, in raise order and in batches,
keeps those its filter passes and its cap allows, and hands them to the output
until the output says delivered (or gives up on them); only then does it move its
position past the batch. With `window=`, a batch with something to send waits
that long and takes in what was raised meanwhile: one mail a window, not one an
alert. It sleeps while there is nothing new, and is woken when the log commits
alerts. Raising never waits for it: the log and the bus only set an event, so a
slow or dead output costs raises nothing, and other outputs have runners of their
own.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

from kisalert import messages
from kisalert.alert import Alert
from kisalert.forward.base import Outcome, Output, Poster, Result
from kisalert.forward.cursor import CursorError
from kisalert.forward.silences import Silences
from kisalert.forward.source import Source
from kisalert.forward.spec import Settings

BATCH = 100
WINDOW_LIMIT = 1000  # alerts one gathered batch (a mail) may hold
RETRY_MIN = 0.5  # seconds before the first retry; doubled each time up to retry_max
RETRY_AFTER_MAX = 3600.0  # the longest wait a peer's retry_after is granted
CLOSE_TIMEOUT = 5.0
OK = "ok"
FAILING = "failing"
KEY = "kisalert.forward."  # the prefix of every key of an output's status record


def backoff(attempt: int, retry_max: float, rng: random.Random) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): exponential, with
    jitter so that outputs failing together do not retry in step."""
    delay = min(retry_max, RETRY_MIN * 2.0 ** min(attempt - 1, 30))
    return delay * rng.uniform(0.5, 1.0)


def status_record(
    name: str,
    kind: str,
    state: str,
    backlog: int = 0,
    delivered: int = 0,
    failed: int = 0,
    dropped: int = 0,
    held_back: int = 0,
    last_error: str = "",
) -> dict[str, Any]:
    """An output's line in /forward/status.json (docs/forwarding.md)."""
    return {
        KEY + "name": name,
        KEY + "kind": kind,
        KEY + "state": state,
        KEY + "backlog": backlog,
        KEY + "delivered": delivered,
        KEY + "failed": failed,
        KEY + "dropped": dropped,
        KEY + "held_back": held_back,
        KEY + "last_error": last_error,
    }


class Runner:
    def __init__(
        self,
        output: Output,
        kind: str,
        settings: Settings,
        source: Source,
        messagebus: Poster,
        rng: random.Random | None = None,
        silences: Silences | None = None,
    ) -> None:
        self.output = output
        self.kind = kind
        self.settings = settings
        self.source = source
        self._messagebus = messagebus
        self._rng = rng or random.Random()
        self._silences = silences or Silences()
        self._cap = settings.cap()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.state = OK
        self._failures = 0  # failed attempts since the state became failing
        self.last_error = ""
        self.delivered = 0
        self.failed = 0  # alerts given up on

    @property
    def name(self) -> str:
        return self.output.name

    @property
    def held_back(self) -> int:
        return self._cap.held_back if self._cap is not None else 0

    def carry(self, delivered: int, failed: int, held_back: int) -> None:
        """Counts from before a restart of the forwarding process: they run from the
        server's start (held_back is a Prometheus counter: it must never go back)."""
        self.delivered, self.failed = delivered, failed
        if self._cap is not None:
            self._cap.held_back = held_back

    def wake(self) -> None:
        """New alerts may be there to read (called from the log and the bus)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"forward {self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._flush()  # what was delivered, recorded before the process goes
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.output.close()

    def record(self) -> dict[str, Any]:
        """The output's line in /forward/status.json."""
        return status_record(
            self.name,
            self.kind,
            self.state,
            self.source.backlog(),
            self.delivered,
            self.failed,
            self.source.dropped,
            self.held_back,
            self.last_error,
        )

    async def _run(self) -> None:
        attempt = 0
        while True:
            # Cleared before reading: a commit during the read leaves it set.
            self._wake.clear()
            try:
                batch = self.source.read(BATCH)
            except Exception as exc:  # sqlite3.Error, a damaged row: try again later
                attempt += 1
                self._failing(f"cannot read the alert log: {exc}")
                await asyncio.sleep(self._delay(attempt, None))
                continue
            attempt = 0
            if not batch:
                await self._idle()
                continue
            await self._deliver(batch)

    async def _idle(self) -> None:
        """Wait for new alerts; record the position meanwhile once it is due."""
        due = self.source.save_due()
        if due is not None:
            try:
                async with asyncio.timeout(due):
                    await self._wake.wait()
                return
            except TimeoutError:
                await self._flush()
        await self._wake.wait()

    def _chosen(self, batch: list[Alert]) -> list[Alert]:
        cap = self._cap
        passes = self.settings.filter.passes
        mutes, now = self._silences.mutes, time.time()
        # Every output asks the silences of every alert, so a silence's hits do not
        # depend on which outputs filter it; the cap counts only what goes out.
        return [
            alert
            for alert in batch
            if not mutes(alert, now) and passes(alert) and (cap is None or cap.take())
        ]

    async def _deliver(self, batch: list[Alert]) -> None:
        pending = self._chosen(batch)
        if pending and self.settings.window:
            batch, pending = await self._gather(batch, pending)
        attempt = 0
        took = False  # the peer took some of the batch: it is not failing
        while pending:
            outcome = await self._send(pending)
            sent = max(0, min(outcome.sent, len(pending)))
            if outcome.result is Result.DELIVERED:
                took = True
                break
            if sent:
                took = True
                await self._done(pending[sent - 1])
                self.delivered += sent
                pending = pending[sent:]
            if outcome.result is Result.GIVE_UP:
                self.failed += len(pending)
                self.last_error = outcome.reason
                self._messagebus.post(
                    f"forward {self.name}: gave up on {len(pending)} alert"
                    f"{'' if len(pending) == 1 else 's'}: {outcome.reason}",
                    messages.ERROR,
                )
                pending = []
                break
            attempt += 1
            self._failing(outcome.reason)
            await self._flush()  # what went out before this failure
            await asyncio.sleep(self._delay(attempt, outcome.retry_after))
        await self._done(batch[-1])
        self.delivered += len(pending)
        # Also after a give-up of the batch's last alerts (a webhook's 404) once the
        # others went through: it stayed failing, with no word of the recovery.
        if took and self.state == FAILING:
            failures, self._failures = self._failures, 0
            self.state = OK
            self._messagebus.post(
                f"forward {self.name}: delivering again after {failures} failed attempt"
                f"{'' if failures == 1 else 's'}",
                messages.INFO,
            )

    async def _gather(
        self, batch: list[Alert], pending: list[Alert]
    ) -> tuple[list[Alert], list[Alert]]:
        """Once `window` seconds have passed since the first alert to send was raised:
        the batch, and the alerts to send, with those raised meanwhile (up to
        WINDOW_LIMIT to send). Only a batch with something to send waits."""
        # From the raise, not the read: a backlog (after an outage, or more than a
        # window's limit) goes out at once, mail after mail. Never longer than one
        # window, whatever the wall clock did meanwhile.
        window = self.settings.window
        await self._flush()  # the batches before this one, not a window later
        due = pending[0].timestamp_us / 1_000_000 + window
        await asyncio.sleep(min(window, max(0.0, due - time.time())))
        batch, pending = list(batch), list(pending)
        while len(pending) < WINDOW_LIMIT:
            try:
                more = self.source.read(min(BATCH, WINDOW_LIMIT - len(pending)))
            except Exception:  # the next read (in _run) reports it and retries
                break
            if not more:
                break
            batch += more
            pending += self._chosen(more)
        return batch, pending

    async def _send(self, pending: list[Alert]) -> Outcome:
        try:
            async with asyncio.timeout(self.settings.timeout):
                return await self.output.send(pending)
        except TimeoutError:
            reason = f"no answer within {self.settings.timeout:g} s"
        except Exception as exc:  # an output's bug must not end forwarding
            reason = f"internal error in the output: {exc!r}"
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.output.close()
        return Outcome.retry(reason)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = backoff(attempt, self.settings.retry_max, self._rng)
        if retry_after is not None:
            delay = max(delay, min(retry_after, RETRY_AFTER_MAX))
        return delay

    async def _done(self, alert: Alert) -> None:
        try:
            await self.source.done(alert)
        except CursorError as exc:
            self._cursor_failed(exc)

    async def _flush(self) -> None:
        try:
            await self.source.flush()
        except CursorError as exc:
            self._cursor_failed(exc)

    def _cursor_failed(self, exc: CursorError) -> None:
        # Delivered all the same; a restart would send these again (at least once).
        if self.last_error != str(exc):  # once, not once a batch
            self._messagebus.post(f"forward {self.name}: {exc}", messages.ERROR)
        self.last_error = str(exc)

    def _failing(self, reason: str) -> None:
        self.last_error = reason
        self._failures += 1
        if self.state != FAILING:
            self.state = FAILING
            self._messagebus.post(
                f"forward {self.name}: failing, will retry: {reason}", messages.ERROR
            )
