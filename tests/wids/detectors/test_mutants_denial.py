"""Denial alerts read exactly as a user sees them, for deauthentications and
disassociations alike, and the first and last reason codes of the 25-31 range."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from scapy.packet import Packet

from tests.wids.frames import AP, BROADCAST, STA, deauth, only, replay, write_pcap

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
