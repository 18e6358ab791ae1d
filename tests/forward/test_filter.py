"""An output's filter: every option given must pass; a list passes on any entry."""

from __future__ import annotations

from typing import Any

import pytest

from kisalert.forward.base import SpecError
from kisalert.forward.filter import OutputFilter
from kisalert.phy import PHY_ANY
from tests.forward.alerts import make_alert


def passes(options: dict[str, str], **alert: Any) -> bool:
    return OutputFilter.parse(options).passes(make_alert(**alert))


def test_no_option_passes_everything() -> None:
    assert passes({}, severity=0)


@pytest.mark.parametrize("given", ["10", "MEDIUM", "medium", " Medium "])
def test_min_severity_by_number_or_name(given: str) -> None:
    assert OutputFilter.parse({"min_severity": given}).min_severity == 10
    assert passes({"min_severity": given}, severity=10)
    assert passes({"min_severity": given}, severity=20)
    assert not passes({"min_severity": given}, severity=5)


def test_headers_any_of_case_insensitive() -> None:
    options = {"headers": "rogueap|DEAUTHFLOOD"}
    assert passes(options, header="ROGUEAP")
    assert passes(options, header="DEAUTHFLOOD")
    assert not passes(options, header="ROGUEAPX")


def test_classes() -> None:
    assert passes({"classes": "spoof|DENIAL"}, klass="SPOOF")
    assert not passes({"classes": "DENIAL"}, klass="SPOOF")


def test_phys_by_name_and_any() -> None:
    assert passes({"phys": "ieee802.11"}, phy=0)
    assert passes({"phys": "Bluetooth|IEEE802.11"}, phy=0)
    assert not passes({"phys": "Bluetooth"}, phy=0)
    assert passes({"phys": "any"}, phy=PHY_ANY)
    assert not passes({"phys": "IEEE802.11"}, phy=PHY_ANY)


def test_text_is_an_re2_pattern_searched_in_the_text() -> None:
    assert passes({"text": r"corp\b"}, text="ssid corp seen")
    assert not passes({"text": "^corp"}, text="ssid corp seen")


def test_every_option_must_pass() -> None:
    options = {"min_severity": "HIGH", "headers": "ROGUEAP", "text": "corp"}
    assert passes(options, severity=15, header="ROGUEAP", text="corp")
    assert not passes(options, severity=10, header="ROGUEAP", text="corp")
    assert not passes(options, severity=15, header="OTHER", text="corp")
    assert not passes(options, severity=15, header="ROGUEAP", text="home")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"min_severity": "-1"}, "min_severity needs a number or one of INFO, LOW"),
        ({"classes": " | "}, "classes needs one or more names"),
        ({"phys": ""}, "phys needs one or more phy names"),
        ({"text": "x" * 1025}, "text= may be at most 1024 characters"),
        ({"text": r"\pL{1000}"}, "pattern too large"),
    ],
)
def test_bad_options(options: dict[str, str], problem: str) -> None:
    with pytest.raises(SpecError, match=problem.replace("|", r"\|")):
        OutputFilter.parse(options)
