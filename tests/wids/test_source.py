"""Capture sources in the server: definitions, files read in, failures, pacing, stopping.

The end-to-end tests run a real `kisalert serve --source ...` and read its alerts over
HTTP and the eventbus; live interfaces are tested in tests/wids/capture/test_live.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kisalert.bus import Bus
from kisalert.clock import SystemClock
from kisalert.config import ConfigError, SourceSpec, command_line_sources, parse_source
from kisalert.errors import Unavailable
from kisalert.messages import ERROR, MessageBus
from kisalert.store import MemoryStore
from kisalert.throttle import PacketThrottles
from kisalert.tracker import AlertTracker, RaiseRequest
from kisalert.wids.source import Sources
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server, wait_for
from tests.wids.frames import (
    AP,
    AP2,
    BROADCAST,
    STA,
    T0,
    beacon,
    deauth,
    make_config,
    pcap_bytes,
    radiotap,
    write_pcap,
)
from tests.wids.source_server import (
    detected,
    headers,
    messages,
    subscribed,
    wait_for_alerts,
    wait_for_message,
)

MESSAGE = "kismet.messagebus.message_string"
# Lets every SOURCEERROR of a test through (the shipped rate allows one a second).
ALL_SOURCEERRORS = "alert=SOURCEERROR,100/sec,100/sec\n"


def flood_capture(path: Path, start: float = 0.0) -> Path:
    """A deauth flood on AP and a broadcast deauth from AP2, `start` seconds in.

    A beacon at the capture's first moment gives a paced read its starting time.
    """
    frames: list[Any] = [beacon()]
    times = [T0]
    for index in range(11):
        frames.append(deauth())
        times.append(T0 + start + index * 0.05)
    frames.append(deauth(bssid=AP2, dest=BROADCAST))
    times.append(T0 + start + 0.6)
    return write_pcap(path, frames, times=times)


def busy_capture(path: Path) -> Path:
    """18 s of floods, broadcast deauths and reserved reason codes from two APs: more
    alerts than the rates let through, so what is raised depends on packet time."""
    frames: list[bytes] = []
    built: dict[tuple[str, str, int, bool], bytes] = {}  # scapy builds each kind once
    for index in range(600):
        kind = (
            AP if index % 3 else AP2,
            BROADCAST if index % 50 == 0 else STA,
            27 if index % 40 == 5 else 7,
            bool(index % 2),
        )
        if kind not in built:
            bssid, dest, reason, disassoc = kind
            built[kind] = bytes(radiotap(deauth(bssid, dest, reason, disassoc)))
        frames.append(built[kind])
    return write_pcap(path, frames, step=0.03)


def source_errors(server: Server) -> list[str]:
    """The texts of the server's SOURCEERROR alerts, sorted."""
    return sorted(
        a["kismet.alert.text"] for a in server.alerts() if a["kismet.alert.header"] == "SOURCEERROR"
    )


# Definitions


def test_source_definition_value_name_and_realtime() -> None:
    assert parse_source("wlan0mon", "x") == (SourceSpec("wlan0mon", "wlan0mon"), [])
    assert parse_source("wlan0mon:name=outside", "x") == (
        SourceSpec("wlan0mon", "outside"),
        [],
    )
    assert parse_source("/data/cap.pcapng:name=old,realtime=true", "x") == (
        SourceSpec("/data/cap.pcapng", "old", realtime=True),
        [],
    )
    assert parse_source("cap.pcap:realtime=FALSE", "x")[0].realtime is False


def test_unknown_source_options_warn_once_each() -> None:
    spec, warnings = parse_source('wlan0:type=linuxwifi,channels="1,6,11",hop,name=a', "f:3")
    assert spec == SourceSpec("wlan0", "a")
    assert warnings == [
        "f:3: unknown source option 'type' ignored",
        "f:3: unknown source option 'channels' ignored",
        "f:3: unknown source option 'hop' ignored",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "a source needs a capture file or an interface"),
        (":name=x", "a source needs a capture file or an interface"),
        ("wlan0:realtime=maybe", "realtime needs true or false"),
        ("wlan0:realtime", "realtime needs true or false"),
        ("wlan0:name=", "name needs a value"),
        ('wlan0:name="open', "unterminated quote"),
    ],
)
def test_bad_source_definitions_stop_the_start(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error) as caught:
        parse_source(text, "f:7")
    assert str(caught.value).startswith("f:7: ")


