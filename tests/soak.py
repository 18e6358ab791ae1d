"""The one knob for soak tests: tests that repeat a crash or a flood to catch a rare
interleaving. By default they run a few rounds, enough to cover every path they
check; `KISALERT_TEST_SOAK=N make test` runs N times as many, for a longer hunt.
"""

from __future__ import annotations

import os

SOAK = int(os.environ.get("KISALERT_TEST_SOAK", "1"))
if not SOAK >= 1:
    raise SystemExit(f"KISALERT_TEST_SOAK must be a whole number >= 1, not {SOAK!r}")


def rounds(default: int) -> int:
    """`default` rounds of a soak test, times the soak factor."""
    return default * SOAK
