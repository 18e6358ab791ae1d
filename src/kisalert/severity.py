"""Alert severities: the five values Kismet defines, and their names."""

from __future__ import annotations

SEVERITY_NAMES: dict[int, str] = {
    0: "INFO",
    5: "LOW",
    10: "MEDIUM",
    15: "HIGH",
    20: "CRITICAL",
}

INFO = 0
LOW = 5
MEDIUM = 10
HIGH = 15
CRITICAL = 20


def is_severity(value: object) -> bool:
    return type(value) is int and value in SEVERITY_NAMES
