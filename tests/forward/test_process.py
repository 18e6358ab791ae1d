"""The forwarding process: the outputs run beside the server, which starts it again
when it dies, and which it never outlives."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from tests.forward.receivers import TcpReceiver
from tests.forward.status import messages, raised_ids, settled, status
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server, wait_for

WORKER = b"kisalert.forward.worker"


def workers(parent: int) -> list[int]:
    """The forwarding processes whose parent is `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        # The fields after the command name, which may hold spaces: state, ppid, ...
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z" and WORKER in command:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def config(peer: TcpReceiver) -> str:
    return BASE_CONFIG + f"forward=t:type=syslog,target=tcp://127.0.0.1:{peer.port}\n"


def delivered(server: Server, peer: TcpReceiver, count: int, first: int = 0) -> list[int]:
    """Raise `count` alerts and wait until `peer` has every alert raised: their ids."""
    define_fast(server, "FWDTEST")
    for n in range(first, first + count):
        raise_ok(server, "FWDTEST", f"number {n}")
    expected = raised_ids(server)
    assert peer.wait_for_count(len(expected)) == expected
    return expected


def test_a_dead_forwarding_process_is_started_again_and_resumes(tmp_path: Path) -> None:
    with TcpReceiver() as peer, Server(tmp_path, config(peer)) as server:
        (first,) = wait_for(lambda: workers(server.proc.pid), what="the forwarding process")
        before = delivered(server, peer, 5)
        settled(server, "t", len(before))  # and its position saved

        os.kill(first, signal.SIGKILL)
        wait_for(
            lambda: any("forwarding process ended (signal 9)" in m for m in messages(server)),
            what="the server to notice",
        )
        # Answered whatever the moment: failing, saying why, until the new process
        # answers for itself.
        now = status(server)["t"]
        assert now["state"] == "ok" or (
            now["state"] == "failing" and "forwarding process ended" in now["last_error"]
        ), now
        for n in range(5, 10):
            raise_ok(server, "FWDTEST", f"number {n}")
        (second,) = wait_for(lambda: workers(server.proc.pid), what="a new forwarding process")
        assert second != first
        expected = raised_ids(server)
        # Once each, in order; the counts run on from before.
        assert peer.wait_for_count(len(expected)) == expected
        assert settled(server, "t", len(expected))["state"] == "ok"


def test_the_forwarding_process_never_outlives_the_server(tmp_path: Path) -> None:
    with TcpReceiver() as peer, Server(tmp_path, config(peer)) as server:
        (worker,) = wait_for(lambda: workers(server.proc.pid), what="the forwarding process")
        server.proc.kill()
        server.proc.wait()
        wait_for(lambda: not alive(worker), what="the forwarding process to end")


def test_ctrl_c_stops_the_forwarding_process_through_the_server(tmp_path: Path) -> None:
    """A terminal's Ctrl-C signals the whole process group: the forwarding process
    leaves its ending to the server, which stops it cleanly, so a restart neither
    repeats nor skips a delivery."""
    with TcpReceiver() as peer:
        with Server(tmp_path, config(peer), own_group=True) as server:
            (worker,) = wait_for(lambda: workers(server.proc.pid), what="the forwarding process")
            define_fast(server, "FWDTEST")
            for n in range(20):
                raise_ok(server, "FWDTEST", f"number {n}")
            expected = raised_ids(server)
            assert peer.wait_for_count(len(expected)) == expected
            settled(server, "t", len(expected))
            os.killpg(server.proc.pid, signal.SIGINT)
            assert server.proc.wait(20) == 0, server.stderr()
            assert not alive(worker)
            assert "Traceback" not in server.stderr()
        with Server(tmp_path, config(peer)) as server:
            raise_ok(server, "FWDTEST", "after the restart")
            after = raised_ids(server)
            assert peer.wait_for_count(len(after)) == after


def test_the_counts_run_on_across_a_restart_asked_for_or_not(tmp_path: Path) -> None:
    """Without a status request before the kill, `delivered` fell back to the last
    one asked for (1 for 301 sent), and `held_back`, a Prometheus counter, to 0."""
    with TcpReceiver() as peer, TcpReceiver() as capped_peer:
        conf = (
            config(peer)
            + f"forward=c:type=syslog,target=tcp://127.0.0.1:{capped_peer.port},rate=5/min\n"
        )
        with Server(tmp_path, conf) as server:
            (first,) = wait_for(lambda: workers(server.proc.pid), what="the forwarding process")
            expected = delivered(server, peer, 20)
            capped_peer.wait_for_count(5)
            time.sleep(1.5)  # the process tells the server its counts every 0.5 s
            os.kill(first, signal.SIGKILL)
            wait_for(lambda: set(workers(server.proc.pid)) - {first}, what="a new process")

            def answered() -> dict[str, Any] | None:
                found = status(server)
                return found if found["t"]["state"] == "ok" else None

            after = wait_for(answered, what="the new process to answer")
            assert after["t"]["delivered"] == len(expected)
            assert after["c"]["delivered"] == 5
            assert after["c"]["held_back"] == len(expected) - 5
