"""Forwarding on a real server: every raised alert reaches each syslog peer in raise
order; filters and caps; a peer that is down gets everything once it is up; a killed
server resumes at its cursors; a dead peer costs raises nothing; and the counts in
/forward/status.json."""

from __future__ import annotations

import signal
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.forward.receivers import DatagramReceiver, TcpReceiver
from tests.forward.status import (
    FAST_RETRY,
    STATUS,
    messages,
    raised_ids,
    raised_while_down,
    settled,
    status,
)
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server, free_port, wait_for


@pytest.fixture
def short_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kf") as name:
        yield Path(name)


def test_udp_tcp_and_unix_peers_each_get_every_alert_in_order(
    tmp_path: Path, short_dir: Path
) -> None:
    path = short_dir / "log"
    with (
        DatagramReceiver() as udp,
        TcpReceiver() as tcp,
        DatagramReceiver(socket.AF_UNIX, path) as unix,
    ):
        config = (
            BASE_CONFIG
            + f"forward=u:type=syslog,target=udp://127.0.0.1:{udp.port}\n"
            + f'forward=t:type=syslog,target="tcp://127.0.0.1:{tcp.port}",facility=auth\n'
            + f"forward=x:type=syslog,target=unix://{path}\n"
        )
        with Server(tmp_path, config) as server:
            define_fast(server, "FWDTEST", severity=10)
            for n in range(30):
                raise_ok(server, "FWDTEST", f"number {n}")
            expected = raised_ids(server)
            assert len(expected) >= 30
            for peer in (udp, tcp, unix):
                assert peer.wait_for_count(len(expected)) == expected
            assert b"FWDTEST number 29" in tcp.messages[-1]
            assert tcp.messages[-1].startswith(b"<36>1 ")  # auth (4) * 8 + warning (4)
            # PROCID is the server's id (the forwarding process is another process).
            procids = {message.split(b" ")[4] for message in udp.messages}
            assert procids == {str(server.proc.pid).encode()}
            for name in "utx":
                assert settled(server, name, len(expected))["state"] == "ok"


def test_strict_mode_forwards_each_alert_once_committed(tmp_path: Path) -> None:
    with DatagramReceiver() as peer:
        config = (
            BASE_CONFIG
            + "kis_log_sync=strict\n"
            + f"forward=u:type=syslog,target=udp://127.0.0.1:{peer.port}\n"
        )
        with Server(tmp_path, config) as server:
            define_fast(server, "FWDTEST")
            for n in range(5):
                raise_ok(server, "FWDTEST", f"number {n}")
            expected = raised_ids(server)
            assert peer.wait_for_count(len(expected)) == expected


def test_filters_and_caps_choose_what_each_output_gets(tmp_path: Path) -> None:
    with DatagramReceiver() as high, DatagramReceiver() as named, DatagramReceiver() as capped:
        target = "target=udp://127.0.0.1:"
        config = (
            BASE_CONFIG
            + f"forward=high:type=syslog,{target}{high.port},min_severity=HIGH\n"
            + f'forward=named:type=syslog,{target}{named.port},headers="FWDB|FWDC",'
            + 'text="^keep, me",classes=spoof\n'
            + f"forward=capped:type=syslog,{target}{capped.port},rate=3/hr,headers=FWDA\n"
        )
        with Server(tmp_path, config) as server:
            define_fast(server, "FWDA", severity=15)
            define_fast(server, "FWDB", severity=5, **{"class": "SPOOF"})
            define_fast(server, "FWDC", severity=20, **{"class": "DENIAL"})
            plan = [("FWDA", "a")] * 5 + [("FWDB", "keep, me"), ("FWDB", "no")]
            plan += [("FWDC", "keep, me"), ("FWDB", "keep, me too")]
            for header, text in plan:
                raise_ok(server, header, text)
            alerts = server.alerts()

            def ids(keep: Callable[[dict[str, Any]], bool]) -> list[int]:
                return [a["kismet.alert.hash"] for a in alerts if keep(a)]

            high_ids = ids(lambda a: a["kismet.alert.severity"] >= 15)  # ROOTUSER too
            named_ids = ids(
                lambda a: (
                    a["kismet.alert.class"] == "SPOOF"
                    and a["kismet.alert.text"].startswith("keep, me")
                )
            )
            capped_ids = ids(lambda a: a["kismet.alert.header"] == "FWDA")[:3]
            assert (len(high_ids) >= 6, len(named_ids), len(capped_ids)) == (True, 2, 3)
            assert high.wait_for_count(len(high_ids)) == high_ids
            assert named.wait_for_count(len(named_ids)) == named_ids
            assert capped.wait_for_count(3) == capped_ids
            settled(server, "capped", 3)
            report = status(server)
            assert report["capped"]["held_back"] == 2
            assert report["capped"]["delivered"] == 3
            assert report["named"]["delivered"] == 2
            time.sleep(0.1)  # nothing more comes
            assert (len(high.ids()), len(named.ids()), len(capped.ids())) == (len(high_ids), 2, 3)


