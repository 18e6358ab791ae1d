"""A client's regex that RE2 cannot take: the reason goes to the client, nothing to the
server's stderr, and a pattern over the instruction budget is refused as too large. A
config file's bad pattern, and a pattern too hard for RE2's DFA, write nothing to
stderr either."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kisalert.config import ConfigError, load
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


def test_a_bad_ssid_pattern_in_a_config_file_is_reported_and_nothing_on_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kismet.conf"
    path.write_text('ssidcanary=Canary:ssid="(honeypot"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load([path])
    assert f"{path}:1" in str(info.value)
    assert "bad ssid pattern: missing ): (honeypot" in str(info.value)
    assert capfd.readouterr().err == ""


def test_a_pattern_that_runs_re2s_dfa_out_of_memory_still_filters_and_logs_nothing(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Each of a 1000 positions may hold the `a` that starts a match, so the DFA needs
    # a state per recent stretch of text: over 4000 random letters it gives up and RE2
    # falls back to its NFA, which it would report on stderr if errors were logged.
    keep = regex_filter([["kismet.alert.text", "a[ab]{1000}c"]])
    assert keep is not None
    letters = random.Random(14)
    text = "".join(letters.choice("ab") for _ in range(4000))
    assert not keep({"kismet.alert.text": text})
    assert keep({"kismet.alert.text": text + "c"})
    assert capfd.readouterr().err == ""
