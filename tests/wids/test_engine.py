"""The engine's bookkeeping: packet time, counts, and what bad timestamps cannot do."""

from __future__ import annotations

from kisalert.wids.engine import MAX_TIME_US, REWIND_US, Engine, channel_of
from tests.wids.frames import T0, deauth, make_config, radiotap

T0_US = round(T0 * 1_000_000)
DEAUTH = bytes(radiotap(deauth()))


def test_a_time_no_clock_reads_is_malformed_not_a_crash() -> None:
    engine = Engine(make_config())
    engine.feed(127, MAX_TIME_US + 1, DEAUTH)
    engine.feed(127, -5, DEAUTH)
    engine.feed(127, 2**70, DEAUTH)
    assert engine.counts.malformed == 3
    assert engine.counts.records == 3


def test_one_frame_from_the_future_does_not_squeeze_later_windows() -> None:
    engine = Engine(make_config())
    engine.feed(127, T0_US + 115 * 86_400 * 1_000_000, DEAUTH)
    for hour in range(11):  # eleven deauths an hour apart: no flood
        engine.feed(127, T0_US + hour * 3_600 * 1_000_000, DEAUTH)
    assert [hit.header for hit in engine.take_hits()] == []


def test_detectors_see_each_frame_at_its_own_time() -> None:
    engine = Engine(make_config())
    for i in range(11):
        engine.feed(127, T0_US + i * 50_000, DEAUTH)
    [hit] = engine.take_hits()
    assert hit.header == "DEAUTHFLOOD"
    assert hit.ts_us == T0_US + 10 * 50_000


def test_a_record_stamped_long_before_packet_time_starts_the_detectors_over() -> None:
    # The state of a capture read first, stamped a day later, must not judge this one.
    engine = Engine(make_config())
    for i in range(10):  # ten deauths in a second, a day ahead: one short of a flood
        engine.feed(127, T0_US + 86_400_000_000 + i * 50_000, DEAUTH)
    engine.feed(127, T0_US, DEAUTH)
    assert engine.counts.rewinds == 1
    assert engine.now_us == T0_US
    for i in range(1, 10):  # nine more: ten in a second, no flood
        engine.feed(127, T0_US + i * 50_000, DEAUTH)
    assert engine.take_hits() == []
    engine.feed(127, T0_US + 10 * 50_000, DEAUTH)  # the eleventh
    assert [hit.header for hit in engine.take_hits()] == ["DEAUTHFLOOD"]


def test_records_out_of_order_by_less_than_the_rewind_keep_the_state() -> None:
    engine = Engine(make_config())
    late = REWIND_US - 1_000_000
    engine.feed(127, T0_US + late, DEAUTH)
    for i in range(10):
        engine.feed(127, T0_US + i * 50_000, DEAUTH)
    assert engine.counts.rewinds == 0
    assert engine.now_us == T0_US + late
    assert [hit.header for hit in engine.take_hits()] == []


def test_counts_by_link_type() -> None:
    engine = Engine(make_config())
    for linktype in (127, 127, 1, 127, 105):
        engine.feed(linktype, T0_US, DEAUTH)
    assert dict(engine.counts.linktypes()) == {127: 3, 1: 1, 105: 1}
    assert engine.counts.records == 5
    assert engine.counts.other_link == 1


def test_channel_of() -> None:
    assert [channel_of(f) for f in (2412, 2437, 2484, 5180, 5745, 5955, 4920, 0)] == [
        "1",
        "6",
        "14",
        "36",
        "149",
        "1",
        "184",
        "",
    ]
