"""The outputs of a running server, started and stopped with the service.

With an alert log, the outputs run in a process of their own (worker.py), which
reads the log's file from each output's position: formatting and sending alerts
then costs raising nothing on a machine with a core to spare. With no log
(`--memory`) they run on the server's event loop, fed from the bus.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kisalert import messages
from kisalert.alertlog import AlertLog
from kisalert.bus import Bus
from kisalert.forward.base import OutputSpec
from kisalert.forward.cursor import CursorError, CursorFiles, Cursors, CursorUnavailable
from kisalert.forward.process import WorkerProcess
from kisalert.forward.runner import status_record
from kisalert.forward.runners import Runners
from kisalert.forward.silences import Silences
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
        self._process: WorkerProcess | None = None
        self._runners: Runners | None = None
        self._log: AlertLog | None = None

    @property
    def running(self) -> bool:
        return self._process is not None or self._runners is not None

    async def start_from_log(self, log: AlertLog, cursors: Cursors | None = None) -> None:
        """Start every output at its cursor (in the data directory unless `cursors`
        says where); an output with none starts at the end of the log (it is not sent
        what was raised before it was configured). Call before anything is raised,
        once the log is open; with several replicas, when this one takes the lease.

        Raises CursorUnavailable, starting nothing, when the cursors cannot be reached
        now (Redis away): starting at the end of the log would skip what the outputs
        have not sent."""
        if not self._specs:
            return
        cursors = cursors or CursorFiles(self._data_dir)
        starts: dict[str, int] = {}
        for spec in self._specs:
            try:
                start = await cursors.load(spec.name)
            except CursorUnavailable:
                raise
            except CursorError as exc:
                start = None
                self._post(f"forward {spec.name}: {exc}; starting at the end of the log")
            if start is None:
                start = log.newest_us()
                try:
                    await cursors.save(spec.name, start, None)
                except CursorUnavailable:
                    raise
                except CursorError as exc:
                    self._post(f"forward {spec.name}: {exc}")
            starts[spec.name] = start
        self._process = WorkerProcess(
            self._specs, self._messagebus, self.silences, log.path, self._data_dir, cursors
        )
        await self._process.start(starts)
        self._log = log
        log.listeners.append(self._process.committed)

    def start_from_bus(self, bus: Bus) -> None:
        """With no log: each output gets a bounded queue of the alerts raised from now
        on, lost on a restart."""
        if self._specs:
            self._runners = Runners(self._specs, self._messagebus, self.silences)
            self._runners.start_from_bus(bus)

    async def refresh(self) -> None:
        """Bring `records` up to date (the process keeps the counts)."""
        if self._process is not None:
            await self._process.refresh()

    async def stop(self) -> None:
        if self._process is not None:
            if self._log is not None:
                self._log.listeners.remove(self._process.committed)
                self._log = None
            await self._process.stop()
            self._process = None
        if self._runners is not None:
            await self._runners.stop()
            self._runners = None

    def records(self) -> list[dict[str, Any]]:
        if self._process is not None:
            return self._process.records()
        if self._runners is not None:
            return self._runners.records()
        # Not running here: another replica holds the log's lease and forwards.
        return [status_record(spec.name, spec.kind, STANDBY) for spec in self._specs]

    def _post(self, text: str) -> None:
        self._messagebus.post(text, messages.ERROR)
