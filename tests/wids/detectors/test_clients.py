"""NOCLIENTMFP: an association request without an RSN element, or without MFP-capable."""

from __future__ import annotations

import struct
from pathlib import Path

from scapy.layers.dot11 import Dot11, Dot11AssoReq, Dot11Elt
from scapy.packet import Raw

from tests.wids.frames import AP, STA, assoc_request, only, replay, rsn, write_pcap


def test_noclientmfp_rsn_without_mfp_capable(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "nomfp.pcap", [assoc_request(mfp=False)])
    [alert] = only(replay(capture), "NOCLIENTMFP")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert alert["kismet.alert.dest_mac"] == AP.upper()
    assert alert["kismet.alert.channel"] == "6"
    text = alert["kismet.alert.text"]
    assert text.startswith(f"Client {STA.upper()} associating to BSSID {AP.upper()}")
    assert "does not declare MFP capability" in text


def test_noclientmfp_without_rsn_element(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "norsn.pcap", [assoc_request(mfp=None)])
    [alert] = only(replay(capture), "NOCLIENTMFP")
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert "sends no RSN element" in alert["kismet.alert.text"]


def test_noclientmfp_rsn_element_cut_before_its_capabilities(tmp_path: Path) -> None:
    rsn = Dot11Elt(ID=48, info=b"\x01\x00\x00\x0f\xac\x04\x01\x00\x00\x0f\xac\x04")
    capture = write_pcap(tmp_path / "short.pcap", [assoc_request(mfp=None) / rsn])
    [alert] = only(replay(capture), "NOCLIENTMFP")
    assert "does not declare MFP capability" in alert["kismet.alert.text"]


def test_noclientmfp_near_miss_rsn_element_lost_to_the_snap_length(tmp_path: Path) -> None:
    # Cut exactly before its RSN element: nothing overruns, and nothing says the
    # client sent none.
    frames = [assoc_request(mfp=True), assoc_request(mfp=False)]
    capture = write_pcap(tmp_path / "snapped.pcap", frames, cut=[len(bytes(rsn()))] * 2)
    assert only(replay(capture), "NOCLIENTMFP") == []
    # Kept whole, the RSN element without MFP-capable is seen.
    capture = write_pcap(tmp_path / "whole.pcap", frames[1:])
    assert len(only(replay(capture), "NOCLIENTMFP")) == 1


def test_noclientmfp_near_miss_mfp_capable(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "mfp.pcap", [assoc_request(mfp=True)])
    assert only(replay(capture), "NOCLIENTMFP") == []


def test_noclientmfp_skips_protected_requests(tmp_path: Path) -> None:
    frame = Dot11(type=0, subtype=0, FCfield="protected", addr1=AP, addr2=STA, addr3=AP)
    frame /= Dot11AssoReq(cap="ESS") / Dot11Elt(ID=0, info=b"corp")
    capture = write_pcap(tmp_path / "prot.pcap", [frame])
    assert only(replay(capture), "NOCLIENTMFP") == []


def test_noclientmfp_on_a_reassociation_request(tmp_path: Path) -> None:
    head = Dot11(type=0, subtype=2, addr1=AP, addr2=STA, addr3=AP)
    fixed = Raw(struct.pack("<HH", 0x0411, 10) + bytes.fromhex(AP.replace(":", "")))
    frame = head / fixed / Dot11Elt(ID=0, info=b"corp") / rsn(mfp=False)
    capture = write_pcap(tmp_path / "reassoc.pcap", [frame])
    [alert] = only(replay(capture), "NOCLIENTMFP")
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert "reassociating" in alert["kismet.alert.text"]


def test_noclientmfp_near_miss_request_too_short_to_read(tmp_path: Path) -> None:
    frame = Dot11(type=0, subtype=0, addr1=AP, addr2=STA, addr3=AP) / Raw(b"\x11\x04")
    capture = write_pcap(tmp_path / "short.pcap", [frame])
    assert only(replay(capture), "NOCLIENTMFP") == []
