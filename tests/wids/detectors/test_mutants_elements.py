"""Element alerts read exactly as a user sees them: the NULLPROBERESP text, the names
of short frames, and a probe response whose SSID is there but bad."""

from __future__ import annotations

import pytest
from scapy.layers.dot11 import Dot11
from scapy.packet import Packet

from kisalert.wids.detectors.base import Hit
from kisalert.wids.detectors.elements import Elements
from kisalert.wids.engine import Engine
from tests.wids.frames import AP, STA, T0, beacon, make_config, radiotap

A, S = AP.upper(), STA.upper()


def hits(frame: Packet) -> list[Hit]:
    engine = Engine(make_config(""), families=[Elements])
    engine.feed(127, int(T0) * 1_000_000, bytes(radiotap(frame)))
    return engine.hits


def test_nullproberesp_text() -> None:
    [hit] = hits(beacon(b"", probe_response_to=STA))
    assert (hit.header, hit.text) == (
        "NULLPROBERESP",
        f"Probe response from {A} on BSSID {A} has an empty SSID, a known trigger of "
        "client driver crashes",
    )
    assert (hit.source, hit.dest, hit.channel) == (A, S, "6")


def test_a_probe_response_with_a_long_ssid_is_not_a_null_one() -> None:
    [hit] = hits(beacon(b"A" * 33, probe_response_to=STA))
    assert hit.header == "LONGSSID"


@pytest.mark.parametrize(("subtype", "name"), [(12, "Deauthentication"), (10, "Disassociation")])
def test_malformmgmt_names_a_short_deauthentication_or_disassociation(
    subtype: int, name: str
) -> None:
    # Without its 2-byte reason code. Both were once called "Management frame".
    [hit] = hits(Dot11(type=0, subtype=subtype, addr1=STA, addr2=AP, addr3=AP))
    assert (hit.header, hit.text) == (
        "MALFORMMGMT",
        f"{name} from {A} on BSSID {A} is too short for the fixed fields its subtype carries",
    )
    assert (hit.source, hit.dest, hit.channel) == (A, S, "6")
