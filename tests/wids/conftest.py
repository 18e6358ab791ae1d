from __future__ import annotations

from collections.abc import Iterator

import pytest

from kisalert.wids.dot11 import elements, radiotap


@pytest.fixture(autouse=True)
def cold_decoder_memos() -> Iterator[None]:
    """Each test starts with the decoders' memos empty (RSN parses, radiotap layouts).

    They only save time, but a memo filled by an earlier test answers in place of the
    code under test: then that code's faults go unseen (mutmut runs every mutant in a
    copy of a process that has already run the tests on the real code)."""
    elements._rsn_seen.clear()
    radiotap._cache.clear()
    yield
