"""How the client prints an alert: one line, coloured by severity on a terminal, or
the record as one JSON line."""

from __future__ import annotations

import json
import time
from typing import Any

from kisalert.severity import SEVERITY_NAMES

# ANSI colours by severity: the higher, the louder.
_COLOURS = {20: "\033[1;31m", 15: "\033[31m", 10: "\033[33m", 5: "\033[36m", 0: ""}
_RESET = "\033[0m"


def alert_line(record: dict[str, Any], colour: bool) -> str:
    """`2026-12-07 11:20:11  HIGH      DEAUTHFLOOD  AA:BB:CC:DD:EE:FF  text`."""
    stamp = record.get("kismet.alert.timestamp", 0)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(stamp)))
    severity = record.get("kismet.alert.severity", 0)
    name = SEVERITY_NAMES.get(severity, str(severity))
    header = str(record.get("kismet.alert.header", ""))
    transmitter = str(record.get("kismet.alert.transmitter_mac", ""))
    # The text is the raiser's (an SSID may be in it): no control character reaches
    # the terminal.
    text = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
        for c in str(record.get("kismet.alert.text", ""))
    )
    line = f"{when}  {name:<8}  {header}  {transmitter}  {text}"
    start = _COLOURS.get(severity, "") if colour else ""
    return f"{start}{line}{_RESET}" if start else line


def json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
