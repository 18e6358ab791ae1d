"""The detector table is complete and honest: every catalog trigger has one detector,
and every detector a trigger test and a near-miss test."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from kisalert.catalog import BUILTIN_ALERTS
from kisalert.wids.detectors import DETECTORS, FAMILIES

# Catalog entries no 802.11 detector raises: the server's own, and tool fingerprints
# or other radios that catalog.md says need no detector.
NO_DETECTOR = {
    "KISMET",
    "SOURCEERROR",
    "ROOTUSER",
    "NETSTUMBLER",
    "LUCENTTEST",
    "FLIPPERZERO",
    "BLEEDINGTOOTH",
}
TESTS = Path(__file__).parent


def test_every_catalog_trigger_has_exactly_one_detector() -> None:
    catalog = {builtin.name for builtin in BUILTIN_ALERTS}
    assert set(DETECTORS) == catalog - NO_DETECTOR
    headers = [header for family in FAMILIES for header in family.headers]
    assert len(headers) == len(set(headers))


def test_every_family_looks_at_some_frames() -> None:
    for family in FAMILIES:
        assert family.kinds, family.__name__
        # Each family's module says which alerts it raises and why.
        assert sys.modules[family.__module__].__doc__, family.__name__


def _test_names() -> list[str]:
    names: list[str] = []
    for path in TESTS.glob("test_*.py"):
        tree = ast.parse(path.read_text())
        names += [
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        ]
    return names


def test_every_detector_has_a_trigger_and_a_near_miss_test() -> None:
    names = _test_names()
    missing = []
    for header in DETECTORS:
        key = header.lower()
        mine = [name for name in names if key in name]
        if not [name for name in mine if "near_miss" not in name]:
            missing.append(f"{header}: trigger")
        if not [name for name in mine if "near_miss" in name]:
            missing.append(f"{header}: near miss")
    assert missing == []
