"""DHCP option parsing at the edges: no options, no END option, options ending at the
frame's end, a single pad, an over-long hardware address."""

from __future__ import annotations

from scapy.utils import mac2str

from kisalert.wids.dot11 import dhcp as D
from tests.wids.eapol_dhcp_frames import dhcp_message
from tests.wids.frames import STA

IP_UDP = 2 + 20 + 8  # ethertype, IPv4 header, UDP header: where the DHCP message starts
FIXED = IP_UDP + 240  # through the magic cookie


def with_raw_options(options: bytes) -> bytes:
    """A request whose options are exactly `options` (no END unless given) to the frame end."""
    return dhcp_message([])[:FIXED] + options


def parse_all(buf: bytes) -> D.Dhcp | None:
    return D.parse(buf, IP_UDP, len(buf))


def test_a_message_without_options_parses_with_no_message_type() -> None:
    message = parse_all(with_raw_options(b""))
    assert message is not None
    assert message.op == D.BOOTREQUEST
    assert message.chaddr == mac2str(STA)
    assert message.message_type == 0
    assert message.lease_time == -1


def test_options_without_a_message_type_leave_it_unknown() -> None:
    buf = dhcp_message([("hostname", b"laptop")])
    message = parse_all(buf)
    assert message is not None
    assert message.hostname == b"laptop"
    assert message.message_type == 0


def test_the_last_option_may_end_exactly_at_the_frame_end_without_an_end_option() -> None:
    message = parse_all(with_raw_options(b"\x35\x01\x03\x0c\x06laptop"))
    assert message is not None
    assert message.message_type == D.REQUEST
    assert message.hostname == b"laptop"


def test_an_empty_option_at_the_frame_end_is_kept() -> None:
    message = parse_all(with_raw_options(b"\x35\x01\x01\x0c\x00"))
    assert message is not None
    assert message.message_type == D.DISCOVER
    assert message.hostname == b""


def test_a_lone_option_code_at_the_frame_end_is_ignored() -> None:
    message = parse_all(with_raw_options(b"\x35\x01\x03\x0c"))
    assert message is not None
    assert message.message_type == D.REQUEST
    assert message.hostname is None


def test_a_single_pad_before_an_option() -> None:
    message = parse_all(with_raw_options(b"\x00\x35\x01\x03\xff"))
    assert message is not None
    assert message.message_type == D.REQUEST


def test_hardware_address_length_is_capped_at_the_16_byte_chaddr_field() -> None:
    buf = bytearray(with_raw_options(b"\x35\x01\x01\xff"))
    buf[IP_UDP + 2] = 17  # hlen larger than the field
    buf[IP_UDP + 28 + 16] = 0xAA  # first byte after chaddr (sname)
    message = parse_all(bytes(buf))
    assert message is not None
    assert len(message.chaddr) == 16
    assert message.chaddr[:6] == mac2str(STA)
