"""The outputs of a running server: their runners, fed from the alert log (or, with
no log, from the bus), started and stopped with the service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kisalert import messages
from kisalert.alert import Alert
from kisalert.alertlog import AlertLog
from kisalert.bus import ALERT, Bus
from kisalert.forward import OUTPUTS
from kisalert.forward.base import OutputSpec
from kisalert.forward.cursor import CursorError, CursorFiles, Cursors
from kisalert.forward.runner import Runner, status_record
from kisalert.forward.silences import Silences
from kisalert.forward.source import LogSource, QueueSource
from kisalert.forward.spec import settings
from kisalert.messages import MessageBus

STANDBY = "standby"  # another replica forwards


class Forwarding:
    def __init__(
        self,
        specs: Sequence[OutputSpec],
        data_dir: Path,
        messagebus: MessageBus,
        silences: Silences | None = None,
    ):
        self._specs = list(specs)
        self.silences = silences or Silences()
        self._data_dir = data_dir
        self._messagebus = messagebus
        self.runners: list[Runner] = []
        self._tails: list[Callable[[list[Alert]], None]] = []
        self._log: AlertLog | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def start_from_log(self, log: AlertLog, cursors: Cursors | None = None) -> None:
        """Start every output at its cursor (in the data directory unless `cursors`
        says where); an output with none starts at the end of the log (it is not sent
        what was raised before it was configured). Call before anything is raised,
        once the log is open; with several replicas, when this one takes the lease."""
        if not self._specs:
            return
        cursors = cursors or CursorFiles(self._data_dir)
        for spec in self._specs:
            try:
                start = await cursors.load(spec.name)
            except CursorError as exc:
                start = None
                self._post(f"forward {spec.name}: {exc}; starting at the end of the log")
            if start is None:
                start = log.newest_us()
                try:
                    await cursors.save(spec.name, start, None)
                except CursorError as exc:
                    self._post(f"forward {spec.name}: {exc}")
            source = LogSource(log, cursors, spec.name, start)
            self._tails.append(source.committed)
            self._add(spec, source)
        self._log = log
        log.listeners.append(self._committed)
        self._start()

    def start_from_bus(self, bus: Bus) -> None:
        """With no log: each output gets a bounded queue of the alerts raised from now
        on, lost on a restart."""
        queues: list[tuple[QueueSource, Runner]] = []
        for spec in self._specs:
            source = QueueSource(settings(spec).queue)
            queues.append((source, self._add(spec, source)))

        def published(_topic: str, alert: Alert) -> None:
            for source, runner in queues:
                source.put(alert)
                runner.wake()

        if queues:
            self._unsubscribe = bus.subscribe(ALERT, published)
        self._start()

    def _add(self, spec: OutputSpec, source: LogSource | QueueSource) -> Runner:
        output = OUTPUTS[spec.kind].build(spec)
        runner = Runner(
            output, spec.kind, settings(spec), source, self._messagebus, silences=self.silences
        )
        self.runners.append(runner)
        return runner

    def _start(self) -> None:
        for runner in self.runners:
            runner.start()

    def _committed(self, alerts: list[Alert]) -> None:
        for keep in self._tails:
            keep(alerts)
        for runner in self.runners:
            runner.wake()

    async def stop(self) -> None:
        if self._log is not None:
            self._log.listeners.remove(self._committed)
            self._log = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await asyncio.gather(*(runner.stop() for runner in self.runners))
        self.runners = []
        self._tails = []

    def records(self) -> list[dict[str, Any]]:
        if self.runners or not self._specs:
            return [runner.record() for runner in self.runners]
        # Not running here: another replica holds the log's lease and forwards.
        return [status_record(spec.name, spec.kind, STANDBY) for spec in self._specs]

    def _post(self, text: str) -> None:
        self._messagebus.post(text, messages.ERROR)
