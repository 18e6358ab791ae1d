"""`kisalert replay` as a user runs it: a subprocess over capture files."""

from __future__ import annotations

import gzip
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import kismetdb
import requests

from tests.records import ALERT_KEYS
from tests.server import BASE_CONFIG, PASSWORD, USER, Server
from tests.wids.frames import AP, T0, beacon, deauth, pcap_bytes, record_bytes, write_pcap


def kisalert(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "kisalert", "replay", *args],
        capture_output=True,
        timeout=60,
        cwd=cwd,
    )


def attack_capture(path: Path) -> Path:
    """A beacon, a deauth flood (11 in a second) and, 2 s later, a broadcast deauth."""
    frames = [beacon(), *[deauth() for _ in range(11)], deauth(dest="ff:ff:ff:ff:ff:ff")]
    times = [T0, *[T0 + 1 + i * 0.05 for i in range(11)], T0 + 4]
    return write_pcap(path, frames, times=times)


def test_json_prints_each_alert_as_itjson_and_nothing_else(tmp_path: Path) -> None:
    capture = attack_capture(tmp_path / "attack.pcap")
    done = kisalert("--json", str(capture))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["kismet.alert.header"] for r in records] == ["DEAUTHFLOOD", "BCASTDISCON"]
    first = records[0]
    assert list(first) == ALERT_KEYS
    # Stamped with the capture time of the frame that raised it.
    assert first["kismet.alert.timestamp"] == T0 + 1 + 10 * 0.05
    assert records[1]["kismet.alert.timestamp"] == T0 + 4
    assert first["kismet.alert.transmitter_mac"] == AP.upper()
    assert first["kismet.alert.channel"] == "6"
    # The summary goes to stderr, never into the JSON stream.
    assert b"frames in all" in done.stderr


def test_replay_is_deterministic(tmp_path: Path) -> None:
    capture = attack_capture(tmp_path / "attack.pcap")
    assert kisalert("--json", str(capture)).stdout == kisalert("--json", str(capture)).stdout


def test_without_json_alert_lines_for_people(tmp_path: Path) -> None:
    capture = attack_capture(tmp_path / "attack.pcap")
    done = kisalert(str(capture))
    assert done.returncode == 0
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 2
    assert "DEAUTHFLOOD ch 6 02:00:00:00:00:01: Deauth/Disassociate flood on" in lines[0]


def test_summary_table(tmp_path: Path) -> None:
    capture = attack_capture(tmp_path / "attack.pcap")
    other = tmp_path / "ether.pcap"
    other.write_bytes(pcap_bytes([b"\x00" * 60, b"\x00" * 60], linktype=1))
    done = kisalert(str(capture), str(other))
    summary = done.stderr.decode()
    assert "frames, IEEE802_11_RADIO (127)" in summary
    assert "frames, EN10MB (1)" in summary
    rows = dict(
        line.rsplit(None, 1) for line in summary.splitlines() if line and line[-1].isdigit()
    )
    assert rows["frames in all"] == "15"
    assert rows["skipped (no 802.11 in link type)"] == "2"
    assert rows["alerts, DEAUTHFLOOD"] == "1"
    assert rows["alerts, BCASTDISCON"] == "1"
    assert "frames per second" in summary


def test_gzip_capture_by_content_whatever_its_name(tmp_path: Path) -> None:
    plain = attack_capture(tmp_path / "attack.pcap")
    packed = tmp_path / "capture.bin"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    done = kisalert("--json", str(packed))
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 2


def test_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    done = kisalert(str(tmp_path / "nothing.pcap"))
    assert done.returncode == 2
    assert done.stdout == b""
    [line] = done.stderr.decode().splitlines()
    assert "nothing.pcap" in line


def test_not_a_capture_exits_2_with_one_line(tmp_path: Path) -> None:
    text = tmp_path / "notes.pcap"
    text.write_text("these are not the frames you are looking for\n")
    good = attack_capture(tmp_path / "attack.pcap")
    done = kisalert("--json", str(good), str(text))
    assert done.returncode == 2
    assert done.stdout == b""  # nothing is read when one name is bad
    [line] = done.stderr.decode().splitlines()
    assert "notes.pcap" in line and "not a pcap or pcapng" in line


