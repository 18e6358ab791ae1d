"""Live capture, for real, without Wi-Fi hardware: a TUN device whose link type is
radiotap is what libpcap sees of a monitor-mode interface (DLT 127), and each frame
written into it is captured as one radiotap frame.

Creating the device needs root (tests run as root here); the tests that need it skip
otherwise. Every device has a name of its own and goes when its descriptor closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scapy.packet import Packet

from kisalert.wids.capture.live import LiveCapture, LiveError, interface_exists
from kisalert.wids.capture.pcapfile import Record
from tests.server import Server
from tests.wids.frames import AP, AP2, BROADCAST, STA, deauth, record_bytes
from tests.wids.source_server import (
    headers,
    subscribed,
    wait_for_alerts,
    wait_for_message,
)

TUNSETIFF = 0x400454CA
TUNSETLINK = 0x400454CD
IFF_TUN = 0x0001  # without IFF_NO_PI: each write starts with a packet-info header
ARPHRD_IEEE80211_RADIOTAP = 803
PACKET_INFO = struct.pack("!HH", 0, 0x0019)  # no flags; ETH_P_80211_RAW
NOBODY = 65534
MISSING = "ksnosuch0"

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
    reason="a TUN device needs root and /dev/net/tun",
)

_numbers = itertools.count()


class Tun:
    """A radiotap TUN device: what is written into it is captured from it."""

    def __init__(self, up: bool = True) -> None:
        self.name = f"ks{os.getpid()}x{next(_numbers)}"[:15]
        self.fd: int | None = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH", self.name.encode(), IFF_TUN))
        fcntl.ioctl(self.fd, TUNSETLINK, ARPHRD_IEEE80211_RADIOTAP)
        if up:
            subprocess.run(["ip", "link", "set", self.name, "up"], check=True)

    def send(self, *frames: Packet) -> None:
        assert self.fd is not None
        for frame in frames:
            os.write(self.fd, PACKET_INFO + record_bytes(frame))

    def close(self) -> None:
        """Remove the device, as unplugging an adapter would."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        deadline = time.monotonic() + 5
        while os.path.exists(f"/sys/class/net/{self.name}") and time.monotonic() < deadline:
            time.sleep(0.01)

    def __enter__(self) -> Tun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def tun() -> Iterator[Tun]:
    with Tun() as device:
        yield device


def collect(capture: LiveCapture, count: int, timeout: float = 5.0) -> list[Record]:
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        records.extend(capture.read(0.1))
    return records


def flood() -> list[Packet]:
    """A deauth flood on AP (11 frames, sent within a second) and a broadcast deauth."""
    return [deauth() for _ in range(11)] + [deauth(bssid=AP2, dest=BROADCAST)]


# The capture


@needs_root
def test_frames_written_into_a_radiotap_interface_are_captured(tun: Tun) -> None:
    with LiveCapture(tun.name) as capture:
        assert capture.linktype == 127
        frames = [deauth(), deauth(dest=BROADCAST), deauth(bssid=AP2)]
        tun.send(*frames)
        records = collect(capture, 3)
    assert [data for _, _, data in records] == [record_bytes(f) for f in frames]
    assert {linktype for linktype, _, _ in records} == {127}
    for _, ts_us, _ in records:
        assert abs(ts_us / 1_000_000 - time.time()) < 60


@needs_root
def test_a_read_of_a_quiet_interface_returns_after_its_wait(tun: Tun) -> None:
    with LiveCapture(tun.name) as capture:
        started = time.monotonic()
        assert list(capture.read(0.2)) == []
        assert time.monotonic() - started < 1.0


@needs_root
def test_an_interface_not_in_monitor_mode_is_refused_saying_how_to_fix_it() -> None:
    with pytest.raises(LiveError) as caught:
        LiveCapture("lo")
    message = str(caught.value)
    assert message.startswith("lo is not in monitor mode: its link type is EN10MB (1)")
    assert "iw dev lo set type monitor" in message
    assert "\n" not in message


def test_a_missing_interface_is_refused() -> None:
    with pytest.raises(LiveError, match=f"^no such network interface '{MISSING}'$"):
        LiveCapture(MISSING)


@pytest.mark.parametrize("name", [".", "..", "", "lo/.."])
def test_names_that_are_directories_of_sys_class_net_are_no_interfaces(name: str) -> None:
    # /sys/class/net/. and /sys/class/net/.. are directories: `--source .` was taken
    # for an interface and refused as one, not as the directory it is.
    assert not interface_exists(name)
    assert interface_exists("lo")


@needs_root
def test_an_interface_that_is_down_is_refused_saying_how_to_fix_it() -> None:
    with Tun(up=False) as down, pytest.raises(LiveError) as caught:
        LiveCapture(down.name)
    fix = f"`ip link set {down.name} up`"
    assert str(caught.value) == f"{down.name} is down: bring it up with {fix}"


@needs_root
def test_an_interface_that_goes_away_ends_the_capture(tun: Tun) -> None:
    with LiveCapture(tun.name) as capture:
        tun.close()
        with pytest.raises(LiveError) as caught:
            collect(capture, 1)
    assert str(caught.value) == f"capture on {tun.name} stopped: the interface is gone"


@needs_root
def test_an_interface_set_down_ends_the_capture(tun: Tun) -> None:
    with LiveCapture(tun.name) as capture:
        subprocess.run(["ip", "link", "set", tun.name, "down"], check=True)
        with pytest.raises(LiveError) as caught:
            collect(capture, 1)
    assert str(caught.value) == f"capture on {tun.name} stopped: The interface went down"


