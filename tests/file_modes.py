"""Running a command that file modes bind, also when the tests run as root (as in CI).

Root reads and writes whatever the mode bits say, so a test of what kisalert does with
a read-only directory or an unreadable file would prove nothing as root. Rather than
skip it, such a test runs kisalert as root without the two capabilities that override
file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): the kernel then checks the owner's
bits like anyone else's, and the files the test made are root's own. Running it as
another user (nobody) would instead need the interpreter, the virtualenv and the test's
files to be reachable by that user, which they often are not (a pyenv Python under a
0700 /root, pytest's 0700 temporary directories).

`setpriv` is part of util-linux, an Essential package on Debian.
"""

from __future__ import annotations

import os
import shutil

DAC_CAPABILITIES = "dac_override,dac_read_search"


def obeying_file_modes() -> list[str]:
    """The prefix for a command line that file modes must bind: none when not root."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise AssertionError("as root this test needs setpriv (util-linux) to drop capabilities")
    # Dropped from the bounding set (what root gains at exec) and from the inheritable
    # set (which root's exec would add back, and which carries the ambient set).
    drop = ",".join(f"-{cap}" for cap in DAC_CAPABILITIES.split(","))
    return [setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}"]