def test_a_peer_that_is_down_gets_everything_once_it_is_up(tmp_path: Path) -> None:
    port = free_port()
    config = BASE_CONFIG + f"forward=later:type=syslog,target=tcp://127.0.0.1:{port},{FAST_RETRY}\n"
    with Server(tmp_path, config) as server:
        expected, down = raised_while_down(server, "later")
        assert down["delivered"] == 0
        assert f"tcp://127.0.0.1:{port}: " in down["last_error"]
        with TcpReceiver(port) as peer:
            assert peer.wait_for_count(len(expected)) == expected
            assert settled(server, "later", len(expected))["state"] == "ok"
            found = messages(server)
            failed = [
                m for m in found if m.startswith("forward later: failing, will retry: tcp://")
            ]
            recovered = [m for m in found if m.startswith("forward later: delivering again after")]
            assert (len(failed), len(recovered)) == (1, 1)


def test_a_killed_server_resumes_at_the_cursor(tmp_path: Path) -> None:
    port = free_port()
    config = BASE_CONFIG + f"forward=siem:type=syslog,target=tcp://127.0.0.1:{port},{FAST_RETRY}\n"
    with TcpReceiver(port) as first:
        server = Server(tmp_path, config)
        define_fast(server, "FWDTEST")
        for n in range(3):
            raise_ok(server, "FWDTEST", f"before {n}")
        confirmed = raised_ids(server)
        assert first.wait_for_count(len(confirmed)) == confirmed
        settled(server, "siem", len(confirmed))  # the cursor is on disk
    # The peer is down: these wait in the log, after the cursor.
    for n in range(3):
        raise_ok(server, "FWDTEST", f"after {n}")
    pending = raised_ids(server)[len(confirmed) :]
    wait_for(lambda: status(server)["siem"]["backlog"] == 3, what="3 alerts committed and waiting")
    assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    with TcpReceiver(port) as second, Server(tmp_path, config) as again:
        everything = raised_ids(again)
        assert everything[: len(confirmed) + 3] == confirmed + pending
        fresh = everything[len(confirmed) :]  # the pending ones, and any raised at start
        assert second.wait_for_count(len(fresh)) == fresh
        settled(again, "siem", len(fresh))
        assert second.ids() == fresh


def test_a_dead_peer_does_not_slow_raising(tmp_path: Path) -> None:
    """A behaviour check with a generous bound, not a benchmark."""

    def median_raise_seconds(config: str, workdir: Path) -> float:
        workdir.mkdir()
        with Server(workdir, config) as server:
            define_fast(server, "FWDTEST")
            raise_ok(server, "FWDTEST", "first")
            if "forward=" in config:
                # Timed while the outputs are down, not before they found out.
                wait_for(lambda: status(server)["dead"]["state"] == "failing", what="failing")
            times = []
            for n in range(60):
                start = time.perf_counter()
                raise_ok(server, "FWDTEST", f"number {n}")
                times.append(time.perf_counter() - start)
            return statistics.median(times)

    # A peer that takes the connection and never reads, and one that refuses.
    with socket.socket() as stuck:
        stuck.bind(("127.0.0.1", 0))
        stuck.listen(1)
        dead = (
            f"forward=dead:type=syslog,target=tcp://127.0.0.1:{free_port()},{FAST_RETRY}\n"
            f"forward=stuck:type=syslog,target=tcp://127.0.0.1:{stuck.getsockname()[1]},"
            "timeout=0.2\n"
        )
        without = median_raise_seconds(BASE_CONFIG, tmp_path / "without")
        with_dead = median_raise_seconds(BASE_CONFIG + dead, tmp_path / "with")
    assert with_dead < max(3 * without, without + 0.05), (with_dead, without)


def test_without_a_log_a_bounded_queue_counts_its_drops(tmp_path: Path) -> None:
    port = free_port()
    config = (
        BASE_CONFIG
        + f"forward=mem:type=syslog,target=tcp://127.0.0.1:{port},queue=4,{FAST_RETRY}\n"
    )
    with Server(tmp_path, config, ["--memory"]) as server:
        define_fast(server, "FWDTEST")
        raise_ok(server, "FWDTEST", "first")
        wait_for(lambda: status(server)["mem"]["state"] == "failing", what="the output to fail")
        for n in range(10):
            raise_ok(server, "FWDTEST", f"number {n}")
        raised = raised_ids(server)
        report = status(server)["mem"]
        # What the output holds, and the newest four; everything else is counted.
        assert report["dropped"] >= 6
        assert report["backlog"] + report["dropped"] == len(raised)
        with TcpReceiver(port) as peer:
            wait_for(lambda: status(server)["mem"]["backlog"] == 0, what="the queue to empty")
            got = peer.wait_for_count(len(raised) - report["dropped"])
        assert got[-4:] == raised[-4:]
        assert got == [alert_id for alert_id in raised if alert_id in got]  # in order


def test_status_is_for_admins_and_lists_every_output(tmp_path: Path) -> None:
    config = (
        BASE_CONFIG
        + "forward=b:type=syslog,target=udp://127.0.0.1:9\n"
        + "forward=a:type=syslog,target=unix:///nonexistent/log\n"
    )
    with Server(tmp_path, config) as server:
        records = server.get(STATUS).json()
        assert [r["kisalert.forward.name"] for r in records] == ["b", "a"]
        assert set(records[0]) == {
            "kisalert.forward." + key
            for key in (
                "name", "kind", "state", "backlog", "delivered", "failed", "dropped",
                "held_back", "last_error",
            )
        }  # fmt: skip
        assert records[0]["kisalert.forward.kind"] == "syslog"
        token = server.command(
            "/auth/apikey/generate.cmd", {"name": "viewer", "role": "readonly", "duration": 0}
        ).text.strip()
        answer = requests.get(
            server.url + STATUS, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert answer.status_code == 403
