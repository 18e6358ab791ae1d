"""NOCLIENTMFP's whole alert text, word for word, for each reason and request kind."""

from __future__ import annotations

import struct
from pathlib import Path

from scapy.layers.dot11 import Dot11, Dot11Elt
from scapy.packet import Packet, Raw

from tests.wids.frames import AP, STA, assoc_request, only, replay, rsn, write_pcap

_TAIL = "without management frame protection it can be deauthenticated by anyone"


def _text(tmp_path: Path, frame: Packet) -> str:
    capture = write_pcap(tmp_path / "c.pcap", [frame])
    [alert] = only(replay(capture), "NOCLIENTMFP")
    text: str = alert["kismet.alert.text"]
    return text


def test_noclientmfp_text_for_an_rsn_element_without_mfp_capable(tmp_path: Path) -> None:
    assert _text(tmp_path, assoc_request(mfp=False)) == (
        f"Client {STA.upper()} associating to BSSID {AP.upper()} "
        f"does not declare MFP capability: {_TAIL}"
    )


def test_noclientmfp_text_for_a_request_without_rsn_element(tmp_path: Path) -> None:
    assert _text(tmp_path, assoc_request(mfp=None)) == (
        f"Client {STA.upper()} associating to BSSID {AP.upper()} sends no RSN element: {_TAIL}"
    )


def test_noclientmfp_text_for_a_reassociation(tmp_path: Path) -> None:
    head = Dot11(type=0, subtype=2, addr1=AP, addr2=STA, addr3=AP)
    fixed = Raw(struct.pack("<HH", 0x0411, 10) + bytes.fromhex(AP.replace(":", "")))
    frame = head / fixed / Dot11Elt(ID=0, info=b"corp") / rsn(mfp=False)
    assert _text(tmp_path, frame) == (
        f"Client {STA.upper()} reassociating to BSSID {AP.upper()} "
        f"does not declare MFP capability: {_TAIL}"
    )
