"""The runners of a set of outputs, in one process: the forwarding process's, fed
from the alert log's file, or the server's own with no log (`--memory`), fed from
the bus."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kisalert.alert import Alert
from kisalert.bus import ALERT, Bus
from kisalert.forward import OUTPUTS
from kisalert.forward.base import OutputSpec, Poster
from kisalert.forward.cursor import Cursors
from kisalert.forward.runner import Runner
from kisalert.forward.silences import Silences
from kisalert.forward.source import Log, LogFeed, LogSource, QueueSource
from kisalert.forward.spec import settings


class Runners:
    def __init__(self, specs: Sequence[OutputSpec], poster: Poster, silences: Silences) -> None:
        self._specs = list(specs)
        self._poster = poster
        self._silences = silences
        self.runners: list[Runner] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._feed: LogFeed | None = None

    def start_from_log(self, log: Log, cursors: Cursors, starts: Mapping[str, int]) -> None:
        """Each output from its position in `starts` (a stamp, µs)."""
        sources = [LogSource(log, cursors, spec.name, starts[spec.name]) for spec in self._specs]
        for spec, source in zip(self._specs, sources, strict=True):
            self._add(spec, source)
        self._feed = LogFeed(log, sources)
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
            output, spec.kind, settings(spec), source, self._poster, silences=self._silences
        )
        self.runners.append(runner)
        return runner

    def _start(self) -> None:
        for runner in self.runners:
            runner.start()

    def wake(self) -> None:
        """The log has committed alerts (or may have)."""
        if self._feed is not None:
            self._feed.pull()
        for runner in self.runners:
            runner.wake()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await asyncio.gather(*(runner.stop() for runner in self.runners))
        self.runners = []

    def records(self) -> list[dict[str, Any]]:
        return [runner.record() for runner in self.runners]
