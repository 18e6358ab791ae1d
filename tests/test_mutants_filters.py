"""The `regex` and `regex_all` keys' bounds at their exact edges, the reason a malformed
rule gets, and what a rule reads: only its own field, from the command's own keys.

The bounds are what one request may cost to parse and compile on the event loop:
16 384 characters of patterns in all, each `\\p`/`\\P` class counted as 256, and
8 192 RE2 instructions in all.
"""

from __future__ import annotations

from typing import Any

import pytest

from kisalert.filters import InvalidRegex, regex_filter, request_filter

TEXT = "kismet.alert.text"
CHANNEL = "kismet.alert.channel"
# 1 024 in cost: three Unicode classes (one negated) at 256 each, 6 characters each
# written, and 61 `b{0}`, which like `\pL{0}` compile to nothing.
COSTLY = "\\pL{0}\\PL{0}\\pL{0}" + "b{0}" * 61
COST_REFUSAL = (
    "Invalid regex: patterns longer than 16384 characters in all (a \\p class counts as 256)"
)
INSTRUCTIONS_REFUSAL = "Invalid regex: patterns too large: at most 8192 RE2 instructions in all"


def refusal(spec: object, all_spec: object = None) -> str:
    with pytest.raises(InvalidRegex) as info:
        regex_filter(spec, all_spec)
    return str(info.value)


def test_patterns_may_cost_exactly_16384_in_all() -> None:
    assert regex_filter([[TEXT, COSTLY]] * 16) is not None
    assert refusal([[TEXT, COSTLY]] * 15 + [[TEXT, COSTLY + "c"]]) == COST_REFUSAL


def test_patterns_may_compile_to_exactly_8192_instructions_in_all() -> None:
    # 1 020 literals compile to 1 024 instructions forward and as many in reverse.
    assert regex_filter([[TEXT, "a" * 1020]] * 4) is not None
    assert refusal([[TEXT, "a" * 1020]] * 3 + [[TEXT, "a" * 1021]]) == INSTRUCTIONS_REFUSAL


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (TEXT, "regex must be an array of [field, pattern] pairs"),
        ({TEXT: "x"}, "regex must be an array of [field, pattern] pairs"),
        ([[TEXT]], "each filter must be a [field, pattern] pair of strings"),
        ([[TEXT, 5]], "each filter must be a [field, pattern] pair of strings"),
        ([["//", "x"]], "empty field path"),
    ],
)
def test_a_malformed_regex_says_what_is_wrong(spec: object, reason: str) -> None:
    assert refusal(spec) == f"Invalid regex: {reason}"


def test_an_escape_other_than_p_costs_its_two_characters() -> None:
    # 16 384 in cost in all when a `\X` costs its 2 characters: the request is in
    # bounds, and refused for what is really wrong with it.
    assert refusal([[TEXT, COSTLY]] * 15 + [[TEXT, "\\X" + "b" * 1022]]) == (
        "Invalid regex: invalid escape sequence: \\X"
    )


# `regex_all` and `regex` together: one budget for both keys, each key's rules bounded
# the same way, and the same one-line reasons a client reads in the 400.


def test_regex_and_regex_all_may_cost_exactly_16384_together() -> None:
    assert regex_filter([[TEXT, COSTLY]] * 8, [[TEXT, COSTLY]] * 8) is not None
    more = [[TEXT, COSTLY]] * 7 + [[TEXT, COSTLY + "c"]]
    assert refusal([[TEXT, COSTLY]] * 8, more) == COST_REFUSAL


def test_regex_and_regex_all_may_compile_to_exactly_8192_instructions_together() -> None:
    # 1 020 literals compile to 1 024 instructions forward and as many in reverse.
    assert regex_filter([[TEXT, "a" * 1020]] * 2, [[TEXT, "a" * 1020]] * 2) is not None
    more = [[TEXT, "a" * 1020], [TEXT, "a" * 1021]]
    assert refusal([[TEXT, "a" * 1020]] * 2, more) == INSTRUCTIONS_REFUSAL


