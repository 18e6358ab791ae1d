"""The one allowance for a slow machine in tests that need a wall-clock window.

Tests wait on observable state wherever they can. Where a test must still give the
server a window (a lifetime that has to run out, a margin around a commit window),
it takes the window through `slack()`, so that `KISALERT_TEST_SLACK=3 make test`
gives a loaded CI machine three times as long everywhere at once.
"""

from __future__ import annotations

import os

SLACK = float(os.environ.get("KISALERT_TEST_SLACK", "1"))
if not SLACK >= 1:
    raise SystemExit(f"KISALERT_TEST_SLACK must be a number >= 1, not {SLACK!r}")


def slack(seconds: float) -> float:
    """`seconds`, stretched by the machine's slack factor."""
    return seconds * SLACK