def test_config_source_lines_repeat_and_warn_with_file_and_line() -> None:
    config = make_config("source=wlan0mon\nsource=/data/cap.pcapng:name=old,realtime=true,x=1\n")
    assert config.sources == [
        SourceSpec("wlan0mon", "wlan0mon"),
        SourceSpec("/data/cap.pcapng", "old", realtime=True),
    ]
    assert config.warnings == ["(test):2: unknown source option 'x' ignored"]


def test_command_line_sources_replace_the_config_files() -> None:
    config = command_line_sources(make_config("source=wlan0mon\n"), ["a.pcap:colour=red", "b"])
    assert config.sources == [SourceSpec("a.pcap", "a.pcap"), SourceSpec("b", "b")]
    assert config.warnings == ["--source a.pcap:colour=red: unknown source option 'colour' ignored"]


# Files read into a running server


def test_file_alerts_reach_every_route_and_an_earlier_eventbus_subscriber(
    tmp_path: Path,
) -> None:
    # The attack comes 4 s into the capture, read at its recorded pace: time enough
    # for the subscriber to be in place before it is read.
    capture = flood_capture(tmp_path / "flood.pcap", start=4.0)
    with Server(tmp_path, extra_args=["--source", f"{capture}:name=old,realtime=true"]) as server:

        async def watch() -> list[str]:
            async with subscribed(server, "SOURCE_SYNC") as subscriber:
                await subscriber.until(
                    lambda alerts: {"DEAUTHFLOOD", "BCASTDISCON"} <= set(headers(alerts))
                )
                return headers(subscriber.alerts)

        seen = asyncio.run(watch())
        assert seen.count("DEAUTHFLOOD") == 1
        assert seen.count("BCASTDISCON") == 1
        assert wait_for_message(server, "source old: read 13 frames from") == (
            f"source old: read 13 frames from {capture}"
        )
        records = {a["kismet.alert.header"]: a for a in server.alerts()}
        flood = records["DEAUTHFLOOD"]
        assert flood["kismet.alert.transmitter_mac"] == AP.upper()
        assert flood["kismet.alert.dest_mac"] == STA.upper()
        assert flood["kismet.alert.channel"] == "6"
        bcast = records["BCASTDISCON"]
        assert bcast["kismet.alert.transmitter_mac"] == AP2.upper()
        assert bcast["kismet.alert.dest_mac"] == BROADCAST.upper()
        # The server's clock stamps them, not the capture's.
        assert abs(flood["kismet.alert.timestamp"] - time.time()) < 60
        recent = server.get("/alerts/last-time/-60/alerts.json").json()
        assert {"DEAUTHFLOOD", "BCASTDISCON"} <= set(headers(recent))
        by_id = server.get(f"/alerts/by-id/{flood['kismet.alert.hash']}/alert.json").json()
        assert by_id["kismet.alert.text"] == flood["kismet.alert.text"]
        view = server.get("/alerts/alerts_view.json").json()
        assert "DEAUTHFLOOD" in json.dumps(view)
        assert server.stop() == 0


def test_source_line_in_a_config_file(tmp_path: Path) -> None:
    capture = flood_capture(tmp_path / "flood.pcap")
    config = BASE_CONFIG + f"source={capture}:name=fromconf,colour=blue\n"
    with Server(tmp_path, config) as server:
        assert wait_for_message(server, "source fromconf: read 13 frames")
        assert {"DEAUTHFLOOD", "BCASTDISCON"} <= set(headers(server.alerts()))
        assert "unknown source option 'colour' ignored" in server.stderr()
        assert any("unknown source option 'colour'" in m for m in messages(server))


def test_command_line_source_replaces_the_config_files(tmp_path: Path) -> None:
    capture = flood_capture(tmp_path / "flood.pcap")
    config = BASE_CONFIG + f"source={tmp_path / 'missing.pcap'}\n"
    with Server(tmp_path, config, extra_args=["--source", str(capture)]) as server:
        wait_for_message(server, f"source {capture}: read 13 frames")
        assert "BCASTDISCON" in headers(server.alerts())
        assert "SOURCEERROR" not in headers(server.alerts())


