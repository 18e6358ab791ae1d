"""README.md runs as written: every `sh` and `python` block, in order, as a newcomer
would paste them, from a fresh home directory, against the server `make run` starts.

Blocks are taken literally. A comment line `<!-- readme: ... -->` before a block
says how it runs:

- `server`: it starts the server (`make run`); later blocks run while it listens.
- `background`: a client that runs until stopped (the eventbus example); it must
  print something, and it is started before the blocks after it run.
- `not run: REASON`: shown, not run (the test suite itself, servers beside the one
  running); the reason is required.

A directive on its own, `<!-- readme: stop -->`, is the user pressing Ctrl-C in the
terminal of the process started last that still runs.

Within an `sh` block, a `# text` line that directly follows a command is output the
command must print. `curl` fails on an HTTP error status (`--fail-with-body`), so a
409 or a 401 is a failing example, not a silent one.

The examples name 127.0.0.1:2501, the address `make run` listens on, so the test
needs that port free; the working directory is a scratch copy of the repository
(links to `.venv`, `src`, `examples`, the Makefile), so what the examples write
stays out of the checkout.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PORT = 2501
DIRECTIVE = re.compile(r"^<!-- readme: (.+?) -->$")
STEP_TIMEOUT = 180.0

# Each block is run by bash with the variables the blocks before it exported.
SH_PREAMBLE = """\
set -e -o pipefail
curl() { command curl -sS --fail-with-body "$@"; }
source "$READMETEST_ENV"
"""
SH_EPILOGUE = '\nexport -p > "$READMETEST_ENV"\n'


@dataclass
class Step:
    kind: str  # "sh", "python", "stop"
    code: str = ""
    mode: str = "run"  # "run", "server", "background", "skip"
    line: int = 0
    expected: list[str] = field(default_factory=list)


def _expected_output(code: str) -> list[str]:
    """`# text` lines right under a command line: what that command prints."""
    expected: list[str] = []
    previous = ""
    for raw in code.splitlines():
        line = raw.strip()
        if line.startswith("# ") and previous and not previous.startswith("#"):
            expected.append(line[2:])
            continue
        previous = line
    return expected


def steps(text: str) -> list[Step]:
    found: list[Step] = []
    lines = text.splitlines()
    pending: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        directive = DIRECTIVE.match(line.strip())
        if directive:
            word = directive.group(1)
            if word == "stop":
                found.append(Step("stop", line=index + 1))
            else:
                assert word in ("server", "background") or re.match(r"not run: \S", word), (
                    f"README.md:{index + 1}: unknown directive {word!r}"
                )
                pending = word
            index += 1
            continue
        if line.startswith("```"):
            language = line[3:].strip()
            start = index + 1
            index = start
            while not lines[index].startswith("```"):
                index += 1
            code = "\n".join(lines[start:index]) + "\n"
            if language in ("sh", "python"):
                mode = "run" if pending is None else pending
                if mode.startswith("not run"):
                    mode = "skip"
                expected = _expected_output(code) if language == "sh" else []
                found.append(Step(language, code, mode, start, expected))
            else:
                assert pending is None, f"README.md:{start}: a directive on a {language!r} block"
            pending = None
        index += 1
    return found


def _port_open() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", PORT)) == 0


@pytest.fixture()
def scratch(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    if _port_open():
        pytest.skip(f"port {PORT} is in use: the README's examples need it")
    work = tmp_path / "kisalert"
    work.mkdir()
    for name in (".venv", "src", "examples", "Makefile", "README.md"):
        (work / name).symlink_to(ROOT / name)
    # `make test` has brought the venv up to date with pyproject.toml; a copy no newer
    # than the venv keeps `make run` from setting it up again in here (run by pytest
    # alone after an edit of pyproject.toml, it would try to).
    project = work / "pyproject.toml"
    project.write_bytes((ROOT / "pyproject.toml").read_bytes())
    # In whole nanoseconds, and a second older: float seconds can round up past it.
    installed = (ROOT / ".venv" / "bin" / "kisalert").stat().st_mtime_ns - 1_000_000_000
    os.utime(project, ns=(installed, installed))
    home = tmp_path / "home"
    home.mkdir()
    envfile = tmp_path / "env.sh"
    envfile.write_text("")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "MAKE", "KISALERT", "PYTEST", "READMETEST"))
        and key not in ("MFLAGS", "PW", "KEY", "VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(HOME=str(home), READMETEST_ENV=str(envfile))
    yield work, env


def _script(step: Step, keep_env: bool = True) -> str:
    """The block as a bash script. A block that runs until it is stopped must not
    keep its environment: a server that exits 0 on Ctrl-C lets bash go on to the
    epilogue, which would put back the environment from before the blocks that ran
    meanwhile (the README's `export PW=` among them)."""
    if step.kind == "sh":
        return SH_PREAMBLE + step.code + (SH_EPILOGUE if keep_env else "\n")
    heredoc = "exec .venv/bin/python - <<'READMETEST_PY'\n" + step.code + "READMETEST_PY\n"
    return SH_PREAMBLE + heredoc


def _where(step: Step) -> str:
    return f"README.md:{step.line}"


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_line(path: Path, process: subprocess.Popen[str], step: Step) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while not path.read_text().strip():
        assert process.poll() is None, f"{_where(step)} ended at once:\n{path.read_text()}"
        assert time.monotonic() < deadline, f"{_where(step)} printed nothing"
        time.sleep(0.05)
    # It has sent its subscription; give the server a moment to take it before the
    # next block raises the alert it should see.
    time.sleep(0.5)


def test_readme_runs_as_written(scratch: tuple[Path, dict[str, str]]) -> None:
    work, env = scratch
    running: list[tuple[Step, subprocess.Popen[str], Path]] = []
    transcript: list[str] = []
    servers: list[Path] = []
    background: list[Path] = []
    try:
        for number, step in enumerate(steps(README.read_text())):
            if step.kind == "stop":
                live = [entry for entry in running if entry[1].poll() is None]
                assert live, f"README.md:{step.line}: nothing runs to stop"
                _stop(live[-1][1])
                continue
            if step.mode == "skip":
                continue
            if step.mode in ("server", "background"):
                out = work.parent / f"step{number}.out"
                with out.open("w") as sink:
                    process = subprocess.Popen(
                        ["bash", "-c", _script(step, keep_env=False)],
                        cwd=work,
                        env=env,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                        text=True,
                        start_new_session=True,
                    )
                running.append((step, process, out))
                if step.mode == "server":
                    servers.append(out)
                    deadline = time.monotonic() + STEP_TIMEOUT
                    # Its own banner, not only an open port: another process on the
                    # port (a stray server) would answer the next blocks with its
                    # own login.
                    while not (_port_open() and "listening on" in out.read_text()):
                        assert process.poll() is None, (
                            f"{_where(step)}: the server stopped:\n{out.read_text()}"
                        )
                        assert time.monotonic() < deadline, f"{_where(step)}: never listened"
                        time.sleep(0.1)
                else:
                    background.append(out)
                    _wait_for_line(out, process, step)
                continue
            result = subprocess.run(
                ["bash", "-c", _script(step)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=STEP_TIMEOUT,
            )
            assert result.returncode == 0, (
                f"{_where(step)} failed ({result.returncode}):\n{step.code}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
            for line in step.expected:
                assert line in result.stdout, (
                    f"{_where(step)}: expected {line!r} in the output:\n{result.stdout}"
                )
            transcript.append(result.stdout)
    finally:
        for _, process, _ in reversed(running):
            _stop(process)
    output = "\n".join(transcript)
    first_start = servers[0].read_text()
    assert "created the admin login: user 'admin'" in first_start
    for log in servers:
        assert "Traceback" not in log.read_text(), log.read_text()
    # What the examples say they show.
    assert "SCRIPTED hello from kismet-rest" in output
    assert "ROGUEAP corp from 00:11:22:33:44:55" in output  # kismetdb reads the log
    assert "'kismet.alert.text': 'seen live'" in background[0].read_text()
    assert '"kismet.alert.header":"DEAUTHFLOOD"' in (work / "alerts.ndjson").read_text()
    assert (work / "last-hour.kismet").stat().st_size > 0