def test_a_regex_all_pattern_may_be_exactly_1024_characters() -> None:
    assert regex_filter(None, [[TEXT, "a" * 1024]]) is not None
    assert refusal(None, [[TEXT, "a" * 1025]]) == (
        "Invalid regex: a pattern may be at most 1024 characters"
    )


def test_regex_all_may_have_exactly_64_rules() -> None:
    rule = [TEXT, "x"]
    assert regex_filter(None, [rule] * 64) is not None
    expected = "Invalid regex: regex_all may hold at most 64 [field, pattern] pairs"
    assert refusal(None, [rule] * 65) == expected


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ([[TEXT]], "each filter must be a [field, pattern] pair of strings"),
        ([[TEXT, "a", "b"]], "each filter must be a [field, pattern] pair of strings"),
        ([[5, "x"]], "each filter must be a [field, pattern] pair of strings"),
        ([None], "each filter must be a [field, pattern] pair of strings"),
        ([["//", "x"]], "empty field path"),
        ([["", "x"]], "empty field path"),
        ([[TEXT, "(unclosed"]], "missing ): (unclosed"),
        ([[TEXT, "a{1001}"]], "invalid repetition size: {1001}"),
    ],
)
def test_a_malformed_regex_all_rule_says_what_is_wrong(spec: object, reason: str) -> None:
    assert refusal(None, spec) == f"Invalid regex: {reason}"


RECORD = {
    "kismet.alert.header": "DEAUTHFLOOD",
    "kismet.alert.text": "Deauth flood on BSSID",
    "labels": {"site": "north-gate", "zone": "lobby"},
}


@pytest.mark.parametrize(
    ("field", "pattern", "kept"),
    [
        ("labels/site", "gate", True),
        ("/labels//site", "^north-gate$", True),
        ("labels/site", "lobby", False),
        ("kismet.alert.header", "FLOOD", True),
        ("kismet.alert.header", "flood", False),
    ],
)
def test_a_rule_searches_only_the_field_its_path_names(
    field: str, pattern: str, kept: bool
) -> None:
    """The other fields hold `lobby` and `flood`: a rule on its own field ignores them."""
    for keep in (regex_filter([[field, pattern]]), regex_filter(None, [[field, pattern]])):
        assert keep is not None
        assert keep(RECORD) is kept


def kept_by(args: dict[str, Any], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = request_filter(args)
    return records if keep is None else [rec for rec in records if keep(rec)]


def test_a_command_filters_by_its_regex_and_regex_all_keys() -> None:
    flood_6 = {TEXT: "Deauth flood", CHANNEL: "6"}
    flood_11 = {TEXT: "Deauth flood", CHANNEL: "11"}
    quiet_6 = {TEXT: "quiet", CHANNEL: "6"}
    records = [flood_6, flood_11, quiet_6]
    any_flood = [[TEXT, "nothing"], [TEXT, "flood"]]
    every_6 = [[CHANNEL, "^6$"], [TEXT, "^[A-Za-z ]+$"]]
    assert kept_by({}, records) == records
    assert kept_by({"regex": any_flood}, records) == [flood_6, flood_11]
    assert kept_by({"regex_all": every_6}, records) == [flood_6, quiet_6]
    assert kept_by({"regex": any_flood, "regex_all": every_6}, records) == [flood_6]
    assert kept_by({"REGEX": any_flood, "REGEX_ALL": every_6}, records) == records


@pytest.mark.parametrize("key", ["regex", "regex_all"])
def test_a_command_s_malformed_filter_names_its_key(key: str) -> None:
    with pytest.raises(InvalidRegex) as info:
        request_filter({key: {TEXT: "x"}})
    assert str(info.value) == f"Invalid regex: {key} must be an array of [field, pattern] pairs"
