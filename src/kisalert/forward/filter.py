"""Which alerts an output wants: `min_severity=`, `headers=`, `classes=`, `phys=` and
`text=`. An alert must pass every option given; a list (`A|B`) passes on any entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kisalert.alert import Alert
from kisalert.filters import MAX_INSTRUCTIONS, MAX_PATTERN
from kisalert.forward.base import SpecError
from kisalert.patterns import Pattern, PatternError, compile_bounded
from kisalert.phy import PHY_ANY, PHY_NAMES, phy_from_u32
from kisalert.severity import SEVERITY_NAMES

_BY_SEVERITY_NAME = {name: value for value, name in SEVERITY_NAMES.items()}
# Case-insensitive, as config values are; `any` is an alert raised for no one phy.
_PHYS = {name.lower(): index for index, name in enumerate(PHY_NAMES)} | {"any": PHY_ANY}


def _severity(text: str) -> int:
    value = text.strip()
    if value.isascii() and value.isdigit():
        return int(value)
    found = _BY_SEVERITY_NAME.get(value.upper())
    if found is None:
        names = ", ".join(SEVERITY_NAMES.values())
        raise SpecError(f"min_severity needs a number or one of {names}, not {text!r}")
    return found


def names(key: str, text: str) -> frozenset[str]:
    names = frozenset(part.strip().upper() for part in text.split("|") if part.strip())
    if not names:
        raise SpecError(f"{key} needs one or more names separated by '|'")
    return names


def _phys(text: str) -> frozenset[int]:
    phys: set[int] = set()
    for part in text.split("|"):
        name = part.strip()
        if not name:
            continue
        phy = _PHYS.get(name.lower())
        if phy is None:
            raise SpecError(f"unknown phy {name!r}; use any, {', '.join(PHY_NAMES)}")
        phys.add(phy)
    if not phys:
        raise SpecError("phys needs one or more phy names separated by '|'")
    return frozenset(phys)


def pattern(text: str) -> Pattern:
    # Bounded like a client's pattern: a config file is often written by a tool.
    if len(text) > MAX_PATTERN:
        raise SpecError(f"text= may be at most {MAX_PATTERN} characters")
    try:
        pattern, _ = compile_bounded(text, MAX_INSTRUCTIONS)
    except PatternError as exc:
        raise SpecError(f"bad text pattern: {exc}") from None
    return pattern


@dataclass(frozen=True, slots=True)
class OutputFilter:
    min_severity: int = 0
    headers: frozenset[str] | None = None
    classes: frozenset[str] | None = None
    phys: frozenset[int] | None = None
    text: Pattern | None = None

    @classmethod
    def parse(cls, options: Mapping[str, str]) -> OutputFilter:
        """From an output's filter options. Raises SpecError."""
        min_severity = options.get("min_severity")
        headers = options.get("headers")
        classes = options.get("classes")
        phys = options.get("phys")
        text = options.get("text")
        return cls(
            min_severity=_severity(min_severity) if min_severity is not None else 0,
            headers=names("headers", headers) if headers is not None else None,
            classes=names("classes", classes) if classes is not None else None,
            phys=_phys(phys) if phys is not None else None,
            text=pattern(text) if text is not None else None,
        )

    def passes(self, alert: Alert) -> bool:
        record = alert.record
        if record["kismet.alert.severity"] < self.min_severity:
            return False
        if self.headers is not None and alert.header.upper() not in self.headers:
            return False
        if self.classes is not None and record["kismet.alert.class"].upper() not in self.classes:
            return False
        if self.phys is not None and phy_from_u32(record["kismet.alert.phy_id"]) not in self.phys:
            return False
        return self.text is None or self.text.search(record["kismet.alert.text"]) is not None
