"""The forwarding process: every output's runner, beside the server rather than in
it, so that formatting and sending alerts takes none of the time the server raises
in (on a machine with a core to spare; docs/performance.md).

The server starts it as `python -m kisalert.forward.worker FD`, FD being this end of
a socket pair (channel.py), and sends the outputs, the log's path, each output's
position and the silences. It reads the log's file, keeps the cursors (files in the
data directory; with Redis, through the server), and tells the server its status,
its messages and the silences' hits. It ends when the server says stop, or goes
away: the socket closes then, SIGKILL included.

Messages, server to process: `committed` (the log has new alerts), `status` (answer
with the records), `silences` (the set changed), `stop`. Process to server:
`status`, `post` (a message for the messagebus), `hits`, `cursor` (save a position,
with Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from kisalert import messages
from kisalert.alertlog.reader import LogReader
from kisalert.forward.base import OutputSpec
from kisalert.forward.channel import Channel
from kisalert.forward.cursor import CursorFiles, Cursors
from kisalert.forward.runners import Runners
from kisalert.forward.silences import Silences

# Seconds between two looks at the log when told nothing (a safety net, should a
# `committed` be skipped while the process was too busy to take it), and between
# two reports of the silences' hits.
POLL = 0.5


class Poster:
    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    def post(self, text: str, flags: int = messages.INFO) -> None:
        self._channel.send({"op": "post", "text": text, "flags": flags})


class ServerCursors:
    """Positions kept by the server (in Redis): saved there, in order, after the
    runner moved past them; the server said where each output starts."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    async def load(self, name: str) -> int | None:
        return None  # the server sends every start with the outputs

    async def save(self, name: str, stamp_us: int, alert_id: int | None) -> None:
        self._channel.send({"op": "cursor", "name": name, "ts_us": stamp_us, "id": alert_id})


async def run(channel: Channel) -> None:
    setup = await channel.receive()
    if setup is None:
        return
    poster = Poster(channel)
    silences = Silences()
    silences.replace(setup["silences"], time.time())
    silences.count(setup["hits"])
    silences.dirty = False
    specs = [OutputSpec(name, kind, options) for name, kind, options in setup["outputs"]]
    reader = LogReader(Path(setup["log"]))
    cursors: Cursors = (
        CursorFiles(Path(setup["data_dir"]))
        if setup["cursors"] == "files"
        else ServerCursors(channel)
    )
    runners = Runners(specs, poster, silences)
    runners.start_from_log(reader, cursors, setup["starts"])
    for runner in runners.runners:
        runner.carry(*setup["counted"][runner.name])

    async def upkeep() -> None:
        told: list[dict[str, Any]] = []
        while True:
            await asyncio.sleep(POLL)
            runners.wake()
            if silences.dirty:
                silences.dirty = False
                channel.send({"op": "hits", "hits": silences.hits()})
            # The server keeps the counts, so that a restart of this process (a
            # kill -9) carries them on instead of starting from its last status.
            records = runners.records()
            if records != told:
                told = records
                channel.send({"op": "counts", "records": records})

    keeping = asyncio.create_task(upkeep())
    try:
        while (message := await channel.receive()) is not None:
            op = message.get("op")
            if op == "committed":
                runners.wake()
            elif op == "status":
                reply: dict[str, Any] = {"op": "status", "id": message["id"]}
                reply["records"] = runners.records()
                reply["hits"] = silences.hits()
                channel.send(reply)
            elif op == "silences":
                silences.replace(message["silences"], time.time())
            elif op == "stop":
                break
    finally:
        keeping.cancel()
        await runners.stop()
        channel.send({"op": "hits", "hits": silences.hits()})
        reader.close()


async def main(fd: int) -> None:
    channel = await Channel.open(socket.socket(fileno=fd))
    try:
        await run(channel)
    finally:
        await channel.close()


if __name__ == "__main__":
    # The server stops this process through the channel, after the outputs had their
    # chance to finish; a Ctrl-C or a service manager's SIGTERM reaches the whole
    # process group, and is the server's to act on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import uvloop  # the server's loop

    with contextlib.suppress(BrokenPipeError):
        uvloop.run(main(int(sys.argv[1])))
