"""The `regex` key's bounds at their exact edges, and the reason a malformed one gets.

The bounds are what one request may cost to parse and compile on the event loop:
16 384 characters of patterns in all, each `\\p`/`\\P` class counted as 256, and
8 192 RE2 instructions in all.
"""

from __future__ import annotations

import pytest

from kisalert.filters import InvalidRegex, regex_filter

TEXT = "kismet.alert.text"
# 1 024 in cost: three Unicode classes (one negated) at 256 each, 6 characters each
# written, and 61 `b{0}`, which like `\pL{0}` compile to nothing.
COSTLY = "\\pL{0}\\PL{0}\\pL{0}" + "b{0}" * 61


def refusal(spec: object) -> str:
    with pytest.raises(InvalidRegex) as info:
        regex_filter(spec)
    return str(info.value)


def test_patterns_may_cost_exactly_16384_in_all() -> None:
    assert regex_filter([[TEXT, COSTLY]] * 16) is not None
    assert refusal([[TEXT, COSTLY]] * 15 + [[TEXT, COSTLY + "c"]]) == (
        "Invalid regex: patterns longer than 16384 characters in all (a \\p class counts as 256)"
    )


def test_patterns_may_compile_to_exactly_8192_instructions_in_all() -> None:
    # 1 020 literals compile to 1 024 instructions forward and as many in reverse.
    assert regex_filter([[TEXT, "a" * 1020]] * 4) is not None
    assert refusal([[TEXT, "a" * 1020]] * 3 + [[TEXT, "a" * 1021]]) == (
        "Invalid regex: patterns too large: at most 8192 RE2 instructions in all"
    )


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
