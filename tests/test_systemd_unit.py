"""docs/kisalert.service: systemd accepts it, it sandboxes what it says it does, and
kisalert works inside the parts of that sandbox a process can set up for itself (the
unit's system-call filter, socket families and write-or-execute memory)."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import errno
import re
import socket
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.http.helpers import raise_ok
from tests.server import Server
from tests.test_eventbus import alert_subscriber, define_pair, plain_alert, raise_async

UNIT = Path(__file__).parents[1] / "docs" / "kisalert.service"
INSTALLED = "/opt/kisalert/bin/kisalert"  # where the unit says kisalert is installed


def settings() -> dict[str, list[str]]:
    """The unit's settings, each with its values in order."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def resolvable(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this venv's kisalert: `verify` checks that
    the program exists."""
    kisalert = Path(sys.executable).with_name("kisalert")
    assert kisalert.is_file(), "kisalert is installed in the venv"
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED} serve " in text
    unit = tmp_path / "kisalert.service"
    unit.write_text(text.replace(INSTALLED, str(kisalert)))
    return unit


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    # The `systemd` package on Debian; `make test` installs it.
    return subprocess.run(
        ["systemd-analyze", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    result = analyze("verify", str(resolvable(tmp_path)))
    # verify exits 0 even for unknown keys and bad values: it only says so.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def drop_ins() -> list[str]:
    """The drop-ins the unit's comments offer (`systemctl edit kisalert`)."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in UNIT.read_text().splitlines():
        text = line.removeprefix("#   ")
        if line == "#   [Service]":
            current = []
            found.append(current)
        elif current is not None and line.startswith("#   "):
            current.append(text)
        else:
            current = None
    return ["\n".join(lines) for lines in found]


def test_systemd_accepts_the_drop_ins_the_comments_offer(tmp_path: Path) -> None:
    offered = drop_ins()
    assert len(offered) == 2 and "AmbientCapabilities=CAP_NET_RAW" in offered[1]
    for number, drop_in in enumerate(offered):
        unit = resolvable(tmp_path)
        kisalert = str(Path(sys.executable).with_name("kisalert"))
        unit.write_text(unit.read_text() + "\n[Service]\n" + drop_in.replace(INSTALLED, kisalert))
        result = analyze("verify", str(unit))
        assert (result.returncode, result.stdout + result.stderr) == (0, ""), number


def test_the_capabilities_named_exist() -> None:
    # verify passes over an unknown capability in silence.
    known = {line.split()[0].upper() for line in analyze("capability").stdout.splitlines()[1:]}
    named = re.findall(r"(?:Capabilities|CapabilityBoundingSet)=(.*)", "\n".join(drop_ins()))
    assert named and {cap for caps in named for cap in caps.split()} <= known


def test_verify_would_tell_a_misspelt_setting(tmp_path: Path) -> None:
    unit = resolvable(tmp_path)
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    result = analyze("verify", str(unit))
    assert "Unknown key 'ProtectSytem'" in result.stdout + result.stderr


def test_the_sandbox_settings() -> None:
    unit = settings()
    assert "--data-dir %S/kisalert" in unit["ExecStart"][0]
    for key, values in {
        "DynamicUser": ["yes"],
        "StateDirectory": ["kisalert"],
        "StateDirectoryMode": ["0700"],
        "UMask": ["0077"],
        "ProtectSystem": ["strict"],
        "ProtectHome": ["yes"],
        "PrivateTmp": ["yes"],
        "PrivateDevices": ["yes"],
        "NoNewPrivileges": ["yes"],
        "CapabilityBoundingSet": [""],
        "AmbientCapabilities": [""],
        "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6"],
        "SystemCallFilter": ["@system-service", "~@privileged @resources"],
        "SystemCallErrorNumber": ["EPERM"],
        "MemoryDenyWriteExecute": ["yes"],
        "Restart": ["on-failure"],
    }.items():
        assert unit.get(key) == values, key


def test_systemd_rates_the_unit_well_sandboxed(tmp_path: Path) -> None:
    result = analyze("security", "--offline=yes", str(resolvable(tmp_path)))
    found = re.search(r"Overall exposure level for kisalert\.service: ([0-9.]+)", result.stdout)
    assert found, result.stdout + result.stderr
    # 0 is the best, 10 the worst; systemd calls up to 2 "OK". This unit: 1.1.
    assert float(found.group(1)) <= 2.0


# kisalert inside the sandbox