# setpriv, not Popen(user=...): it changes user in a way that still lets the
# interpreter be found where root installed it.
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _run_unprivileged(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AS_NOBODY, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


needs_setpriv = pytest.mark.skipif(
    shutil.which("setpriv") is None, reason="setpriv runs the capture as an unprivileged user"
)


@needs_root
@needs_setpriv
def test_capture_without_the_privilege_is_refused_saying_what_it_needs(tun: Tun) -> None:
    code = (
        "from kisalert.wids.capture.live import LiveCapture, LiveError\n"
        f"try:\n    LiveCapture({tun.name!r})\nexcept LiveError as exc:\n    print(exc)\n"
    )
    result = _run_unprivileged(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"not permitted to capture on {tun.name}: kisalert needs the CAP_NET_RAW capability "
        "(e.g. AmbientCapabilities=CAP_NET_RAW in its systemd unit) or root\n"
    )


# Live sources in a running server


@needs_root
def test_frames_on_a_live_source_raise_alerts_on_every_route_and_the_eventbus(
    tmp_path: Path, tun: Tun
) -> None:
    with Server(tmp_path, extra_args=["--source", f"{tun.name}:name=air"]) as server:
        wait_for_message(server, f"source air: capturing on {tun.name}")

        async def watch() -> list[dict[str, Any]]:
            async with subscribed(server, "LIVE_SYNC") as subscriber:
                tun.send(*flood())
                await subscriber.until(
                    lambda alerts: {"DEAUTHFLOOD", "BCASTDISCON"} <= set(headers(alerts))
                )
                return subscriber.alerts

        seen = {a["kismet.alert.header"]: a for a in asyncio.run(watch())}
        assert seen["DEAUTHFLOOD"]["kismet.alert.transmitter_mac"] == AP.upper()
        assert seen["DEAUTHFLOOD"]["kismet.alert.dest_mac"] == STA.upper()
        assert seen["DEAUTHFLOOD"]["kismet.alert.channel"] == "6"
        assert seen["BCASTDISCON"]["kismet.alert.transmitter_mac"] == AP2.upper()
        listed = headers(server.alerts())
        assert listed.count("DEAUTHFLOOD") == 1
        assert listed.count("BCASTDISCON") == 1
        recent = headers(server.get("/alerts/last-time/-60/alerts.json").json())
        assert {"DEAUTHFLOOD", "BCASTDISCON"} <= set(recent)


@needs_root
def test_an_interface_not_in_monitor_mode_raises_sourceerror(tmp_path: Path) -> None:
    with Server(tmp_path, extra_args=["--source", "lo:name=wired"]) as server:
        [alert] = wait_for_alerts(server, "SOURCEERROR")
        text = alert["kismet.alert.text"]
        assert text.startswith("source wired failed: lo is not in monitor mode")
        assert "EN10MB (1)" in text
        assert server.stderr().count(text) == 1
        assert server.get("/system/timestamp.json").status_code == 200


def test_a_missing_interface_raises_sourceerror(tmp_path: Path) -> None:
    with Server(tmp_path, extra_args=["--source", MISSING]) as server:
        [alert] = wait_for_alerts(server, "SOURCEERROR")
        assert alert["kismet.alert.text"] == (
            f"source {MISSING} failed: {MISSING}: no such file or interface"
        )
        assert server.get("/system/timestamp.json").status_code == 200


@needs_root
def test_an_interface_that_goes_away_raises_sourceerror(tmp_path: Path) -> None:
    with Tun() as device, Server(tmp_path, extra_args=["--source", device.name]) as server:
        wait_for_message(server, f"capturing on {device.name}")
        device.close()
        [alert] = wait_for_alerts(server, "SOURCEERROR")
        assert alert["kismet.alert.text"] == (
            f"source {device.name} failed: capture on {device.name} stopped: the interface is gone"
        )
        assert server.get("/system/timestamp.json").status_code == 200
        assert server.stop() == 0


@contextlib.contextmanager
def unprivileged_workdir() -> Iterator[Path]:
    """A directory the unprivileged user can write (pytest's tmp_path is root's alone)."""
    workdir = Path(tempfile.mkdtemp(prefix="kisalert-live-"))
    try:
        os.chown(workdir, NOBODY, NOBODY)
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@needs_root
def test_a_server_without_the_privilege_raises_sourceerror(
    tun: Tun, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unprivileged_workdir() as workdir:
        with monkeypatch.context() as patch:
            # Server starts its process with subprocess.Popen: this one as nobody.
            real = subprocess.Popen

            def popen(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
                return real([*AS_NOBODY, *args], **kwargs)

            patch.setattr(subprocess, "Popen", popen)
            server = Server(workdir, extra_args=["--source", f"{tun.name}:name=nopriv"])
        with server:
            [alert] = wait_for_alerts(server, "SOURCEERROR")
            assert alert["kismet.alert.text"].startswith(
                f"source nopriv failed: not permitted to capture on {tun.name}: "
                "kisalert needs the CAP_NET_RAW capability"
            )
            assert server.get("/system/timestamp.json").status_code == 200


@needs_root
def test_server_stops_promptly_while_capturing(tmp_path: Path, tun: Tun) -> None:
    server = Server(tmp_path, extra_args=["--source", tun.name])
    try:
        wait_for_message(server, f"capturing on {tun.name}")
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 3.0
    finally:
        server.stop()
