"""MAC addresses (model.md, "MAC addresses"): what clients may send and the output form."""

from __future__ import annotations

import pytest

from kisalert.mac import ZERO_MAC, MacError, MacMask, parse_mac


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:11:22:33:44:55", "00:11:22:33:44:55"),
        ("0:11:22:3:44:55", "00:11:22:03:44:55"),
        ("0:1:2:3:4:5", "00:01:02:03:04:05"),
        ("00-11-22-33-44-55", "00:11:22:33:44:55"),
        ("0-11-22-3-44-55", "00:11:22:03:44:55"),
        ("001122334455", "00:11:22:33:44:55"),
        ("aabbccddeeff", "AA:BB:CC:DD:EE:FF"),
        ("aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF"),
        ("Aa:bB:Cc:dD:eE:Ff", "AA:BB:CC:DD:EE:FF"),
        ("aa-BB-cc-DD-ee-FF", "AA:BB:CC:DD:EE:FF"),
        ("ff:ff:ff:ff:ff:ff", "FF:FF:FF:FF:FF:FF"),
        ("  aa:bb:cc:dd:ee:ff  ", "AA:BB:CC:DD:EE:FF"),
        ("\taabbccddeeff\n", "AA:BB:CC:DD:EE:FF"),
        (" 0-1-2-3-4-5 ", "00:01:02:03:04:05"),
    ],
)
def test_accepted_forms_normalise_to_output_form(text: str, expected: str) -> None:
    assert parse_mac(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_means_unset(text: str) -> None:
    assert parse_mac(text) == ZERO_MAC == "00:00:00:00:00:00"


@pytest.mark.parametrize(
    "text",
    [
        # wrong number of groups
        "00:11:22:33:44",
        "00:11:22:33:44:55:66",
        "00-11-22-33-44",
        "00-11-22-33-44-55-66",
        "00:11:22:33:44:55:",
        ":00:11:22:33:44:55",
        # empty or over-long groups
        "00::22:33:44:55",
        "000:11:22:33:44:55",
        "00:11:22:33:44:555",
        "00-111-22-33-44-55",
        # mixed separators
        "00:11-22:33:44:55",
        "00-11:22-33-44-55",
        "00:11:22-33-44-55",
        # non-hex
        "gg:11:22:33:44:55",
        "00:11:22:33:44:5z",
        "0x:11:22:33:44:55",
        "00 11 22 33 44 55",
        "00.11.22.33.44.55",
        "00: 11:22:33:44:55",
        "+0:11:22:33:44:55",
        # bare hex of the wrong length or content
        "00112233445",
        "0011223344556",
        "00112233445g",
        "0011 2233 4455",
        # 1-8 byte addresses Kismet accepts
        "00:11",
        "00:11:22:33:44:55:66:77",
        "0011223344556677",
        # plain garbage
        "hello",
        "-",
        ":",
        "::::::",
        "-----",
        "１１:22:33:44:55:66",
    ],
)
def test_garbage_is_rejected(text: str) -> None:
    with pytest.raises(MacError):
        parse_mac(text)


def test_mac_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_mac("not a mac")


def test_mask_matches_every_address_with_equal_masked_bits() -> None:
    oui = MacMask.parse("00:11:22:00:00:00/FF:FF:FF:00:00:00")
    assert oui.matches("00:11:22:00:00:00")
    assert oui.matches("00:11:22:33:44:55")
    assert oui.matches("00:11:22:FF:FF:FF")
    assert not oui.matches("00:11:23:00:00:00")
    assert not oui.matches("01:11:22:33:44:55")
    assert not oui.matches("FF:FF:FF:FF:FF:FF")


def test_mask_ignores_value_bits_outside_the_mask() -> None:
    oui = MacMask.parse("00:11:22:33:44:55/FF:FF:FF:00:00:00")
    assert oui.matches("00:11:22:00:00:00")
    assert oui.matches("00:11:22:AA:BB:CC")
    assert not oui.matches("00:11:99:33:44:55")


def test_partial_byte_mask() -> None:
    mask = MacMask.parse("00:11:22:33:44:50/FF:FF:FF:FF:FF:F0")
    assert mask.matches("00:11:22:33:44:50")
    assert mask.matches("00:11:22:33:44:5F")
    assert not mask.matches("00:11:22:33:44:60")
    assert not mask.matches("00:11:22:33:44:4F")


def test_without_mask_only_the_exact_address_matches() -> None:
    exact = MacMask.parse("aa:bb:cc:dd:ee:ff")
    assert exact.matches("AA:BB:CC:DD:EE:FF")
    assert not exact.matches("AA:BB:CC:DD:EE:FE")
    assert not exact.matches("00:00:00:00:00:00")


def test_mask_accepts_client_forms_and_whitespace() -> None:
    mask = MacMask.parse(" 0:11:22:0:0:0/ff-ff-ff-0-0-0 ")
    assert mask == MacMask.parse("00:11:22:00:00:00/FF:FF:FF:00:00:00")
    assert mask.matches("00:11:22:01:02:03")


def test_all_zero_mask_matches_everything() -> None:
    anything = MacMask.parse("12:34:56:78:9A:BC/00:00:00:00:00:00")
    assert anything.matches("00:00:00:00:00:00")
    assert anything.matches("FF:FF:FF:FF:FF:FF")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "/FF:FF:FF:00:00:00",
        "00:11:22:00:00/FF:FF:FF:00:00:00",
        "00:11:22:00:00:00/FF:FF:FF:00:00",
        "00:11:22:00:00:00/nonsense",
        "zz:11:22:00:00:00",
    ],
)
def test_bad_masked_mac_is_rejected(text: str) -> None:
    with pytest.raises(MacError):
        MacMask.parse(text)
