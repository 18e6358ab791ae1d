"""`kisalert definitions`: the catalogue with rates and state, read beside a running
server without disturbing it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from kisalert.catalog import BUILTIN_ALERTS
from tests.server import BASE_CONFIG, Server, wait_for

CONFIG = BASE_CONFIG + "alert=NETSTUMBLER,3/min,1/sec\nalert=ROGUEAP,2/min,1/sec\n"


def kisalert(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kisalert", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def row(table: str, name: str) -> str:
    """The table's row for `name`, its columns joined by one space."""
    [found] = [" ".join(line.split()) for line in table.splitlines() if line.split()[:1] == [name]]
    return found


def test_definitions_while_a_server_runs(tmp_path: Path) -> None:
    with Server(tmp_path, CONFIG) as server:
        conf = tmp_path / "kisalert.conf"
        assert server.define("rogueap", severity=15, **{"class": "spoof"}).status_code == 200
        assert server.define("OTHERAPI", throttle="0/min", burst="0/sec").status_code == 200

        def listed() -> subprocess.CompletedProcess[str] | None:
            done = kisalert("definitions", "--config", conf, "--data-dir", server.data_dir)
            return done if "OTHERAPI" in done.stdout else None

        # The server commits the definitions to its log within its commit window.
        done = wait_for(listed, what="the API definitions in the log")
        assert done.returncode == 0, done.stderr
        table = done.stdout
        assert row(table, "NAME") == "NAME CLASS SEVERITY THROTTLE BURST STATE ORIGIN"
        assert row(table, "ROGUEAP") == "ROGUEAP SPOOF HIGH 2/min 1/sec enabled api"
        assert row(table, "OTHERAPI") == "OTHERAPI OTHER MEDIUM 0/min 0/sec disabled api"
        assert row(table, "NETSTUMBLER") == "NETSTUMBLER PROBE LOW 3/min 1/sec enabled builtin"
        assert row(table, "LUCENTTEST") == "LUCENTTEST PROBE LOW 0/min 0/sec disabled builtin"
        names = [line.split()[0] for line in table.splitlines()[1:]]
        assert names == [b.name for b in BUILTIN_ALERTS] + ["ROGUEAP", "OTHERAPI"]

        # --json gives what the server's route gives, object for object.
        as_json = kisalert("definitions", "--json", "--config", conf, "--data-dir", server.data_dir)
        assert as_json.returncode == 0, as_json.stderr
        route = server.get("/alerts/definitions/state.itjson")
        assert json_lines(as_json.stdout) == json_lines(route.text)
        # The server was not disturbed: it still raises and answers.
        assert server.raise_alert("ROGUEAP", "still here").status_code == 200
    # And after it stopped, from the log alone.
    after = kisalert(
        "definitions", "--config", tmp_path / "kisalert.conf", "--data-dir", server.data_dir
    )
    assert after.returncode == 0, after.stderr
    assert after.stdout == table


def test_definitions_without_a_data_directory(tmp_path: Path) -> None:
    missing = tmp_path / "never-made"
    done = kisalert("definitions", "--json", "--data-dir", missing)
    assert done.returncode == 0, done.stderr
    found = json_lines(done.stdout)
    assert [s["kisalert.definition.header"] for s in found] == [b.name for b in BUILTIN_ALERTS]
    assert all(s["kisalert.definition.origin"] == "builtin" for s in found)
    netstumbler = next(s for s in found if s["kisalert.definition.header"] == "NETSTUMBLER")
    assert netstumbler["kisalert.definition.enabled"] is False
    assert not missing.exists()


def test_a_config_rate_for_an_undefined_name_is_noted(tmp_path: Path) -> None:
    conf = tmp_path / "k.conf"
    conf.write_text("alert=ROGUEAP,2/min,1/sec\n")
    done = kisalert("definitions", "--config", conf, "--data-dir", tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert "ROGUEAP" not in done.stdout
    # The server's warning at start, in one line.
    assert done.stderr.startswith("kisalert: warning: ") and done.stderr.count("\n") == 1
    assert f"{conf}:1: alert=ROGUEAP" in done.stderr
    assert "defined over the API" in done.stderr


def test_a_bad_config_is_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "k.conf"
    conf.write_text("alert=ROGUEAP,2/parsec,1/sec\n")
    done = kisalert("definitions", "--config", conf, "--data-dir", tmp_path / "data")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("kisalert: ") and done.stderr.count("\n") == 1
