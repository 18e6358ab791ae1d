"""EAPOL parser edges: exact-size headers and keys, and EAP-WSC messages that are short,
mislabelled, or whose lengths disagree with the frame."""

from __future__ import annotations

import struct

from scapy.layers.eap import EAP, EAPOL

from kisalert.wids.dot11 import eapol as E
from tests.wids.eapol_dhcp_frames import MSG3, eapol_key, wsc

_VERSION_END = 4 + 14 + 5  # the 802.1X and EAP-WSC headers, then the version attribute


def test_header_of_a_bodyless_eapol_start() -> None:
    start = bytes(EAPOL(version=1, type=1, len=0))
    assert len(start) == 4
    assert E.header(start, 0, 4) == (1, 0)


def test_key_reads_a_frame_that_ends_right_after_the_nonce() -> None:
    buf = eapol_key(MSG3, nonce=bytes(range(32)))
    key = E.key(buf, 0, 4 + 45)
    assert key is not None
    assert key.nonce == bytes(range(32)) and key.info == MSG3
    assert key.key_data_length == -1


def test_wsc_only_in_eap_packets() -> None:
    buf = bytearray(wsc(0x07))
    assert E.wsc_message_type(bytes(buf), 0, len(buf)) == E.WSC_M3
    buf[1] = E.EAPOL_KEY  # the same bytes labelled as another 802.1X packet type
    assert E.wsc_message_type(bytes(buf), 0, len(buf)) is None
    assert E.wsc_message_type(bytes(buf), 0, 3) is None


def test_wsc_only_in_expanded_eap_types() -> None:
    buf = bytearray(wsc(0x07))
    buf[4 + 4] = 0xFD  # not the expanded type, though the WFA vendor bytes follow
    assert E.wsc_message_type(bytes(buf), 0, len(buf)) is None


def test_wsc_of_a_bodyless_eap_success_at_the_end_of_the_buffer() -> None:
    success = bytes(EAPOL(version=2, type=0) / EAP(code=3, id=7))
    assert len(success) == 8
    assert E.wsc_message_type(success, 0, len(success)) is None


def test_wsc_attributes_end_with_the_eap_length() -> None:
    buf = bytearray(wsc(0x07))
    # The EAP length ends the message after the version; the type attribute beyond it
    # belongs to no message (the 802.1X length still covers it).
    struct.pack_into(">H", buf, 4 + 2, _VERSION_END - 4)
    assert E.wsc_message_type(bytes(buf), 0, len(buf)) is None
    struct.pack_into(">H", buf, 4 + 2, _VERSION_END - 4 + 5)
    assert E.wsc_message_type(bytes(buf), 0, len(buf)) == E.WSC_M3


def test_wsc_of_a_buffer_ending_inside_an_attribute_header() -> None:
    buf = wsc(0x07)[: _VERSION_END + 2]
    assert E.wsc_message_type(buf, 0, len(buf)) is None


def test_wsc_attribute_lengths_are_unsigned() -> None:
    buf = bytearray(wsc(0x07))
    struct.pack_into(">H", buf, 4 + 14 + 2, 0x8000)  # the version claims 32 KiB
    assert E.wsc_message_type(bytes(buf), 0, len(buf)) is None