def test_truncated_capture_keeps_what_came_before(tmp_path: Path) -> None:
    capture = attack_capture(tmp_path / "attack.pcap")
    data = capture.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-7])  # inside the last record
    done = kisalert("--json", str(cut))
    assert done.returncode == 1
    assert [json.loads(x)["kismet.alert.header"] for x in done.stdout.splitlines()] == [
        "DEAUTHFLOOD"
    ]
    damaged = [line for line in done.stderr.decode().splitlines() if "cut.pcap" in line]
    assert len(damaged) == 1
    last_record = len(data) - (len(pcap_bytes([deauth()])) - 24)  # its header's offset
    assert f"at byte {last_record}" in damaged[0]


def test_log_is_a_kismet_log(tmp_path: Path) -> None:
    capture = attack_capture(tmp_path / "attack.pcap")
    out = tmp_path / "out.kismet"
    done = kisalert("--log", str(out), "--json", str(capture))
    assert done.returncode == 0
    rows = kismetdb.Alerts(str(out)).get_all()
    assert [row["header"] for row in rows] == ["DEAUTHFLOOD", "BCASTDISCON"]
    logged = [json.loads(row["json"]) for row in rows]
    assert logged == [json.loads(line) for line in done.stdout.splitlines()]
    assert rows[0]["ts_sec"] == int(T0 + 1.5)


def test_a_running_servers_log_is_refused_and_a_stopped_ones_taken(tmp_path: Path) -> None:
    """A running server would give the replayed alerts' ids out again, and not show
    them: a replay into its log is refused, as `kisalert import` is."""
    capture = attack_capture(tmp_path / "attack.pcap")
    with Server(tmp_path, BASE_CONFIG) as server:
        log = server.data_dir / "kisalert.kismet"
        done = kisalert("--log", str(log), "--quiet", str(capture))
        assert done.returncode == 2
        assert done.stderr.decode() == (
            f"kisalert: data directory {server.data_dir} is in use by kisalert process "
            f"{server.proc.pid}; stop it first, or replay into another log\n"
        )
        assert "DEAUTHFLOOD" not in [row["header"] for row in kismetdb.Alerts(str(log)).get_all()]
        port = server.port
    done = kisalert("--log", str(log), "--quiet", str(capture))
    assert done.returncode == 0, done.stderr
    with Server(tmp_path, BASE_CONFIG, port=port) as server:
        shown = requests.get(
            server.url + "/alerts/all_alerts.json", auth=(USER, PASSWORD), timeout=10
        )
        headers = [a["kismet.alert.header"] for a in shown.json()]
        replayed = [h for h in headers if h in ("DEAUTHFLOOD", "BCASTDISCON")]
        assert replayed == ["DEAUTHFLOOD", "BCASTDISCON"]


