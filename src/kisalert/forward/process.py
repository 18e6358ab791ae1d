"""The server's side of the forwarding process (worker.py): starts it, tells it of
commits and of changes to the silences, asks it for its status, posts its messages,
keeps the hits it counted and, with Redis, the positions it reached; and starts it
again, with a growing pause, when it ends without being asked to."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from kisalert import messages
from kisalert.forward.base import OutputSpec, Poster
from kisalert.forward.channel import Channel, ChannelError
from kisalert.forward.cursor import CursorError, CursorFiles, Cursors
from kisalert.forward.runner import CLOSE_TIMEOUT, FAILING, KEY, status_record
from kisalert.forward.silences import Silences
from kisalert.forward.syslog import SERVER_PID_ENV

STARTING = "starting"
STATUS_TIMEOUT = 5.0  # a status answer waits this long for the process
STOP_TIMEOUT = CLOSE_TIMEOUT + 5.0  # its outputs close within CLOSE_TIMEOUT, in parallel
RESTART_MIN, RESTART_MAX = 0.5, 30.0
STEADY = 60.0  # seconds a process ran that make its ending a fresh failure
# Past this many bytes waiting for the process, a commit is not told: it is busy, and
# its runners look at the log twice a second all the same (worker.POLL).
PING_BACKLOG = 1 << 20


class WorkerProcess:
    def __init__(
        self,
        specs: Sequence[OutputSpec],
        poster: Poster,
        silences: Silences,
        log_path: Path,
        data_dir: Path,
        cursors: Cursors,
    ) -> None:
        self._specs = list(specs)
        self._poster = poster
        self._silences = silences
        self._log_path = log_path
        self._data_dir = data_dir
        self._cursors = cursors
        self._starts: dict[str, int] = {}
        self._channel: Channel | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._records: list[dict[str, Any]] = [
            status_record(spec.name, spec.kind, STARTING) for spec in self._specs
        ]
        self._asked: dict[int, asyncio.Future[None]] = {}
        self._ids = itertools.count()
        self._sent_silences = b""
        self._saves: dict[str, tuple[int, int | None]] = {}  # newest position per output
        self._saving: asyncio.Task[None] | None = None
        self._cursor_error = ""
        self._pinged = False

    async def start(self, starts: dict[str, int]) -> None:
        """Start the process with each output at its position in `starts`."""
        self._starts = dict(starts)
        self._silences.listeners.append(self._silences_changed)
        self._supervisor = asyncio.create_task(self._supervise(), name="forwarding process")

    def committed(self, _alerts: object) -> None:
        """The log committed alerts: tell the process, once per turn of the loop."""
        if self._pinged or self._channel is None:
            return
        self._pinged = True
        asyncio.get_running_loop().call_soon(self._ping)

    def _ping(self) -> None:
        self._pinged = False
        channel = self._channel
        if channel is not None and channel.buffered() < PING_BACKLOG:
            channel.send({"op": "committed"})

    def records(self) -> list[dict[str, Any]]:
        return self._records

    async def refresh(self) -> None:
        """Ask the process for its status, and wait (a while) for the answer."""
        channel = self._channel
        if channel is None:
            return
        asked = next(self._ids)
        answered = self._asked[asked] = asyncio.get_running_loop().create_future()
        channel.send({"op": "status", "id": asked})
        try:
            async with asyncio.timeout(STATUS_TIMEOUT):
                await answered
        except TimeoutError:
            pass
        finally:
            self._asked.pop(asked, None)

    async def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(ValueError):
            self._silences.listeners.remove(self._silences_changed)
        process, channel, supervisor = self._process, self._channel, self._supervisor
        if channel is not None:
            channel.send({"op": "stop"})
        if process is not None and process.returncode is None:
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        if supervisor is not None:
            # Once the process has ended the supervisor does too, having taken its last
            # words (the hits); one that waits to start the next process is cancelled.
            if channel is not None:
                await asyncio.wait([supervisor], timeout=1.0)
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
            self._supervisor = None
        if self._saving is not None:
            await self._saving

    # The process's life

    async def _supervise(self) -> None:
        pause = RESTART_MIN
        while True:
            began = time.monotonic()
            status = await self._run_once()
            if self._stopping:
                return
            if time.monotonic() - began > STEADY:
                pause = RESTART_MIN
            reason = f"the forwarding process ended ({_ended(status)})"
            self._poster.post(f"forward: {reason}; starting it again", messages.ERROR)
            self._records = [
                {**record, KEY + "state": FAILING, KEY + "last_error": reason}
                for record in self._records
            ]
            await asyncio.sleep(pause)
            pause = min(pause * 2, RESTART_MAX)
            await self._reload_starts()

    async def _run_once(self) -> int | None:
        mine, theirs = socket.socketpair()
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "kisalert.forward.worker",
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                # Syslog's PROCID is the server's, not this process's (docs/forwarding.md).
                env={**os.environ, SERVER_PID_ENV: str(os.getpid())},
            )
        except OSError as exc:
            mine.close()
            self._poster.post(
                f"forward: cannot start the forwarding process: {exc}", messages.ERROR
            )
            return None
        finally:
            theirs.close()
        channel = await Channel.open(mine)
        channel.send(
            {
                "outputs": [[spec.name, spec.kind, spec.options] for spec in self._specs],
                "log": str(self._log_path),
                "data_dir": str(self._data_dir),
                # Files the process writes itself; anything else (Redis) through us.
                "cursors": "files" if isinstance(self._cursors, CursorFiles) else "server",
                "starts": self._starts,
                "silences": self._silences.wire(),
                "hits": self._silences.hits(),
                "counted": self._counted(),
            }
        )
        self._sent_silences = orjson.dumps(self._silences.wire())
        self._channel = channel
        try:
            while (message := await channel.receive()) is not None:
                self._take(message)
        except (ChannelError, KeyError, TypeError, ValueError) as exc:
            self._poster.post(f"forward: the forwarding process said {exc}", messages.ERROR)
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        finally:
            self._channel = None
            for waiting in self._asked.values():
                if not waiting.done():
                    waiting.set_result(None)
            await channel.close()
        return await self._process.wait()

    def _counted(self) -> dict[str, tuple[int, int, int]]:
        """What the outputs delivered, gave up on and held back under the processes
        before this one (as last told, within POLL): the counts run from the start."""
        return {
            record[KEY + "name"]: (
                record[KEY + "delivered"],
                record[KEY + "failed"],
                record[KEY + "held_back"],
            )
            for record in self._records
        }

    def _take(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == "status":
            self._records = message["records"]
            self._silences.count(message["hits"])
            waiting = self._asked.get(message["id"])
            if waiting is not None and not waiting.done():
                waiting.set_result(None)
        elif op == "post":
            self._poster.post(str(message["text"]), int(message["flags"]))
        elif op == "hits":
            self._silences.count(message["hits"])
        elif op == "counts":
            self._records = message["records"]
        elif op == "cursor":
            self._save(str(message["name"]), int(message["ts_us"]), message["id"])

    async def _reload_starts(self) -> None:
        """Where each output is now (the process moved the positions on)."""
        for name in self._starts:
            with contextlib.suppress(CursorError):
                found = await self._cursors.load(name)
                if found is not None:
                    self._starts[name] = found

    # Positions kept by the server (Redis)

    def _save(self, name: str, stamp_us: int, alert_id: int | None) -> None:
        self._saves[name] = (stamp_us, alert_id)
        self._starts[name] = stamp_us
        if self._saving is None:
            self._saving = asyncio.create_task(self._save_all())

    async def _save_all(self) -> None:
        # The newest position of each output only: a cursor only moves forward.
        try:
            while self._saves:
                name, (stamp_us, alert_id) = self._saves.popitem()
                try:
                    await self._cursors.save(name, stamp_us, alert_id)
                except CursorError as exc:
                    # Delivered all the same; a restart would send these again.
                    if self._cursor_error != str(exc):
                        self._poster.post(f"forward {name}: {exc}", messages.ERROR)
                    self._cursor_error = str(exc)
        finally:
            self._saving = None

    def _silences_changed(self) -> None:
        channel = self._channel
        if channel is None:
            return
        wired = self._silences.wire()
        sent = orjson.dumps(wired)
        if sent != self._sent_silences:
            self._sent_silences = sent
            channel.send({"op": "silences", "silences": wired})


def _ended(status: int | None) -> str:
    if status is None:
        return "it could not start"
    if status < 0:
        return f"signal {-status}"
    return f"exit status {status}"
