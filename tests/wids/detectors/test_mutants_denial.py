"""Denial alerts read exactly as a user sees them, for deauthentications and
disassociations alike, and the first and last reason codes of the 25-31 range."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from scapy.packet import Packet

from kisalert.wids import state
from kisalert.wids.detectors.denial import Denial
from kisalert.wids.engine import Engine
from tests.wids.frames import (
    AP,
    BROADCAST,
    STA,
    T0,
    deauth,
    make_config,
    only,
    record_bytes,
    replay,
    write_pcap,
)

A, S = AP.upper(), STA.upper()


def text_of(tmp_path: Path, frames: Sequence[Packet], header: str) -> str:
    capture = write_pcap(tmp_path / "denial.pcap", frames, step=0.05)
    [alert] = only(replay(capture), header)
    return str(alert["kismet.alert.text"])


def test_deauthflood_text(tmp_path: Path) -> None:
    assert text_of(tmp_path, [deauth() for _ in range(11)], "DEAUTHFLOOD") == (
        f"Deauth/Disassociate flood on {A}: more than 10 deauthentication or "
        "disassociation frames within one second"
    )


@pytest.mark.parametrize(
    ("disassoc", "what"), [(False, "deauthentication"), (True, "disassociation")]
)
def test_bcastdiscon_text_names_the_frame_kind(tmp_path: Path, disassoc: bool, what: str) -> None:
    frame = deauth(dest=BROADCAST, disassoc=disassoc)
    assert text_of(tmp_path, [frame], "BCASTDISCON") == (
        f"Broadcast {what} of every client of BSSID {A} from {A}: the AP is shutting "
        "down, or this is a denial of service attack"
    )


@pytest.mark.parametrize("reason", [25, 31])
def test_disconcodeinvalid_range_ends(tmp_path: Path, reason: int) -> None:
    frame = deauth(disassoc=True, reason=reason)
    assert text_of(tmp_path, [frame], "DISCONCODEINVALID") == (
        f"Disassociation from {A} to {S} on BSSID {A} with reason code {reason}, "
        "one of the codes known to crash client drivers"
    )


def others(count: int) -> list[Packet]:
    """One deauthentication on each of `count` other BSSIDs."""
    return [deauth(bssid=f"02:00:00:00:07:{index:02x}") for index in range(count)]


@pytest.mark.parametrize(("churn", "flood"), [(3, True), (4, False)])
def test_deauthflood_counter_survives_until_the_table_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, churn: int, flood: bool
) -> None:
    # A quarter of DEFAULT_LIMIT counters: with 16, four BSSIDs. Ten deauths on AP, others
    # on `churn` other BSSIDs, then AP's eleventh, all within one second.
    monkeypatch.setattr(state, "DEFAULT_LIMIT", 16)
    frames = [*[deauth() for _ in range(10)], *others(churn), deauth()]
    capture = write_pcap(tmp_path / "churn.pcap", frames, step=0.05)
    floods = only(replay(capture), "DEAUTHFLOOD")
    assert [alert["kismet.alert.transmitter_mac"] for alert in floods] == ([A] if flood else [])


def test_flood_counters_idle_for_over_a_minute_are_forgotten() -> None:
    engine = Engine(make_config(), families=[Denial])
    [denial] = engine.families
    assert isinstance(denial, Denial)
    ap, ap2, ap3 = (bytes.fromhex(f"0200000000{i:02x}") for i in (1, 2, 3))
    start = int(T0 * 1_000_000)
    engine.feed(127, start, record_bytes(deauth()))
    engine.feed(127, start + 30_000_000, record_bytes(deauth(bssid="02:00:00:00:00:02")))
    engine.feed(127, start + 60_000_000, record_bytes(deauth(bssid="02:00:00:00:00:03")))
    assert [key for key, _ in denial._floods.items()] == [ap, ap2, ap3]  # idle exactly 60 s
    engine.feed(127, start + 90_000_001, record_bytes(deauth(bssid="02:00:00:00:00:03")))
    assert [key for key, _ in denial._floods.items()] == [ap3]