def test_a_capture_from_a_pipe_or_a_fifo_is_read(tmp_path: Path) -> None:
    """`tcpdump -w - | kisalert replay /dev/stdin`: the kind of a stream that cannot
    seek is told from its first bytes all the same, plain or gzip."""
    capture = attack_capture(tmp_path / "attack.pcap")
    expected = kisalert("--json", "--quiet", str(capture)).stdout
    assert expected.count(b"\n") == 2
    for data in (capture.read_bytes(), gzip.compress(capture.read_bytes())):
        piped = subprocess.run(
            [sys.executable, "-m", "kisalert", "replay", "--json", "/dev/stdin"],
            input=data,
            capture_output=True,
            timeout=60,
        )
        assert piped.returncode == 0, piped.stderr
        assert piped.stdout == expected
        assert b"frames in all " in piped.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(
        [sys.executable, "-m", "kisalert", "replay", "--json", "--quiet", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    fifo.write_bytes(capture.read_bytes())
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert out == expected
    # Not a capture, through a pipe: the one line it would get as a file.
    piped = subprocess.run(
        [sys.executable, "-m", "kisalert", "replay", "/dev/stdin"],
        input=b"hello, world\n" * 10,
        capture_output=True,
        timeout=60,
    )
    assert piped.returncode == 2
    assert piped.stderr == b"kisalert: /dev/stdin: not a pcap or pcapng capture file\n"


def test_captures_given_out_of_time_order_raise_what_each_raises_alone(tmp_path: Path) -> None:
    """Tuesday's capture first, then Monday's: Tuesday's throttle windows must not
    refuse Monday's alerts (they did, for a day of packet time)."""
    broadcast = [deauth(dest="ff:ff:ff:ff:ff:ff")] * 20
    monday = write_pcap(tmp_path / "monday.pcap", broadcast, step=10)
    tuesday = write_pcap(
        tmp_path / "tuesday.pcap", broadcast, times=[T0 + 86_400 + 10 * i for i in range(20)]
    )
    alone = [
        len(kisalert("--json", "--quiet", str(day)).stdout.splitlines())
        for day in (monday, tuesday)
    ]
    assert alone == [17, 17]  # BCASTDISCON's 5/min
    done = kisalert("--json", str(tuesday), str(monday))
    assert len(done.stdout.splitlines()) == 34
    assert re.search(rb"^time went back, detectors restarted +1$", done.stderr, re.MULTILINE)
    forward = kisalert("--json", str(monday), str(tuesday))
    assert len(forward.stdout.splitlines()) == 34
    assert b"time went back" not in forward.stderr


def test_config_enables_an_alert_that_is_off(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "code.pcap", [deauth(reason=40 + 10)])
    assert kisalert("--json", str(capture)).stdout == b""
    conf = tmp_path / "kismet_alerts.conf"
    conf.write_text("alert=DEAUTHCODEINVALID,5/min,1/sec\n")
    done = kisalert("--config", str(conf), "--json", str(capture))
    assert [json.loads(x)["kismet.alert.header"] for x in done.stdout.splitlines()] == [
        "DEAUTHCODEINVALID"
    ]


def test_an_alert_line_for_no_built_in_alert_is_warned_about(tmp_path: Path) -> None:
    """A replay has no API to define alerts: a misspelt name's line does nothing."""
    capture = attack_capture(tmp_path / "attack.pcap")
    conf = tmp_path / "kismet_alerts.conf"
    conf.write_text("alert=DEAUTHFLOD,1/min,1/sec\n")
    done = kisalert("--config", str(conf), "--quiet", "--json", str(capture))
    assert done.returncode == 0
    assert done.stderr.decode() == (
        f"kisalert: warning: {conf}:1: alert=DEAUTHFLOD: no built-in alert of that name "
        "(did you mean DEAUTHFLOOD?); a replay raises only built-in alerts, so the line "
        "does nothing\n"
    )
    assert b"DEAUTHFLOOD" in done.stdout


def test_throttling_runs_on_packet_time(tmp_path: Path) -> None:
    # BCASTDISCON allows 2 a second and 5 a minute: 10 broadcast deauths 10 s apart
    # all pass, however fast the file is read; 10 within a second give 2.
    spread = write_pcap(tmp_path / "spread.pcap", [deauth(dest="ff:ff:ff:ff:ff:ff")] * 10, step=13)
    packed = write_pcap(
        tmp_path / "packed.pcap", [deauth(dest="ff:ff:ff:ff:ff:ff")] * 10, step=0.01
    )
    assert len(kisalert("--json", str(spread)).stdout.splitlines()) == 10
    assert len(kisalert("--json", str(packed)).stdout.splitlines()) == 2


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    capture = attack_capture(tmp_path / "attack.pcap")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kisalert", "replay", "--json", str(capture)],
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    out, _ = proc.communicate(timeout=60)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"\r[" in seen and b"frames" in seen and b"100.0%" in seen
    assert len(out.splitlines()) == 2  # stdout stays clean JSON


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    # One frame built by scapy, its bytes written 3 000 times (scapy takes ~5 ms a frame).
    frames = [record_bytes(deauth(dest="ff:ff:ff:ff:ff:ff"))] * 3000
    capture = write_pcap(tmp_path / "many.pcap", frames, step=10)
    log = tmp_path / "out.kismet"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kisalert", "replay", "--log", str(log), "--json", str(capture)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = json.loads(proc.stdout.readline())
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    proc.stderr.close()
    # Not 0: the capture was not read to its end. 141, as for `cat` stopped by SIGPIPE.
    assert proc.wait(timeout=60) == 141
    assert b"Traceback" not in err
    # What was raised until then is in the log, the line read first included.
    logged = [json.loads(row["json"]) for row in kismetdb.Alerts(str(log)).get_all()]
    assert 1 <= len(logged) < 3000 and logged[0] == first
