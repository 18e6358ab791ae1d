"""The EAPOL parsers: EAPOL-Key fields, checked against scapy's view, and EAP-WSC types."""

from __future__ import annotations

from scapy.layers.eap import EAP, EAPOL, EAPOL_KEY

from kisalert.wids.dot11 import eapol as E
from tests.wids.eapol_dhcp_frames import MSG3, NONCE, eapol_key, wsc


def test_key_reads_what_scapy_wrote() -> None:
    packet = EAPOL(version=2, type=3) / EAPOL_KEY(
        key_descriptor_type=2,
        key_descriptor_type_version=2,
        key_type=1,
        install=1,
        key_ack=1,
        has_key_mic=1,
        secure=1,
        key_replay_counter=0x0102030405,
        key_nonce=NONCE,
        key_data=b"\x30" * 40,
    )
    buf = b"\x00\x00" + bytes(packet)  # not at offset 0, as in a frame
    key = E.key(buf, 2, len(buf))
    assert key is not None
    assert key.dot1x_length == 95 + 40
    assert key.descriptor == E.DESCRIPTOR_RSN
    assert key.version == 2
    assert key.has(E.KEY_PAIRWISE | E.KEY_INSTALL | E.KEY_ACK | E.KEY_MIC | E.KEY_SECURE)
    assert key.replay == 0x0102030405
    assert key.nonce == NONCE
    assert key.key_data_length == 40


def test_key_of_a_wpa_descriptor() -> None:
    buf = eapol_key(MSG3, descriptor=254, key_data=b"\xdd" * 24)
    key = E.key(buf, 0, len(buf))
    assert key is not None and key.descriptor == E.DESCRIPTOR_WPA
    assert key.info == MSG3 and key.key_data_length == 24


def test_key_data_length_is_minus_one_when_the_frame_ends_before_it() -> None:
    buf = eapol_key(MSG3, key_data=b"\x00" * 8)
    key = E.key(buf, 0, 4 + 60)
    assert key is not None and key.key_data_length == -1


def test_key_refuses_short_frames_other_types_and_rc4_descriptors() -> None:
    buf = eapol_key(MSG3)
    assert E.key(buf, 0, 4 + 44) is None
    assert E.key(buf, 0, 3) is None
    assert E.key(b"\x01\x00" + buf[2:], 0, len(buf)) is None  # an EAP packet
    rc4 = eapol_key(MSG3, descriptor=1)
    assert E.key(rc4, 0, len(rc4)) is None


def test_header() -> None:
    buf = eapol_key(MSG3, dot1x_length=600)
    assert E.header(buf, 0, len(buf)) == (E.EAPOL_KEY, 600)
    assert E.header(buf, 0, 3) is None


def test_wsc_message_type() -> None:
    for flags in (0x00, 0x02, 0x03):  # plain, with the length field, a first fragment
        buf = b"\xaa" * 8 + wsc(0x07, flags=flags)
        assert E.wsc_message_type(buf, 8, len(buf)) == E.WSC_M3
    buf = wsc(0x08)
    assert E.wsc_message_type(buf, 0, len(buf)) == 0x08


def test_wsc_message_type_of_other_eap() -> None:
    identity = bytes(EAPOL(version=1, type=0) / EAP(code=2, id=1, type=1, identity=b"user"))
    assert E.wsc_message_type(identity, 0, len(identity)) is None
    buf = bytearray(wsc(0x07))
    buf[4 + 5] = 0x11  # another vendor's expanded type
    assert E.wsc_message_type(bytes(buf), 0, len(buf)) is None
    key = eapol_key(MSG3)
    assert E.wsc_message_type(key, 0, len(key)) is None


def test_wsc_message_type_stops_at_the_end_of_the_frame() -> None:
    buf = wsc(0x07)
    # Cut inside the message-type attribute: version (5) + type header (4) is all there is.
    cut = 4 + 14 + 5 + 4
    assert E.wsc_message_type(buf, 0, cut) is None
    assert E.wsc_message_type(buf, 0, cut + 1) == E.WSC_M3
