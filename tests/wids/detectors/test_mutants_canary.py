"""SSIDCANARY: the verdict cache stays at its size under an SSID flood."""

from __future__ import annotations

from kisalert.wids.detectors.canary import Canary
from kisalert.wids.engine import Engine
from kisalert.wids.state import DEFAULT_LIMIT
from tests.wids.frames import beacon, make_config, radiotap

CANARY = 'ssidcanary=honey:ssid="^honeypot"\n'
RADIOTAP = 127
T0_US = 1_000_000_000_000


def test_an_ssid_flood_keeps_a_sixteenth_of_the_default_limit_and_loses_no_alert() -> None:
    # A beacon flood of random names (mdk3 and the like) must cost a fixed amount of
    # memory: the canary remembers DEFAULT_LIMIT // 16 SSIDs, dropping the oldest.
    engine = Engine(make_config(CANARY), families=(Canary,))
    [canary] = engine.families
    assert isinstance(canary, Canary)
    honeypot = bytes(radiotap(beacon(ssid="honeypot")))
    template = bytes(radiotap(beacon(ssid="net-00000")))
    assert template.count(b"net-00000") == 1
    limit = DEFAULT_LIMIT // 16
    engine.feed(RADIOTAP, T0_US, honeypot)
    for i in range(limit + 100):
        name = f"net-{i:05d}".encode()
        engine.feed(RADIOTAP, T0_US + (i + 1) * 100, template.replace(b"net-00000", name))
    assert len(canary.verdicts) == limit
    oldest = canary.verdicts.oldest()
    assert oldest is not None and oldest[0] == b"net-00100"
    # The canary's own verdict went with the oldest, and it is still raised.
    engine.feed(RADIOTAP, T0_US + (limit + 200) * 100, honeypot)
    assert [hit.header for hit in engine.take_hits()] == ["SSIDCANARY", "SSIDCANARY"]
    assert len(canary.verdicts) == limit
