"""SSIDs with control characters show in alert text as readable escapes, and no SSID
can pass for another's escapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kisalert.wids.detectors.base import ssid_text
from tests.wids.frames import AP, beacon, only, replay, write_pcap


def test_ssid_control_characters_are_escaped_and_the_rest_kept(tmp_path: Path) -> None:
    # \x01 is a control character; \xff is no UTF-8 and already arrives as an escape.
    capture = write_pcap(tmp_path / "ssid.pcap", [beacon(ssid=b"honeypot\x01\xffok")])
    [alert] = only(replay(capture, 'ssidcanary=honey:ssid="^honeypot"\n'), "SSIDCANARY")
    assert alert["kismet.alert.text"] == (
        f"Beacon from BSSID {AP.upper()} names canary SSID 'honeypot\\x01\\xffok' "
        "of ssidcanary rule 'honey'"
    )


@pytest.mark.parametrize(
    ("ssid", "shown"),
    [
        (b"corp\xff", "corp\\xff"),  # not UTF-8
        (b"corp\\xff", "corp\\\\xff"),  # the text itself: its backslash doubled
        ("corp\u202e".encode(), "corp\\u202e"),  # right-to-left override
        ("caf\u00e9 \u2603".encode(), "caf\u00e9 \u2603"),  # printable: as it is
        (b"a\x00\x1b[2J", "a\\x00\\x1b[2J"),
        ("\u0080".encode(), "\\u0080"),  # a C1 control, not the byte 0x80
        (b"\x80", "\\x80"),
        ("\U000e0001".encode(), "\\U000e0001"),  # a tag character, unprintable
    ],
)
def test_ssid_text(ssid: bytes, shown: str) -> None:
    assert ssid_text(ssid) == shown


@given(st.binary(max_size=12), st.binary(max_size=12))
def test_two_ssids_never_show_as_the_same_text(one: bytes, other: bytes) -> None:
    if one != other:
        assert ssid_text(one) != ssid_text(other)
    assert ssid_text(one).isprintable()
