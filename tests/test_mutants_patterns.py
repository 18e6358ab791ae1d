"""A client's regex that RE2 cannot take: the reason goes to the client, nothing to the
server's stderr, and a pattern over the instruction budget is refused as too large."""

from __future__ import annotations

import pytest

from kisalert.filters import InvalidRegex, regex_filter


def refusal(pattern: str) -> str:
    with pytest.raises(InvalidRegex) as info:
        regex_filter([["kismet.alert.text", pattern]])
    return str(info.value)


def test_a_bad_pattern_is_refused_with_re2s_reason_and_nothing_on_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert refusal("(unclosed") == "Invalid regex: missing ): (unclosed"
    assert capfd.readouterr().err == ""


def test_a_pattern_whose_reverse_program_outgrows_the_budget_is_too_large(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Eleven letters: the forward program still fits the request's budget, the
    # reverse one (which RE2 gives half the memory) does not.
    assert refusal(r"\pL{11}") == "Invalid regex: pattern too large - reverse compile failed"
    assert capfd.readouterr().err == ""
