"""The DHCP parser, on messages built with scapy."""

from __future__ import annotations

from typing import Any

from scapy.utils import mac2str

from kisalert.wids.dot11 import dhcp as D
from tests.wids.eapol_dhcp_frames import dhcp_message
from tests.wids.frames import STA, STA2

IP_UDP = 2 + 20 + 8  # ethertype, IPv4 header, UDP header: where the DHCP message starts


def parse(options: list[Any], **fields: Any) -> D.Dhcp | None:
    buf = dhcp_message(options, **fields)
    return D.parse(buf, IP_UDP, len(buf))


def test_parse_a_discover() -> None:
    message = parse(
        [
            ("message-type", "discover"),
            ("client_id", b"\x01" + mac2str(STA2)),
            ("hostname", b"laptop"),
            ("vendor_class_id", b"MSFT 5.0"),
        ]
    )
    assert message is not None
    assert message.op == D.BOOTREQUEST
    assert message.message_type == D.DISCOVER
    assert message.chaddr == mac2str(STA)
    assert message.hostname == b"laptop"
    assert message.vendor_class == b"MSFT 5.0"
    assert message.client_id_mac == mac2str(STA2)
    assert message.lease_time == -1


def test_parse_an_ack() -> None:
    message = parse([("message-type", "ack"), ("lease_time", 7200)], reply=True, yiaddr="10.0.0.5")
    assert message is not None
    assert message.op == D.BOOTREPLY
    assert message.message_type == D.ACK
    assert message.yiaddr == bytes((10, 0, 0, 5))
    assert message.lease_time == 7200
    assert message.hostname is None and message.client_id is None


def test_client_id_mac_only_for_ethernet_client_ids() -> None:
    duid = b"\xff\x00\x00\x00\x01\x00\x03\x00\x01" + mac2str(STA2)
    for client_id in (duid, b"\x01" + mac2str(STA2)[:5], b"\x06" + mac2str(STA2), b"name"):
        message = parse([("message-type", "discover"), ("client_id", client_id)])
        assert message is not None and message.client_id == client_id
        assert message.client_id_mac is None


def test_pads_are_skipped_and_the_end_stops() -> None:
    message = parse(["pad", "pad", ("message-type", "request"), "end", ("hostname", b"x")])
    assert message is not None
    assert message.message_type == D.REQUEST
    assert message.hostname is None


def test_an_option_running_past_the_frame_is_dropped() -> None:
    buf = dhcp_message([("message-type", "request"), ("hostname", b"laptop")])
    end = buf.index(b"laptop") + 3  # the host name is cut short
    message = D.parse(buf, IP_UDP, end)
    assert message is not None
    assert message.message_type == D.REQUEST
    assert message.hostname is None


def test_parse_refuses_short_messages_and_a_missing_magic_cookie() -> None:
    buf = dhcp_message([("message-type", "discover")])
    assert D.parse(buf, IP_UDP, IP_UDP + 239) is None
    broken = bytearray(buf)
    broken[IP_UDP + 236] = 0
    assert D.parse(bytes(broken), IP_UDP, len(broken)) is None
