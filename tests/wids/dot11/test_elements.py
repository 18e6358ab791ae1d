"""The element walk: what it fills in, what it tags, and that nothing makes it raise."""

from __future__ import annotations

import random
import struct

import pytest

from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import elements
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.elements import FIXED_LENGTH, walk
from kisalert.wids.dot11.frame import Frame

RSN_BODY = bytes.fromhex("0100 000fac04 0100 000fac04 0200 000fac02 000fac08 8c00")


def elt(eid: int, body: bytes) -> bytes:
    return bytes([eid, len(body)]) + body


def walked(*parts: bytes) -> Frame:
    """A fresh frame after walking `parts` (elements, or any bytes) laid end to end."""
    frame = Frame()
    frame.tags = 0
    buf = b"".join(parts)
    walk(frame, buf, 0, len(buf))
    return frame


def tags(*parts: bytes) -> int:
    return walked(*parts).tags


# What the walk fills in


def test_fills_advertised_values() -> None:
    frame = walked(
        elt(0, b"corp"),
        elt(1, b"\x82\x84"),
        elt(3, b"\x0b"),
        elt(7, b"DE\x20\x01\x0d\x14"),
        elt(48, RSN_BODY),
    )
    assert frame.ssid == b"corp"
    assert frame.ds_channel == 11
    assert frame.country == b"DE"
    assert frame.crypt == F.CRYPT_RSN | F.CRYPT_CCMP | F.CRYPT_PSK | F.CRYPT_SAE
    assert frame.rsn_caps == 0x008C
    assert frame.tags == 0


def test_first_ssid_element_wins() -> None:
    assert walked(elt(0, b"one"), elt(0, b"two")).ssid == b"one"


def test_absent_values_stay_unset() -> None:
    frame = walked(elt(1, b"\x82"))
    assert frame.ssid is None
    assert (frame.ds_channel, frame.country, frame.crypt, frame.rsn_caps) == (0, b"", 0, -1)


def test_wpa_vendor_element() -> None:
    wpa = bytes.fromhex("0050f201 0100 0050f202 0100 0050f202 0100 0050f202")
    assert walked(elt(221, wpa)).crypt == F.CRYPT_WPA | F.CRYPT_TKIP | F.CRYPT_PSK


def test_rsn_without_capabilities_leaves_them_unset() -> None:
    frame = walked(elt(48, RSN_BODY[:-2]))
    assert frame.crypt & F.CRYPT_RSN
    assert frame.rsn_caps == -1


def test_unknown_akm_counts_as_other() -> None:
    body = bytes.fromhex("0100 000fac04 0100 000fac04 0100 000fac63 0000")
    assert walked(elt(48, body)).crypt & F.CRYPT_OTHER_AKM


# The element structure: overruns


def test_elements_exactly_filling_the_buffer() -> None:
    assert tags(elt(0, b"corp"), elt(221, b"\x02\x00\x00\x01")) == 0
    assert tags(b"") == 0


def test_element_running_past_the_end() -> None:
    frame = walked(elt(0, b"corp"), bytes([221, 10]) + b"\x02\x00\x00")
    assert frame.tags == A.OVERRUN
    assert frame.ssid == b"corp"  # what came before still counts


def test_one_stray_byte_after_the_last_element() -> None:
    assert tags(elt(0, b"corp"), b"\xdd") == A.OVERRUN


def test_element_header_with_nothing_after_it() -> None:
    assert tags(elt(0, b"corp"), b"\xdd\x00") == 0  # a zero-length element is whole
    assert tags(elt(0, b"corp"), b"\xdd\x01") == A.OVERRUN


def test_walk_respects_its_bounds() -> None:
    # Bytes outside [pos, end) are not looked at: a frame's FCS or capture header.
    buf = b"\xff\xff" + elt(0, b"corp") + b"\xde\xad\xbe\xef"
    frame = Frame()
    frame.tags = 0
    walk(frame, buf, 2, 2 + 6)
    assert frame.ssid == b"corp"
    assert frame.tags == 0


# Tags, at their boundaries


def test_ssid_lengths() -> None:
    assert tags(elt(0, b"A" * 33)) == A.LONG_SSID
    assert tags(elt(0, b"A" * 32)) == 0
    assert tags(elt(0, b"")) == A.EMPTY_SSID


@pytest.mark.parametrize("ssid", [b"%s", b"x%nx", b"%p", b"%@"])
def test_format_string_ssid(ssid: bytes) -> None:
    assert tags(elt(0, ssid)) == A.FORMAT_SSID


def test_percent_alone_is_no_format_string() -> None:
    assert tags(elt(0, b"100% wifi")) == 0


def test_dlink_rates() -> None:
    assert tags(elt(1, b"\x82\x75\xeb\x49")) == A.DLINK_RATES
    assert tags(elt(50, b"\x75\xeb\x49")) == A.DLINK_RATES
    assert tags(elt(1, b"\x82\x75\xeb")) == 0
    # The bytes straddling two elements are in neither.
    assert tags(elt(1, b"\x82\x75"), elt(50, b"\xeb\x49")) == 0
    assert tags(elt(221, b"\x75\xeb\x49\x00")) == 0


def wmm(subtype: int, size: int) -> bytes:
    return elt(221, b"\x00\x50\xf2\x02" + bytes([subtype, 1]) + bytes(size - 6))


def test_wmm_lengths() -> None:
    assert tags(wmm(1, 25)) == A.WMM_OVERFLOW
    assert tags(wmm(0, 25)) == A.WMM_OVERFLOW
    assert tags(wmm(1, 24)) == 0
    assert tags(wmm(0, 7)) == 0
    assert tags(wmm(2, 61)) == 0  # a TSPEC
    assert tags(wmm(3, 61)) == 0


