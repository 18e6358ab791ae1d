"""Which reads are built in a worker thread (http/offload.py): a read over the whole
backlog whose regex filters read large texts, whichever key carries the filters."""

from __future__ import annotations

import pytest

from kisalert.http.offload import BIG, BIG_TEXT, weight
from tests.forward.alerts import make_alert

TEXT = "x" * 16_384  # the longest text an alert may carry
FILTER = [["kismet.alert.text", "x+y"]]


@pytest.mark.parametrize("key", ["regex", "regex_all"])
def test_regex_filters_over_large_texts_weigh_as_a_big_read(key: str) -> None:
    # regex_all (the console's filters) was built on the event loop whatever it read:
    # 32 such filters over 50 alerts of 16 KiB held every client for 16 s.
    records = [make_alert(n, text=TEXT) for n in range(50)]
    assert 50 * len(TEXT) >= BIG_TEXT
    assert weight(records, {key: FILTER}) >= BIG


@pytest.mark.parametrize("key", ["regex", "regex_all"])
def test_regex_filters_over_small_texts_stay_on_the_loop(key: str) -> None:
    records = [make_alert(n) for n in range(50)]
    assert weight(records, {key: FILTER}) == 50
    assert weight(records, {}) == 50


def test_each_rule_reads_every_record_so_many_rules_weigh_more() -> None:
    # 64 rules over 50 alerts of 0.9 KiB read 2.8 MiB: built on the loop, RE2's slow
    # path (~1 MB/s) held it for seconds.
    records = [make_alert(n, text="x" * 500) for n in range(50)]
    assert weight(records, {"regex": FILTER}) == 50
    assert weight(records, {"regex": FILTER * 64}) >= BIG
    assert weight(records, {"regex": FILTER * 32, "regex_all": FILTER * 32}) >= BIG
