"""802.11 header boundaries the scapy-built frames of test_header.py do not reach: action
frames whose bodies are or are not element lists, data headers at their exact lengths
behind a capture header, and non-QoS data subtypes with the CF-Ack bit."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.dot11 import Dot11
from scapy.packet import Raw

from kisalert.wids.capture.linktypes import IEEE802_11, RADIOTAP
from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import decoder
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame
from tests.wids.frames import AP, STA, radiotap

A1, A2, A3, A4 = "02:00:00:00:00:a1", "02:00:00:00:00:a2", "02:00:00:00:00:a3", "02:00:00:00:00:a4"
P2P = b"\x50\x6f\x9a\x09"
LLC_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
EAPOL_KEY = b"\x02\x03\x00\x5f\x02" + bytes(94)


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def decoded(data: bytes, linktype: int = IEEE802_11) -> tuple[int, Frame]:
    frame = Frame()
    return decoder.decode(frame, linktype, data), frame


def action(body: bytes) -> bytes:
    return bytes(Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Raw(body))


# A P2P element whose notice of absence is over 28 bytes (what RTLWIFIP2P reports).
LONG_NOA = bytes([221, 4 + 3 + 29]) + P2P + b"\x0c" + struct.pack("<H", 29) + bytes(29)


# Action frames


@pytest.mark.parametrize("body", [b"", b"\x04"], ids=["no body", "category only"])
def test_an_action_frame_without_category_and_action_decodes_with_no_elements(
    body: bytes,
) -> None:
    # The header's own bytes must not be walked as elements (flags 0 would be an SSID).
    result, frame = decoded(action(body))
    assert result == decoder.DECODED
    assert frame.ssid is None
    assert frame.tags == 0


def test_p2p_public_action_elements_are_walked_from_after_the_dialog_token() -> None:
    # Public action (4), vendor specific (9), 50:6F:9A type 9, subtype, dialog token.
    result, frame = decoded(action(b"\x04\x09" + P2P + b"\x01\x07" + LONG_NOA))
    assert result == decoder.DECODED
    assert frame.tags == A.P2P_NOA_LONG
    assert frame.ssid is None


# Bodies that are not element lists, each with the same long notice of absence where
# a looser test of the category, action or OUI would start walking.
NOT_ELEMENTS = {
    "public action 0x50 followed by the rest of the P2P OUI": b"\x04\x50\x6f\x9a\x09\x01\x07",
    "vendor action of another OUI": b"\x7f\x00\x50\xf2\x04\x01\x07",
    "block ack action with the P2P OUI after the action": b"\x03\x00" + P2P + b"\x01\x07",
    "public vendor action of another WFA type": b"\x04\x09\x50\x6f\x9a\x1a\x01\x07",
    "public action GAS request": b"\x04\x0a" + bytes(6),
    "spectrum management action 9 with the P2P OUI": b"\x00\x09" + P2P + b"\x01\x07",
    "public action 8 with the P2P OUI": b"\x04\x08" + P2P + b"\x01\x07",
}


@pytest.mark.parametrize("prefix", list(NOT_ELEMENTS.values()), ids=list(NOT_ELEMENTS))
def test_action_bodies_that_are_not_p2p_are_not_walked_as_elements(prefix: bytes) -> None:
    result, frame = decoded(action(prefix + LONG_NOA))
    assert result == decoder.DECODED
    assert frame.tags == 0


# Data header lengths, behind a radiotap header (the frame does not start at byte 0)


def test_a_data_frame_shorter_than_its_24_byte_header_is_malformed_behind_radiotap() -> None:
    data = bytes(Dot11(type=2, subtype=0, addr1=A1, addr2=A2, addr3=A3))[:20]
    assert decoded(bytes(radiotap(data)), RADIOTAP)[0] == decoder.MALFORMED


def test_a_wds_frame_shorter_than_its_30_byte_header_is_malformed_behind_radiotap() -> None:
    wds = Dot11(type=2, subtype=0, FCfield="to_DS+from_DS", addr1=A1, addr2=A2, addr3=A3, addr4=A4)
    assert decoded(bytes(radiotap(bytes(wds)[:26])), RADIOTAP)[0] == decoder.MALFORMED


def test_a_wds_frame_of_exactly_its_30_byte_header_decodes() -> None:
    wds = bytes(
        Dot11(type=2, subtype=0, FCfield="to_DS+from_DS", addr1=A1, addr2=A2, addr3=A3, addr4=A4)
    )
    assert len(wds) == 30
    result, frame = decoded(wds)
    assert result == decoder.DECODED
    assert frame.source == mac(A4)
    assert frame.bssid == mac(A2)


@pytest.mark.parametrize("subtype", [1, 3], ids=["data+CF-Ack", "data+CF-Ack+CF-Poll"])
def test_non_qos_data_with_cf_ack_has_its_payload_right_after_the_header(subtype: int) -> None:
    # Bit 0 of the subtype is CF-Ack, not QoS: no QoS control field to skip.
    head = Dot11(type=2, subtype=subtype, FCfield="to_DS", addr1=AP, addr2=STA, addr3=AP)
    result, frame = decoded(bytes(head / Raw(LLC_EAPOL + EAPOL_KEY)))
    assert result == decoder.DECODED
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == 24 + len(LLC_EAPOL)


def test_a_qos_data_frame_cut_before_its_qos_control_still_gives_its_addresses() -> None:
    # 24 bytes: the record ends where the QoS control would start, so it is not read.
    qos = bytes(Dot11(type=2, subtype=8, FCfield="from_DS", addr1=A1, addr2=A2, addr3=A3))
    assert len(qos) == 24
    for data, linktype in ((qos, IEEE802_11), (bytes(radiotap(qos)), RADIOTAP)):
        result, frame = decoded(data, linktype)
        assert result == decoder.DECODED
        assert frame.kind == F.DATA
        assert (frame.dest, frame.bssid, frame.source) == (mac(A1), mac(A2), mac(A3))
