"""802.11 header boundaries the scapy-built frames of test_header.py do not reach: action
frames whose bodies are or are not element lists, data headers at their exact lengths
behind a capture header, non-QoS data subtypes with the CF-Ack bit, and data payloads
(QoS control bits, radiotap padding and FCS, LLC/IPv4/UDP headers at their exact lengths,
the DHCP port pairs)."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.dot11 import Dot11, RadioTap
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

from kisalert.wids.capture.linktypes import IEEE802_11, RADIOTAP
from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import decoder, header
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


# Data payloads: QoS control bits, capture padding and FCS, and the LLC/IPv4/UDP
# headers at their exact lengths

LLC_IPV4 = b"\xaa\xaa\x03\x00\x00\x00\x08\x00"


def to_ds(body: bytes, subtype: int = 0) -> bytes:
    head = Dot11(type=2, subtype=subtype, FCfield="to_DS", addr1=AP, addr2=STA, addr3=AP)
    return bytes(head / Raw(body))


def behind_radiotap(dot11: bytes, flags: int) -> bytes:
    return bytes(RadioTap(present="Flags", Flags=flags) / Raw(dot11))


def test_qos_data_of_an_odd_traffic_id_is_not_taken_for_an_a_msdu() -> None:
    # QoS control 0x01: TID 1, A-MSDU bit (0x80) clear, so the payload is read.
    result, frame = decoded(to_ds(b"\x01\x00" + LLC_EAPOL + EAPOL_KEY, subtype=8))
    assert result == decoder.DECODED
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == 26 + len(LLC_EAPOL)


def test_a_padded_capture_of_a_24_byte_header_has_no_padding_to_skip() -> None:
    # Radiotap's data-pad flag rounds the header up to 4 bytes; 24 already is.
    dot11 = to_ds(LLC_EAPOL + EAPOL_KEY)
    data = behind_radiotap(dot11, 0x20)
    result, frame = decoded(data, RADIOTAP)
    assert result == decoder.DECODED
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == len(data) - len(dot11) + 24 + len(LLC_EAPOL)


def test_a_payload_whose_llc_is_not_snap_is_not_looked_into() -> None:
    # A spanning-tree LLC (42 42 03) followed by what would be the EAPOL ethertype.
    result, frame = decoded(to_ds(b"\x42\x42\x03\x00\x00\x00\x88\x8e" + EAPOL_KEY))
    assert result == decoder.DECODED
    assert frame.kind == F.DATA


def test_a_snap_header_cut_before_its_ethertype_does_not_read_the_fcs() -> None:
    # The frame ends with the 6 SNAP bytes; the FCS after them starts 88 8e.
    data = behind_radiotap(to_ds(LLC_EAPOL[:6]) + b"\x88\x8e\x00\x00", 0x10)
    result, frame = decoded(data, RADIOTAP)
    assert result == decoder.DECODED
    assert frame.kind == F.DATA


def test_an_llc_snap_header_ending_the_frame_still_names_its_ethertype() -> None:
    data = to_ds(LLC_EAPOL)
    result, frame = decoded(data)
    assert result == decoder.DECODED
    assert frame.kind == F.DATA | F.EAPOL
    assert frame.eapol == len(data)


def test_a_dhcp_datagram_of_just_its_ip_and_udp_headers_is_dhcp() -> None:
    # 20 bytes of IPv4 and 8 of UDP, 68 -> 67, and nothing after them.
    data = to_ds(
        LLC_IPV4 + bytes(IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67))
    )
    result, frame = decoded(data)
    assert result == decoder.DECODED
    assert frame.kind == F.DATA | F.IPV4 | F.DHCP
    assert frame.dhcp == len(data)


def test_an_ipv4_packet_cut_inside_its_udp_header_is_not_dhcp() -> None:
    # IHL 6 (24 bytes with an option), then only 6 bytes of UDP: ports 68 -> 67.
    ip = bytes([0x46, 0, 0, 30, 0, 0, 0, 0, 64, 17]) + bytes(14) + b"\x00\x44\x00\x43\x00\x08"
    result, frame = decoded(to_ds(LLC_IPV4 + ip))
    assert result == decoder.DECODED
    assert frame.kind == F.DATA | F.IPV4


@pytest.mark.parametrize(
    ("sport", "dport"),
    [(0x144, 67), (68, 0x143), (68, 53), (53, 67), (67, 53), (53, 68), (67, 67), (68, 68)],
)
def test_only_udp_between_ports_67_and_68_is_dhcp(sport: int, dport: int) -> None:
    udp = IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=sport, dport=dport) / Raw(bytes(240))
    result, frame = decoded(to_ds(LLC_IPV4 + bytes(udp)))
    assert result == decoder.DECODED
    assert frame.kind == F.DATA | F.IPV4


# Management frames: header lengths behind a capture header, fixed fields at their
# exact lengths, authentication bodies, and the Netgear bytes next to an FCS


def mgmt(subtype: int, body: bytes = b"") -> bytes:
    return bytes(Dot11(type=0, subtype=subtype, addr1=A1, addr2=A2, addr3=A3) / Raw(body))


def test_a_management_frame_shorter_than_its_24_byte_header_is_malformed_behind_radiotap() -> None:
    data = bytes(radiotap(mgmt(4)[:20]))
    assert decoded(data, RADIOTAP)[0] == decoder.MALFORMED


def test_a_frame_shorter_than_any_802_11_header_is_malformed_behind_radiotap() -> None:
    # 8 bytes of an ACK: frame control, duration and only part of the receiver.
    ack = bytes(Dot11(type=1, subtype=13, addr1=A1))[:8]
    assert decoded(bytes(radiotap(ack)), RADIOTAP)[0] == decoder.MALFORMED


# Subtype -> a body of exactly its fixed fields (authentication: open system, seq 1).
EXACT_FIXED = {
    "association request": (0, bytes(4)),
    "association response": (1, bytes(6)),
    "reassociation request": (2, bytes(10)),
    "reassociation response": (3, bytes(6)),
    "probe request": (4, b""),
    "probe response": (5, bytes(12)),
    "beacon": (8, bytes(12)),
    "disassociation": (10, b"\x08\x00"),
    "authentication": (11, b"\x00\x00\x01\x00\x00\x00"),
    "deauthentication": (12, b"\x07\x00"),
}


@pytest.mark.parametrize(("subtype", "body"), list(EXACT_FIXED.values()), ids=list(EXACT_FIXED))
def test_a_management_body_of_exactly_its_fixed_fields_is_whole_with_no_elements(
    subtype: int, body: bytes
) -> None:
    data = mgmt(subtype, body)
    result, frame = decoded(data)
    assert result == decoder.DECODED
    assert frame.kind == F.MGMT_KINDS[subtype]
    assert frame.tags == 0
    assert frame.ssid is None
    assert frame.ies == len(data)  # the elements start where the frame ends


@pytest.mark.parametrize(("subtype", "body"), list(EXACT_FIXED.values()), ids=list(EXACT_FIXED))
def test_elements_start_right_after_the_fixed_fields(subtype: int, body: bytes) -> None:
    data = mgmt(subtype, body + bytes([0, 4]) + b"corp")
    result, frame = decoded(data)
    assert result == decoder.DECODED
    assert frame.ies == 24 + len(body)
    assert frame.tags == 0
    # Deauthentication and disassociation bodies hold no elements to read.
    assert frame.ssid == (None if subtype in (10, 12) else b"corp")


def test_a_reassociation_response_gives_its_capability() -> None:
    # Capability ESS + privacy + short slot, status 0, AID 1.
    result, frame = decoded(mgmt(3, b"\x11\x04\x00\x00\x01\xc0"))
    assert result == decoder.DECODED
    assert frame.capability == 0x0411


def test_an_association_request_whose_capability_reads_3_is_walked() -> None:
    # ESS + IBSS bits read as 3, the SAE algorithm number, in a frame that is no auth.
    result, frame = decoded(mgmt(0, b"\x03\x00\x0a\x00" + bytes([0, 4]) + b"corp"))
    assert result == decoder.DECODED
    assert frame.capability == 3
    assert frame.ssid == b"corp"


@pytest.mark.parametrize(
    "body", [b"", b"\x00", b"\x00\x00", b"\x00\x00\x01\x00"], ids=lambda b: f"{len(b)} bytes"
)
def test_an_open_authentication_cut_inside_its_fixed_fields_is_tagged_short(body: bytes) -> None:
    data = mgmt(11, body)
    result, frame = decoded(data)
    assert result == decoder.DECODED
    assert frame.kind == F.AUTH
    assert frame.tags == A.SHORT_BODY
    assert frame.ies == len(data)


def test_an_sae_authentication_of_only_its_algorithm_is_not_tagged_short() -> None:
    # An SAE body is no list of elements, so its length is not checked against one.
    data = mgmt(11, b"\x03\x00")
    result, frame = decoded(data)
    assert result == decoder.DECODED
    assert frame.tags == 0
    assert frame.ies == len(data)


def test_sae_authentication_fields_are_not_walked_as_elements() -> None:
    # Algorithm 3, seq 1, status 0, group 19, then scalar bytes that would read as SSIDs.
    data = mgmt(11, b"\x03\x00\x01\x00\x00\x00\x13\x00" + bytes([0, 4]) + b"corp")
    result, frame = decoded(data)
    assert result == decoder.DECODED
    assert frame.ssid is None
    assert frame.ies == len(data)


def test_an_action_frame_has_no_elements_after_its_header() -> None:
    data = action(b"\x03\x00" + bytes([0, 4]) + b"corp")  # a block ack action
    result, frame = decoded(data)
    assert result == decoder.DECODED
    assert frame.ies == len(data)


def test_a_management_frame_after_a_wds_frame_has_no_fourth_address() -> None:
    # The engine decodes every frame into one Frame: the WDS address must not linger.
    frame = Frame()
    wds = Dot11(type=2, subtype=0, FCfield="to_DS+from_DS", addr1=A1, addr2=A2, addr3=A3, addr4=A4)
    assert decoder.decode(frame, IEEE802_11, bytes(wds)) == decoder.DECODED
    assert frame.addr4 == mac(A4)
    assert decoder.decode(frame, IEEE802_11, mgmt(8, bytes(12))) == decoder.DECODED
    assert frame.addr4 == b""


def test_a_control_frame_after_a_wds_frame_has_no_third_or_fourth_address() -> None:
    # An RTS carries two addresses: the WDS frame's third and fourth must not linger.
    frame = Frame()
    wds = Dot11(type=2, subtype=0, FCfield="to_DS+from_DS", addr1=A1, addr2=A2, addr3=A3, addr4=A4)
    assert decoder.decode(frame, IEEE802_11, bytes(wds)) == decoder.DECODED
    assert (frame.addr3, frame.addr4) == (mac(A3), mac(A4))
    rts = Dot11(type=1, subtype=11, addr1=A1, addr2=A2)
    assert decoder.decode(frame, IEEE802_11, bytes(rts)) == decoder.DECODED
    assert (frame.addr2, frame.addr3, frame.addr4) == (mac(A2), b"", b"")


@pytest.mark.parametrize("length", [1182, 1183], ids=["2 bytes short", "1 byte short"])
def test_netgear_bytes_reaching_into_the_fcs_are_not_a_netgear_beacon(length: int) -> None:
    # The beacon stops before byte 1184, but its FCS follows with the bytes that
    # would complete 6a 39 58 01 at the Netgear offset.
    head = mgmt(8, bytes(12))
    beacon_bytes = bytearray(head + bytes(length - len(head)))
    netgear = b"\x6a\x39\x58\x01"
    cut = length - header.NETGEAR_OFFSET
    beacon_bytes[header.NETGEAR_OFFSET :] = netgear[:cut]
    data = behind_radiotap(bytes(beacon_bytes) + netgear[cut:] + bytes(cut), 0x10)
    result, frame = decoded(data, RADIOTAP)
    assert result == decoder.DECODED
    assert frame.end - frame.start == length
    assert frame.tags & A.NETGEAR_BEACON == 0
