"""Forwarding alerts to other systems (docs/forwarding.md).

`OUTPUTS` is the one table from a `forward=` line's `type=` to the output it builds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kisalert.forward import syslog
from kisalert.forward.base import Output, OutputSpec


@dataclass(frozen=True, slots=True)
class Kind:
    options: frozenset[str]  # the kind's own options, besides the runner's
    required: frozenset[str]
    # Builds without connecting: a bad option raises SpecError at config time.
    build: Callable[[OutputSpec], Output]


OUTPUTS: dict[str, Kind] = {
    "syslog": Kind(syslog.OPTIONS, syslog.REQUIRED, syslog.SyslogOutput.from_spec),
}
