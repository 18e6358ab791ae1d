"""The `fields` key at the exact edges of its bounds, and the texts that regex filters
and view searches see along paths through arrays and maps."""

from __future__ import annotations

from typing import Any

import pytest

from kisalert.errors import InvalidRequest
from kisalert.fields import simplifier
from kisalert.filters import regex_filter
from kisalert.view import search

INVALID = "Invalid request: invalid field specification"


def refusal(spec: object) -> str:
    with pytest.raises(InvalidRequest) as info:
        simplifier(spec)
    return str(info.value)


def long_path(number: int, length: int) -> str:
    """A path of `length` characters whose last part is short: its name costs little."""
    tail = f"/e{number:02}"
    return "z" * (length - len(tail) - 2) + f"{number:02}" + tail


def test_fields_may_be_exactly_16384_characters_in_all() -> None:
    fits = [long_path(n, 1024) for n in range(16)]
    assert simplifier(fits) is not None
    assert refusal([*fits[:15], long_path(15, 1025)]) == (
        f"{INVALID}: fields longer than 16384 characters"
    )


def test_field_names_may_be_exactly_4096_characters_as_json_writes_them() -> None:
    # Each name is 254 characters, 256 with its quotes: 16 of them are 4096.
    fits = [[f"f{n:02}", f"{n:02}" + "n" * 252] for n in range(16)]
    assert simplifier(fits) is not None
    assert refusal([*fits[:15], ["f15", "15" + "n" * 253]]) == (
        f"{INVALID}: field names longer than 4096 characters"
    )


def test_a_one_element_list_is_a_field_without_a_rename() -> None:
    keep = simplifier([["kismet.alert.header"], ["a/b"]])
    assert keep is not None
    record = {"kismet.alert.header": "ROGUEAP", "a": {"b": 7}, "c": 1}
    assert keep(record) == {"kismet.alert.header": "ROGUEAP", "b": 7}


def test_fields_after_an_exact_repeat_are_kept() -> None:
    keep = simplifier(["kismet.alert.header", "kismet.alert.header", "kismet.alert.text"])
    assert keep is not None
    record = {"kismet.alert.header": "ROGUEAP", "kismet.alert.text": "t", "other": 1}
    assert keep(record) == {"kismet.alert.header": "ROGUEAP", "kismet.alert.text": "t"}


def test_a_name_no_answer_could_carry_is_refused() -> None:
    assert refusal([["kismet.alert.text", "\ud800"]]) == INVALID


RECORD: dict[str, Any] = {
    "devices": [
        {"name": "alpha", "tags": ["one", "two"], "rssi": -40},
        {"name": "beta", "tags": ["three"], "rssi": -71},
    ],
    "radio": {"band": "2.4", "frequency": 2412},
}


def keeps(field: str, pattern: str, record: dict[str, Any] = RECORD) -> bool:
    keep = regex_filter([[field, pattern]])
    assert keep is not None
    return keep(record)


def test_a_regex_on_a_path_through_an_array_sees_that_field_of_each_item_only() -> None:
    assert keeps("devices/name", "^beta$")
    assert not keeps("devices/name", "^one$")  # a tag of the same item
    assert not keeps("devices/rssi", "40")  # numbers never match a regex


def test_a_view_search_sees_numbers_through_arrays_and_inside_maps() -> None:
    assert search([RECORD], "-71", [("devices", "rssi")]) == [RECORD]
    assert search([RECORD], "2412", [("radio",)]) == [RECORD]
    assert search([RECORD], "beta", [("devices", "tags")]) == []


# An alert imported from a Kismet log is whatever JSON its row holds (the import
# asks only for an integer id): a severity Kismet gives no name, or severities
# found inside an array or a map, as a field path's expansion meets them.
IMPORTED: dict[str, Any] = {
    "kismet.alert.severity": 7,
    "history": {"kismet.alert.severity": 15},
    "raised": [{"kismet.alert.severity": [20, 5]}],
}


def test_a_severity_with_no_name_is_searched_as_its_number() -> None:
    assert search([IMPORTED], "7", [("kismet.alert.severity",)]) == [IMPORTED]
    assert not keeps("kismet.alert.severity", ".", IMPORTED)  # numbers never match a regex


def test_a_severity_inside_a_map_or_an_array_is_matched_by_its_name() -> None:
    assert keeps("history", "^HIGH$", IMPORTED)
    assert keeps("raised/kismet.alert.severity", "^CRITICAL$", IMPORTED)
    assert keeps("raised", "^LOW$", IMPORTED)
    assert not keeps("raised", "^5$", IMPORTED)
