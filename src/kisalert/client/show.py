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
    """`2026-12-07 11:20:11  HIGH      DEAUTHFLOOD  AA:BB:CC:DD:EE:FF  text`.

    Whatever the server sent: a field of the wrong type prints as it is, and no
    control character of any field reaches the terminal (an SSID may be in a text,
    and the server may not be kisalert)."""
    when = _when(record.get("kismet.alert.timestamp", 0))
    severity = record.get("kismet.alert.severity", 0)
    known = type(severity) is int
    name = SEVERITY_NAMES.get(severity, "") if known else ""
    name = name or _printable(severity)
    header = _printable(record.get("kismet.alert.header", ""))
    transmitter = _printable(record.get("kismet.alert.transmitter_mac", ""))
    text = _printable(record.get("kismet.alert.text", ""))
    line = f"{when}  {name:<8}  {header}  {transmitter}  {text}"
    start = _COLOURS.get(severity, "") if colour and known else ""
    return f"{start}{line}{_RESET}" if start else line


def _when(stamp: Any) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(stamp)))
    except (TypeError, ValueError, OverflowError, OSError):
        return _printable(stamp)


def _printable(value: Any) -> str:
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(value)
    )


def json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
