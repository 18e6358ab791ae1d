"""Element-walk boundaries the tests in test_elements.py do not reach: RSN and WPA suite
lists cut at each point, WMM and P2P vendor elements at their edges, and vendor tags
that must add to, not replace, what the frame already carries."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import elements
from kisalert.wids.dot11 import frame as F
from tests.wids.dot11.test_elements import RSN_BODY, elt, tags, walked, wmm


@pytest.fixture(autouse=True)
def _fresh_rsn_parses() -> Iterator[None]:
    # The RSN memo outlives a test: mutmut forks each mutant's run from a process
    # whose memo already holds the unmutated parse of these very bytes.
    elements._rsn_seen.clear()
    yield
    elements._rsn_seen.clear()


RSN_HEAD = b"\x01\x00\x00\x0f\xac\x04"  # version 1, group cipher CCMP


def suites(*types: int, oui: bytes = b"\x00\x0f\xac") -> bytes:
    return struct.pack("<H", len(types)) + b"".join(oui + bytes([t]) for t in types)


def wpa(body: bytes) -> bytes:
    return elt(221, b"\x00\x50\xf2\x01" + body)


WPA_HEAD = b"\x01\x00\x00\x50\xf2\x02"  # version 1, multicast cipher TKIP

# RSN


def test_rsn_reports_every_pairwise_cipher_and_akm_with_the_capabilities() -> None:
    frame = walked(elt(0, b"corp"), elt(48, RSN_BODY))  # not at the buffer's start
    assert frame.crypt == F.CRYPT_RSN | F.CRYPT_CCMP | F.CRYPT_PSK | F.CRYPT_SAE
    assert frame.rsn_caps == 0x008C
    body = RSN_HEAD + suites(2, 4) + suites(1) + b"\x01\x02"
    frame = walked(elt(48, body))
    assert frame.crypt == F.CRYPT_RSN | F.CRYPT_TKIP | F.CRYPT_CCMP | F.CRYPT_8021X
    assert frame.rsn_caps == 0x0201


def test_rsn_unknown_pairwise_cipher_adds_nothing() -> None:
    # Only an unknown AKM counts as other-AKM; an unknown cipher is simply not named.
    frame = walked(elt(48, RSN_HEAD + suites(0x63) + suites(2)))
    assert frame.crypt == F.CRYPT_RSN | F.CRYPT_PSK


def test_rsn_bytes_after_the_akm_list_are_not_an_akm() -> None:
    # Capabilities 0x0f00 then two more bytes read, with them, like a SAE suite.
    frame = walked(elt(48, RSN_HEAD + suites(4) + suites(2) + b"\x00\x0f\xac\x08"))
    assert frame.crypt == F.CRYPT_RSN | F.CRYPT_CCMP | F.CRYPT_PSK
    assert frame.rsn_caps == 0x0F00


def test_rsn_body_of_eight_bytes_with_a_pairwise_count_overruns() -> None:
    assert tags(elt(48, RSN_HEAD + struct.pack("<H", 1))) == A.RSN_LOOP
    assert tags(elt(48, RSN_HEAD + struct.pack("<H", 0))) == 0


def test_rsn_too_short_for_a_pairwise_count_is_plain_rsn() -> None:
    frame = walked(elt(48, RSN_HEAD + b"\x00"))
    assert frame.crypt == F.CRYPT_RSN
    assert frame.rsn_caps == -1
    assert frame.tags == 0


@pytest.mark.parametrize(
    "body",
    [
        RSN_HEAD + struct.pack("<H", 1025) + bytes(8),  # huge pairwise count
        RSN_HEAD + suites(4, 4, 4)[:-4],  # pairwise list overruns
    ],
)
def test_rsn_loop_leaves_capabilities_unset(body: bytes) -> None:
    frame = walked(elt(48, body))
    assert frame.tags == A.RSN_LOOP
    assert frame.rsn_caps == -1


@pytest.mark.parametrize(
    "body",
    [
        RSN_HEAD + suites(4),  # no AKM list
        RSN_HEAD + suites(4) + b"\x01",  # one byte of an AKM count
        RSN_HEAD + suites(4) + suites(2, 2)[:-4],  # AKM list overruns
        RSN_HEAD + suites(4) + suites(2) + b"\x01",  # one byte of capabilities
    ],
)
def test_rsn_cut_before_its_capabilities_leaves_them_unset(body: bytes) -> None:
    # Each cut is the last bytes of the buffer: nothing after them may be read.
    frame = walked(elt(48, body))
    assert frame.crypt & F.CRYPT_CCMP
    assert frame.rsn_caps == -1
    assert frame.tags == 0
    assert walked(elt(48, body), elt(0, b"corp")).rsn_caps == -1


# WPA (Microsoft vendor element)


def test_wpa_element_of_only_oui_and_type_is_wpa() -> None:
    assert walked(wpa(b"")).crypt == F.CRYPT_WPA


def test_wpa_keeps_the_crypt_of_an_earlier_rsn_element() -> None:
    frame = walked(elt(48, RSN_BODY), wpa(WPA_HEAD + suites(2, oui=b"\x00\x50\xf2")))
    assert frame.crypt == (
        F.CRYPT_RSN | F.CRYPT_CCMP | F.CRYPT_PSK | F.CRYPT_SAE | F.CRYPT_WPA | F.CRYPT_TKIP
    )


@pytest.mark.parametrize(
    "tail",
    [b"", b"\x01", suites(2, 2, oui=b"\x00\x50\xf2")[:-4]],
    ids=["no-akm-list", "one-count-byte", "akm-list-overruns"],
)
def test_wpa_without_a_whole_akm_list_is_wpa_and_its_ciphers(tail: bytes) -> None:
    body = WPA_HEAD + suites(2, oui=b"\x00\x50\xf2") + tail
    assert walked(wpa(body)).crypt == F.CRYPT_WPA | F.CRYPT_TKIP


@pytest.mark.parametrize("cut", range(0, 8))
def test_wpa_cut_inside_its_fixed_fields_is_only_wpa(cut: int) -> None:
    # The element is the last thing in the buffer: nothing after it may be read.
    assert walked(wpa((WPA_HEAD + b"\x01\x00")[:cut])).crypt == F.CRYPT_WPA


# WMM


def test_five_byte_tspec_elements_are_counted() -> None:
    tspec = elt(221, b"\x00\x50\xf2\x02\x02")
    assert tags(*[tspec] * 5) == A.WMM_TSPEC_MANY
    assert tags(*[tspec] * 4) == 0


def test_vendor_tags_add_up() -> None:
    tspecs = [wmm(2, 61)] * 5
    p2p_long = elt(221, b"\x50\x6f\x9a\x09\x0c" + struct.pack("<H", 29) + bytes(29))
    assert tags(wmm(1, 25), *tspecs) == A.WMM_OVERFLOW | A.WMM_TSPEC_MANY
    assert tags(p2p_long, wmm(1, 25)) == A.P2P_NOA_LONG | A.WMM_OVERFLOW
    assert tags(wmm(1, 25), p2p_long) == A.WMM_OVERFLOW | A.P2P_NOA_LONG
    # The tspec count goes on after a P2P element that stopped at a long attribute.
    assert tags(p2p_long, *tspecs) == A.P2P_NOA_LONG | A.WMM_TSPEC_MANY


def test_walk_keeps_tags_the_frame_already_had() -> None:
    frame = walked()
    frame.tags = A.SHORT_BODY
    buf = wmm(1, 25) + b"".join([wmm(2, 61)] * 5)
    elements.walk(frame, buf, 0, len(buf))
    assert frame.tags == A.SHORT_BODY | A.WMM_OVERFLOW | A.WMM_TSPEC_MANY


# P2P


def test_long_notice_of_absence_header_at_the_element_end_is_tagged() -> None:
    # The attribute claims 29 bytes and its header is the element's last 3 bytes.
    body = b"\x50\x6f\x9a\x09\x0c" + struct.pack("<H", 29)
    assert tags(elt(221, body)) == A.P2P_NOA_LONG
    assert tags(elt(221, body), elt(0, b"corp")) == A.P2P_NOA_LONG


@pytest.mark.parametrize("head", [b"\x00\x10\x18\x09", b"\x50\x6f\x9a\x0a"])
def test_only_wifi_alliance_p2p_elements_hold_p2p_attributes(head: bytes) -> None:
    # Another vendor's type 9, or another Wi-Fi Alliance type, with the same bytes.
    body = head + b"\x0c" + struct.pack("<H", 29) + bytes(29)
    assert tags(elt(221, body)) == 0


# The walk itself


def test_an_element_the_walk_does_not_know_is_stepped_over() -> None:
    # A challenge text (16) and an element id nobody assigned come before the SSID.
    frame = walked(elt(16, b"challenge"), elt(200, b"?"), elt(0, b"after"), elt(3, b"\x0b"))
    assert (frame.ssid, frame.ds_channel) == (b"after", 11)


def test_an_overrun_keeps_what_the_walk_tagged_before_it() -> None:
    found = tags(elt(0, b""), b"\x30\x20\x01\x00")  # an empty SSID, then an RSN cut short
    assert found == A.EMPTY_SSID | A.OVERRUN


# Every tag adds to the ones found earlier in the same walk

_EMPTY_SSID = (elt(0, b""), A.EMPTY_SSID)
_BAD_ERP = (elt(42, b""), A.BAD_FIXED_LEN)  # an ERP element must be 1 byte


@pytest.mark.parametrize(
    ("first", "later", "later_tag"),
    [
        (_EMPTY_SSID, elt(42, b"\x00\x00"), A.BAD_FIXED_LEN),
        (_EMPTY_SSID, elt(3, b"\x01\x02"), A.BAD_FIXED_LEN),  # a DS element of 2 bytes
        (_EMPTY_SSID, elt(0, b"A" * 33), A.LONG_SSID),  # a second SSID, still checked
        (_BAD_ERP, elt(0, b""), A.EMPTY_SSID),
        (_BAD_ERP, elt(0, b"%s"), A.FORMAT_SSID),
        (_BAD_ERP, elt(1, b"\x82\x75\xeb\x49"), A.DLINK_RATES),
        (_BAD_ERP, elt(127, bytes(14)), A.EXTCAP_LONG),
        (_BAD_ERP, elt(52, bytes(11) + b"\xe1"), A.NEIGHBOR_CHANNEL),  # channel 225
    ],
    ids=["fixed", "ds", "long-ssid", "empty-ssid", "format-ssid", "dlink", "extcap", "neighbor"],
)
def test_a_later_tag_keeps_the_tags_found_before_it(
    first: tuple[bytes, int], later: bytes, later_tag: int
) -> None:
    element, first_tag = first
    assert tags(element, later) == first_tag | later_tag


def test_rsn_keeps_the_crypt_of_an_earlier_wpa_element() -> None:
    frame = walked(wpa(b""), elt(48, RSN_BODY))
    assert frame.crypt == F.CRYPT_WPA | F.CRYPT_RSN | F.CRYPT_CCMP | F.CRYPT_PSK | F.CRYPT_SAE


def test_rsn_capabilities_of_zero_are_reported_as_zero() -> None:
    # No MFP, no PTKSA counters: a plain WPA2 AP's capabilities, not "absent".
    assert walked(elt(48, RSN_HEAD + suites(4) + suites(2) + b"\x00\x00")).rsn_caps == 0


def test_country_element_of_only_its_code_gives_the_country() -> None:
    assert walked(elt(7, b"DE")).country == b"DE"
    assert walked(elt(7, b"D")).country == b""


def test_dlink_bytes_outside_the_rates_element_are_not_dlink_rates() -> None:
    # The payload's bytes as an SSID, then an innocent rates element.
    assert tags(elt(0, b"\x75\xeb\x49"), elt(1, b"\x82\x84")) == 0


def test_a_stray_last_byte_keeps_what_the_walk_tagged_before_it() -> None:
    # An empty SSID, then one byte where the next element's header would start.
    assert tags(elt(0, b""), b"\x01") == A.EMPTY_SSID | A.OVERRUN
    assert tags(elt(0, b"corp"), b"\x01") == A.OVERRUN