def test_missing_file_raises_sourceerror_and_the_server_keeps_serving(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pcap"
    with Server(tmp_path, extra_args=["--source", f"{missing}:name=gone"]) as server:
        [alert] = wait_for_alerts(server, "SOURCEERROR")
        text = f"source gone failed: {missing}: no such file or interface"
        assert alert["kismet.alert.text"] == text
        assert alert["kismet.alert.class"] == "SYSTEM"
        posted = server.get("/messagebus/all_messages.json").json()
        flags = [m["kismet.messagebus.message_flags"] for m in posted if m[MESSAGE] == text]
        assert flags == [ERROR]
        assert server.stderr().count(text) == 1
        assert server.get("/system/timestamp.json").status_code == 200
        define_fast(server, "AFTER_SOURCEERROR")
        raise_ok(server, "AFTER_SOURCEERROR")
        assert "AFTER_SOURCEERROR" in headers(server.alerts())
        assert server.stop() == 0


def test_file_names_that_are_not_utf8_are_shown_escaped_and_logged(tmp_path: Path) -> None:
    """A lone surrogate (how Python reads such a name) in a message or an alert
    stopped the log writer: a clean stop then kept no alert at all, and the
    messagebus and sources routes answered 500."""
    capture = flood_capture(tmp_path / os.fsdecode(b"cap\xff.pcap"))
    missing = tmp_path / os.fsdecode(b"gone\xfe.pcap")
    sources = ["--source", str(capture), "--source", f"{missing}:name=gone"]
    with Server(tmp_path, BASE_CONFIG + ALL_SOURCEERRORS, extra_args=sources) as server:
        shown = f"{tmp_path}/cap\\xff.pcap"
        wait_for_message(server, f"source {shown}: read 13 frames from {shown}")
        [failed] = wait_for_alerts(server, "SOURCEERROR")
        assert failed["kismet.alert.text"] == (
            f"source gone failed: {tmp_path}/gone\\xfe.pcap: no such file or interface"
        )
        listed = server.get("/sources/all_sources.json")
        assert listed.status_code == 200
        assert shown in [s["kisalert.source.definition"] for s in listed.json()]
        assert server.get("/healthz").text == "ok\n"
        assert server.stop() == 0
    rows = sqlite3.connect(tmp_path / "data" / "kisalert.kismet").execute(
        "SELECT header FROM alerts"
    )
    assert {"DEAUTHFLOOD", "BCASTDISCON", "SOURCEERROR"} <= {header for (header,) in rows}


def test_unreadable_captures_each_raise_sourceerror(tmp_path: Path) -> None:
    not_capture = tmp_path / "notes.txt"
    not_capture.write_text("not a capture\n")
    whole = pcap_bytes([deauth(dest=BROADCAST), deauth(bssid=AP2), deauth(bssid=AP2)], step=1.5)
    damaged = tmp_path / "damaged.pcap"
    damaged.write_bytes(whole[:-10])  # the last record is cut short
    sources = ["--source", f"{not_capture}:name=text", "--source", f"{damaged}:name=cut"]
    with Server(tmp_path, BASE_CONFIG + ALL_SOURCEERRORS, extra_args=sources) as server:
        errors = wait_for(
            lambda: errors if len(errors := source_errors(server)) == 2 else None,
            what="two SOURCEERROR alerts",
        )
        assert errors[0].startswith(f"source cut failed: {damaged}: truncated record at byte ")
        assert errors[0].endswith("; read 2 frames before it")
        assert errors[1] == f"source text failed: {not_capture}: not a pcap or pcapng capture file"
        # What came before the damage was read and raised.
        assert "BCASTDISCON" in headers(server.alerts())
        assert server.get("/system/timestamp.json").status_code == 200


def test_realtime_takes_about_the_capture_duration(tmp_path: Path) -> None:
    frames = [deauth(dest=BROADCAST), deauth(bssid=AP2, dest=BROADCAST)]
    capture = write_pcap(tmp_path / "two.pcap", frames, times=[T0, T0 + 2.0])
    started = time.monotonic()
    with Server(tmp_path, extra_args=["--source", f"{capture}:name=slow,realtime=true"]) as server:
        wait_for_message(server, "source slow: read 2 frames")
        assert time.monotonic() - started >= 1.5
        stamps = [a["kismet.alert.timestamp"] for a in wait_for_alerts(server, "BCASTDISCON")]
        assert len(stamps) == 2
        assert stamps[1] - stamps[0] >= 1.5


def test_fast_read_raises_what_replay_raises(tmp_path: Path) -> None:
    capture = busy_capture(tmp_path / "busy.pcap")
    replayed = subprocess.run(
        [sys.executable, "-m", "kisalert", "replay", "--json", str(capture)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    expected = detected([json.loads(line) for line in replayed.stdout.splitlines()])
    assert len(expected) >= 10
    assert {"DEAUTHFLOOD", "BCASTDISCON", "DISCONCODEINVALID"} <= {e[0] for e in expected}
    config = BASE_CONFIG + "alertbacklog=10000\n"
    started = time.monotonic()
    with Server(tmp_path, config, extra_args=["--source", f"{capture}:name=busy"]) as server:
        wait_for_message(server, "source busy: read 600 frames")
        # 18 s of capture read in much less: the rates ran on packet time.
        assert time.monotonic() - started < 15
        assert detected(server.alerts()) == expected


def test_each_source_throttles_on_its_own(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "one.pcap", [deauth(dest=BROADCAST)])
    sources = ["--source", f"{capture}:name=a", "--source", f"{capture}:name=b"]
    with Server(tmp_path, extra_args=sources) as server:
        wait_for_message(server, "source a: read 1 frames")
        wait_for_message(server, "source b: read 1 frames")
        # The same frame, at the same packet time, seen by two sensors.
        assert headers(server.alerts()).count("BCASTDISCON") == 2


def test_server_stops_promptly_while_a_source_is_paced(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "long.pcap", [beacon(), beacon()], times=[T0, T0 + 600])
    server = Server(tmp_path, extra_args=["--source", f"{capture}:name=long,realtime=true"])
    try:
        wait_for_message(server, "source long: reading")
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 3.0
        assert "kisalert stopped" in server.stderr()
    finally:
        server.stop()


# The source machinery in-process


def run_sources(
    tracker: AlertTracker, messagebus: MessageBus, specs: list[SourceSpec], until: str
) -> None:
    """Start the sources, wait for a message containing `until`, stop them."""
    config = make_config()
    config.sources = specs

    async def main() -> None:
        await tracker.register_builtins()
        sources = Sources(config, tracker, messagebus)
        await sources.start()
        deadline = time.monotonic() + 20
        while not any(until in m.text for m in messagebus.all()):
            assert time.monotonic() < deadline, [m.text for m in messagebus.all()]
            await asyncio.sleep(0.01)
        await sources.stop()

    asyncio.run(main())


def make_tracker() -> tuple[AlertTracker, MessageBus]:
    clock = SystemClock()
    bus = Bus()
    messagebus = MessageBus(bus, clock)
    tracker = AlertTracker(MemoryStore(clock, 1000), bus, messagebus, clock, make_config().rates)
    return tracker, messagebus


def test_a_full_alert_log_delays_alerts_and_loses_none(tmp_path: Path) -> None:
    frames = [deauth(bssid=b, dest=BROADCAST) for b in (AP, AP2, AP, AP2)]
    capture = write_pcap(tmp_path / "four.pcap", frames, step=1.5)
    tracker, messagebus = make_tracker()
    real = tracker.raise_detected
    refused = 0

    async def full_at_first(request: RaiseRequest, at_us: int, book: PacketThrottles) -> Any:
        nonlocal refused
        if refused < 5:
            refused += 1
            raise Unavailable("Alert not raised: the alert log writer is behind")
        return await real(request, at_us, book)

    tracker.raise_detected = full_at_first  # type: ignore[method-assign]
    run_sources(tracker, messagebus, [SourceSpec(str(capture), "full")], "read 4 frames")
    raised = [m.text for m in messagebus.all() if m.text.startswith("BCASTDISCON ")]
    assert refused == 5
    assert len(raised) == 4


def test_failure_prints_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker, messagebus = make_tracker()
    spec = SourceSpec(str(tmp_path / "nothing"), "none")
    run_sources(tracker, messagebus, [spec], "source none failed")
    err = capsys.readouterr().err
    assert (
        err == f"kisalert: source none failed: {tmp_path / 'nothing'}: no such file or interface\n"
    )


def test_stop_ends_a_paced_source_within_a_second(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "long.pcap", [beacon(), beacon()], times=[T0, T0 + 600])
    tracker, messagebus = make_tracker()
    config = make_config()
    config.sources = [SourceSpec(str(capture), "long", realtime=True)]

    async def main() -> float:
        await tracker.register_builtins()
        sources = Sources(config, tracker, messagebus)
        await sources.start()
        [source] = sources.running
        while not any("reading" in m.text for m in messagebus.all()):
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await sources.stop()
        assert source.join(0)
        return time.monotonic() - started

    assert asyncio.run(main()) < 1.0


def test_a_path_that_is_neither_capture_nor_interface_fails(tmp_path: Path) -> None:
    tracker, messagebus = make_tracker()
    run_sources(tracker, messagebus, [SourceSpec(str(tmp_path), "dir")], "source dir failed")
    assert f"source dir failed: {tmp_path}: not a capture file or a network interface" in [
        m.text for m in messagebus.all()
    ]