@cache
def syscalls(group: str) -> frozenset[str]:
    """The system calls of a systemd group, its subgroups expanded."""
    result = analyze("syscall-filter", group)
    assert result.returncode == 0, result.stderr
    names: set[str] = set()
    for line in result.stdout.splitlines()[1:]:
        name = line.strip()
        if name.startswith("@"):
            names |= syscalls(name)
        elif name and not name.startswith("#"):
            names.add(name)
    return frozenset(names)


def allowed_syscalls() -> set[str]:
    allowed: set[str] = set()
    for value in settings()["SystemCallFilter"]:
        groups = value.removeprefix("~").split()
        named = set().union(*(syscalls(group) for group in groups))
        allowed = allowed - named if value.startswith("~") else allowed | named
    return allowed


PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1

# Started in place of the server's python: applies the unit's limits, then runs it.
LAUNCHER = textwrap.dedent(
    """
    import ctypes, errno, os, sys

    class Cmp(ctypes.Structure):
        _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                    ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]

    ALLOW, EQUAL = 0x7FFF0000, 4

    def refuse(code):
        return 0x00050000 | code

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE: no memory both W and X
        sys.exit("PR_SET_MDWE failed")
    seccomp = ctypes.CDLL(sys.argv[1])
    seccomp.seccomp_init.restype = ctypes.c_void_p
    seccomp.seccomp_init.argtypes = [ctypes.c_uint32]
    seccomp.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(Cmp)]
    seccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    seccomp.seccomp_load.argtypes = [ctypes.c_void_p]
    context = seccomp.seccomp_init(refuse(errno.EPERM))  # SystemCallErrorNumber=EPERM
    families = [int(family) for family in sys.argv[3].split(",")]
    for name in open(sys.argv[2]).read().split():
        number = seccomp.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            continue  # not on this architecture
        if name != "socket":
            seccomp.seccomp_rule_add_array(context, ALLOW, number, 0, None)
            continue
        for family in range(64):  # RestrictAddressFamilies=, as systemd answers
            action = ALLOW if family in families else refuse(errno.EAFNOSUPPORT)
            rule = (Cmp * 1)(Cmp(0, EQUAL, family, 0))
            seccomp.seccomp_rule_add_array(context, action, number, 1, rule)
    if seccomp.seccomp_load(context) != 0:
        sys.exit("seccomp_load failed")
    os.execv(sys.argv[4], sys.argv[4:])
    """
)


def sandbox_available() -> str | None:
    """Why the sandbox cannot be built here, or None."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_GET_MDWE, 0, 0, 0, 0) < 0 and ctypes.get_errno() == errno.EINVAL:
        return "the kernel has no PR_SET_MDWE (Linux 6.3 and later)"
    if ctypes.util.find_library("seccomp") is None:
        return "no libseccomp"
    return None


def test_kisalert_works_inside_the_units_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = sandbox_available()
    if missing:
        pytest.skip(missing)
    unit = settings()
    assert unit["MemoryDenyWriteExecute"] == ["yes"]
    launcher = tmp_path / "launcher.py"
    launcher.write_text(LAUNCHER)
    allowed = tmp_path / "syscalls"
    allowed.write_text("\n".join(sorted(allowed_syscalls())))
    families = ",".join(
        str(int(socket.AddressFamily[name])) for name in unit["RestrictAddressFamilies"][0].split()
    )
    library = ctypes.util.find_library("seccomp")
    assert library is not None
    real = subprocess.Popen

    def popen(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        wrapped = [sys.executable, str(launcher), library, str(allowed), families, *args]
        return real(wrapped, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(subprocess, "Popen", popen)
        server = Server(tmp_path)
    with server:
        status = Path(f"/proc/{server.proc.pid}/status").read_text()
        assert re.search(r"^Seccomp:\s+2$", status, re.M), "filtered"
        sync = define_pair(server, "SANDBOXED")

        async def live() -> None:
            async with alert_subscriber(server, sync) as client:
                await raise_async(server, "SANDBOXED", "inside")
                await client.until(lambda frame: plain_alert("SANDBOXED")(frame, "inside"))

        asyncio.run(live())
        raise_ok(server, "SANDBOXED", "read back")
        found = server.command(
            "/alerts/all_alerts.json", {"regex": [["kismet.alert.text", "^read (?i:BACK)$"]]}
        )
        assert [a["kismet.alert.text"] for a in found.json()] == ["read back"]
        assert "process_resident_memory_bytes" in server.get("/metrics").text
        assert server.get("/healthz").text == "ok\n"
    assert "Traceback" not in server.stderr()
