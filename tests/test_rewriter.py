"""Data files rewritten off the event loop (store/rewriter.py), and the memory store's
sessions file written through it (its silences: tests/forward/test_silences.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from kisalert.auth import Principal
from kisalert.clock import SystemClock
from kisalert.credentials import Session
from kisalert.store import MemoryStore
from kisalert.store.rewriter import Rewriter
from kisalert.store.sessionfile import SessionFile


class Disk:
    """Records each write: the state written, whether it ran on the event loop's
    thread, and whether two writes ever overlapped."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.written: list[int] = []
        self.on_loop: list[bool] = []
        self.busy = False
        self.overlapped = False
        self.loop_thread = threading.get_ident()

    def write(self, state: int) -> None:
        self.on_loop.append(threading.get_ident() == self.loop_thread)
        if self.busy:
            self.overlapped = True
        self.busy = True
        time.sleep(self.seconds)
        self.busy = False
        self.written.append(state)


def test_requests_within_a_period_make_one_write_of_the_latest_state() -> None:
    async def main() -> None:
        disk = Disk()
        state = [0]
        saver = Rewriter(lambda: state[0], disk.write, period=0.3)
        state[0] = 1
        saver.request()  # the first is written at once
        await asyncio.sleep(0.1)
        for value in range(2, 40):
            state[0] = value
            saver.request()
        assert saver.pending
        await asyncio.sleep(0.1)
        assert disk.written == [1]  # the rest waits for the period
        await asyncio.sleep(0.4)
        assert disk.written == [1, 39]
        assert not saver.pending

    asyncio.run(main())


def test_save_writes_now_off_the_loop_and_returns_once_written() -> None:
    async def main() -> None:
        disk = Disk(seconds=0.2)
        state = [0]
        saver = Rewriter(lambda: state[0], disk.write, period=60.0)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        running = asyncio.create_task(ticker())
        state[0] = 1
        await saver.save()
        # A long period does not hold back a write somebody waits for.
        state[0] = 2
        await saver.save()
        running.cancel()
        assert disk.written == [1, 2]
        assert disk.on_loop == [False, False]
        assert ticks >= 10  # the loop ran while the disk was busy

    asyncio.run(main())


def test_changes_made_during_a_write_go_in_the_next_and_writes_never_overlap() -> None:
    async def main() -> None:
        disk = Disk(seconds=0.1)
        state = [0]
        saver = Rewriter(lambda: state[0], disk.write, period=0.0)
        state[0] = 1
        first = asyncio.create_task(saver.save())
        await asyncio.sleep(0.02)  # the write of 1 is under way
        state[0] = 2
        second = asyncio.create_task(saver.save())
        await asyncio.sleep(0)
        assert not first.done()
        await first
        assert not second.done()  # 2 came after the write of 1 began
        await second
        assert disk.written == [1, 2]
        assert not disk.overlapped

    asyncio.run(main())


def test_flush_with_nothing_pending_returns_at_once() -> None:
    async def main() -> None:
        disk = Disk()
        saver = Rewriter(lambda: 0, disk.write, period=1.0)
        await asyncio.wait_for(saver.flush(), 0.05)
        assert disk.written == []

    asyncio.run(main())


class SpiedSessionFile(SessionFile):
    """The real file, noting which thread writes it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.loop_thread = threading.get_ident()
        self.on_loop: list[bool] = []

    def save(self, sessions: Iterable[tuple[bytes, Session]], now: float) -> None:
        self.on_loop.append(threading.get_ident() == self.loop_thread)
        super().save(sessions, now)


def _session(expires: float) -> Session:
    return Session(Principal("admin", "admin"), expires, b"\xaa" * 32)


def test_a_login_does_not_write_the_sessions_file_on_the_event_loop(tmp_path: Path) -> None:
    """With 4 096 sessions the file is ~850 KB and ends in an fsync: written on the
    loop it held every other client for 8-27 ms per login."""

    async def main() -> None:
        clock = SystemClock()
        spy = SpiedSessionFile(tmp_path / "sessions.json")
        store = MemoryStore(clock, session_file=spy)
        until = clock.now() + 3600
        for n in range(200):
            await store.add_session(n.to_bytes(32, "big"), _session(until))
        await store.flush()
        assert spy.on_loop and not any(spy.on_loop)
        assert len(spy.on_loop) < 10  # coalesced, not one write per login
        assert len(SessionFile(spy.path).load(clock.now())) == 200
        # A logout is on disk when it returns.
        await store.remove_session((7).to_bytes(32, "big"))
        kept = {digest for digest, _ in SessionFile(spy.path).load(clock.now())}
        assert (7).to_bytes(32, "big") not in kept and len(kept) == 199
        assert not any(spy.on_loop)

    asyncio.run(main())
