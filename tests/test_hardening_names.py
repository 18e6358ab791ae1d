"""Alert names are ASCII as given: a non-ASCII letter that upper-cases to ASCII ('ſ' to
'S', 'ı' to 'I', 'ﬃ' to 'FFI', 'ß' to 'SS') must not become a name (issue 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kisalert.definition import canonical_name, valid_name
from tests.http.helpers import define_fast, definition, definitions, mine
from tests.server import BASE_CONFIG, Server

# (name as sent, what str.upper makes of it)
TRICKS = [
    ("ſsid_h9", "SSID_H9"),
    ("ıd_h9", "ID_H9"),
    ("ﬃ_h9", "FFI_H9"),
    ("stra\u00dfe_h9", "STRASSE_H9"),
]
# The Kelvin sign is upper case already (it lower-cases to ASCII 'k').
KELVIN = "\u212aey_h9"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("hardening-names")) as server:
        yield server


@pytest.mark.parametrize(("name", "upper"), TRICKS)
def test_a_name_that_only_upper_cases_to_ascii_is_not_a_name(name: str, upper: str) -> None:
    assert not valid_name(name)
    assert canonical_name(name) is None


def test_the_kelvin_sign_is_not_a_letter_of_a_name(srv: Server) -> None:
    assert canonical_name(KELVIN) is None
    response = srv.define(KELVIN)
    assert response.status_code == 400, response.text
    assert not [
        d
        for d in definitions(srv)
        if d["kismet.alert.definition.header"].upper() in ("KEY_H9", KELVIN.upper())
    ]


def test_an_ascii_name_is_kept_upper_case() -> None:
    assert canonical_name("ssid_h9") == "SSID_H9"
    assert canonical_name("a.b-c_9") == "A.B-C_9"
    assert canonical_name("x" * 65) is None
    assert canonical_name("") is None


@pytest.mark.parametrize(("name", "upper"), TRICKS)
def test_define_refuses_a_non_ascii_name(srv: Server, name: str, upper: str) -> None:
    response = srv.define(name)
    assert response.status_code == 400, response.text
    assert response.text.endswith("\n") and response.text.count("\n") == 1
    assert definition(srv, upper) is None


@pytest.mark.parametrize(("name", "upper"), TRICKS)
def test_raise_does_not_reach_an_ascii_definition(srv: Server, name: str, upper: str) -> None:
    real, trick = upper + "_R", name + "_r"
    define_fast(srv, real)
    response = srv.raise_alert(trick, "should not be raised")
    assert response.status_code == 400, response.text
    assert response.text.startswith(f"Invalid request:  Unknown alert type '{trick}'; ")
    assert mine(srv, real) == []


@pytest.mark.parametrize(
    "line",
    ["alert=ſsid_h9,10/min,1/sec", "load_alert=ſsid_h9:hello", "load_alert=ﬃ:hello"],
)
def test_config_refuses_a_non_ascii_name(tmp_path: Path, line: str) -> None:
    with pytest.raises(RuntimeError, match="server exited") as failed:
        Server(tmp_path, BASE_CONFIG + line + "\n").stop()
    assert line.split("=")[0] in str(failed.value)