def test_tspecs_are_counted_across_elements() -> None:
    assert tags(*[wmm(2, 61)] * 5) == A.WMM_TSPEC_MANY
    assert tags(*[wmm(2, 61)] * 4) == 0
    assert tags(*[wmm(2, 61)] * 4, elt(0, b"x"), wmm(2, 61)) == A.WMM_TSPEC_MANY


def rsn(count: int, suites: int, tail: bytes = b"") -> bytes:
    body = b"\x01\x00\x00\x0f\xac\x04" + struct.pack("<H", count)
    return elt(48, body + b"\x00\x0f\xac\x04" * suites + tail)


def test_rsn_pairwise_count() -> None:
    assert tags(rsn(1025, 2)) == A.RSN_LOOP
    assert tags(rsn(3, 2)) == A.RSN_LOOP  # the list overruns the element
    assert tags(rsn(1024, 2)) == A.RSN_LOOP  # ... as any count above 61 must
    assert tags(rsn(61, 61)) == 0
    assert tags(rsn(2, 2)) == 0
    assert tags(rsn(0, 0)) == 0


def test_rsn_short_akm_list_is_no_loop() -> None:
    # Only the pairwise list counts for RSNLOOP.
    assert tags(rsn(1, 1, b"\x09\x00\x00\x0f\xac\x02")) == 0


def test_rsn_parse_is_memoised_and_bounded() -> None:
    elements._rsn_seen.clear()
    for index in range(elements._RSN_SEEN_MAX + 10):
        walked(rsn(1, 1, b"\x01\x00\x00\x0f\xac\x02" + struct.pack("<H", index)))
        assert len(elements._rsn_seen) <= elements._RSN_SEEN_MAX
    # A remembered element gives the same answer as a fresh parse.
    first, again = walked(elt(48, RSN_BODY)), walked(elt(48, RSN_BODY))
    assert (first.crypt, first.rsn_caps, first.tags) == (again.crypt, again.rsn_caps, again.tags)
    loop = rsn(1025, 2)
    assert tags(loop) == tags(loop) == A.RSN_LOOP


def test_extended_capabilities_length() -> None:
    assert tags(elt(127, bytes(14))) == A.EXTCAP_LONG
    assert tags(elt(127, bytes(13))) == 0


@pytest.mark.parametrize(("eid", "length"), sorted(FIXED_LENGTH.items()))
def test_fixed_length_elements(eid: int, length: int) -> None:
    assert tags(elt(eid, bytes(length))) == 0
    assert tags(elt(eid, bytes(length + 1))) == A.BAD_FIXED_LEN
    assert tags(elt(eid, bytes(length - 1))) == A.BAD_FIXED_LEN


def test_variable_length_elements_are_not_checked() -> None:
    assert tags(elt(5, bytes(7)), elt(11, bytes(5)), elt(70, bytes(5)), elt(255, bytes(30))) == 0


def p2p(*attributes: tuple[int, int]) -> bytes:
    body = b"\x50\x6f\x9a\x09"
    for attr, length in attributes:
        body += bytes([attr]) + struct.pack("<H", length) + bytes(length)
    return elt(221, body)


def test_p2p_notice_of_absence_length() -> None:
    assert tags(p2p((12, 29))) == A.P2P_NOA_LONG
    assert tags(p2p((12, 28))) == 0
    assert tags(p2p((2, 2), (13, 5), (12, 29))) == A.P2P_NOA_LONG  # after other attributes
    assert tags(p2p((2, 40))) == 0  # another attribute may be long


def test_p2p_attribute_overrunning_its_element_is_contained() -> None:
    body = b"\x50\x6f\x9a\x09" + b"\x02" + struct.pack("<H", 200) + b"\x00\x00"
    assert tags(elt(221, body), elt(0, b"corp")) == 0


def neighbor(channel: int, length: int = 13) -> bytes:
    body = bytes.fromhex("020000000009") + b"\x8f\x00\x00\x00" + bytes([115, channel, 9])
    return elt(52, body[:length])


def test_neighbor_report_channel() -> None:
    assert tags(neighbor(225)) == A.NEIGHBOR_CHANNEL
    assert tags(neighbor(224)) == 0
    assert tags(neighbor(36)) == 0
    assert tags(neighbor(225, length=12)) == A.NEIGHBOR_CHANNEL  # the channel byte is in
    assert tags(neighbor(225, length=11)) == 0  # too short to hold a channel


# Robustness


def test_random_bytes_never_raise() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        buf = rng.randbytes(rng.randrange(0, 300))
        frame = Frame()
        frame.tags = 0
        walk(frame, buf, 0, len(buf))
        assert frame.tags & ~sum(1 << bit for bit in range(15)) == 0


def test_random_elements_never_raise() -> None:
    # Well-framed elements of the IDs the walk looks into, with random bodies.
    rng = random.Random(12)
    ids = [0, 1, 3, 7, 48, 50, 52, 127, 221, *FIXED_LENGTH]
    ouis = [b"\x00\x50\xf2\x01", b"\x00\x50\xf2\x02", b"\x50\x6f\x9a\x09", b""]
    for _ in range(3000):
        parts = []
        for _ in range(rng.randrange(1, 6)):
            eid = rng.choice(ids)
            body = rng.randbytes(rng.randrange(0, 60))
            if eid == 221:
                body = (rng.choice(ouis) + body)[:255]
            parts.append(elt(eid, body))
        walked(*parts)
