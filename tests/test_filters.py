"""Regex filters (api.md, "Regex filters (`regex`)")."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kisalert import filters
from kisalert.alert import Alert, AlertDraft
from kisalert.filters import InvalidRegex, regex_filter
from kisalert.http.errors import status_of


def record(severity: int = 15, text: str = "Deauth flood on BSSID", channel: str = "6") -> Any:
    draft = AlertDraft(
        header="DEAUTHFLOOD",
        klass="DENIAL",
        severity=severity,
        phy=-1,
        text=text,
        transmitter="AA:BB:CC:DD:EE:FF",
        source="00:11:22:33:44:55",
        channel=channel,
    )
    return Alert.from_draft(draft, 1_764_420_000_500_000, 4242).record


def keeps(spec: object, rec: dict[str, Any]) -> bool:
    keep = regex_filter(spec)
    assert keep is not None
    return keep(rec)


def test_pattern_is_a_search_not_a_full_match() -> None:
    assert keeps([["kismet.alert.text", "flood"]], record())
    assert keeps([["kismet.alert.text", "^Deauth"]], record())
    assert not keeps([["kismet.alert.text", "^flood"]], record())
    assert not keeps([["kismet.alert.text", "^Deauth flood$"]], record())
    assert keeps([["kismet.alert.text", "^Deauth flood on BSSID$"]], record())


def test_case_sensitive_unless_asked() -> None:
    assert not keeps([["kismet.alert.text", "deauth"]], record())
    assert keeps([["kismet.alert.text", "(?i)deauth"]], record())
    assert keeps([["kismet.alert.text", "(?i:DEAUTH) flood"]], record())
    assert not keeps([["kismet.alert.text", "(?i:DEAUTH) FLOOD"]], record())


def test_any_of_the_patterns_keeps_the_record() -> None:
    spec = [["kismet.alert.text", "nomatch"], ["kismet.alert.header", "FLOOD"]]
    assert keeps(spec, record())
    spec = [["kismet.alert.text", "nomatch"], ["kismet.alert.header", "nomatch"]]
    assert not keeps(spec, record())
    spec = [["kismet.alert.header", "nomatch"], ["kismet.alert.header", "^DEAUTH"]]
    assert keeps(spec, record())


def test_severity_matches_its_name() -> None:
    assert keeps([["kismet.alert.severity", "HIGH"]], record(severity=15))
    assert keeps([["kismet.alert.severity", "^HIGH$"]], record(severity=15))
    assert keeps([["kismet.alert.severity", "(?i)high"]], record(severity=15))
    assert not keeps([["kismet.alert.severity", "HIGH"]], record(severity=10))
    assert keeps([["kismet.alert.severity", "MEDIUM"]], record(severity=10))
    assert keeps([["kismet.alert.severity", "INFO"]], record(severity=0))
    assert keeps([["kismet.alert.severity", "CRITICAL"]], record(severity=20))


@pytest.mark.parametrize(
    ("field", "pattern"),
    [
        ("kismet.alert.severity", "15"),
        ("kismet.alert.severity", "1"),
        ("kismet.alert.hash", "4242"),
        ("kismet.alert.hash", "."),
        ("kismet.alert.phy_id", "4294967295"),
        ("kismet.alert.timestamp", "1764420000"),
        ("kismet.alert.frequency", "0"),
        ("kismet.alert.location", "0"),
        ("kismet.alert.location", "."),
    ],
)
def test_other_numbers_never_match(field: str, pattern: str) -> None:
    assert not keeps([[field, pattern]], record())


def test_macs_match_their_output_form() -> None:
    assert keeps([["kismet.alert.transmitter_mac", "^AA:BB:CC"]], record())
    assert keeps([["kismet.alert.source_mac", "^00:11:22:33:44:55$"]], record())
    assert not keeps([["kismet.alert.transmitter_mac", "aa:bb"]], record())
    assert keeps([["kismet.alert.dest_mac", "^00:00:00:00:00:00$"]], record())


def test_missing_field_never_matches() -> None:
    assert not keeps([["kismet.no.such.field", ""]], record())
    assert not keeps([["kismet.alert.text/deeper", ""]], record())


def test_empty_pattern_matches_any_string_field() -> None:
    assert keeps([["kismet.alert.channel", ""]], record(channel=""))


def test_paths_through_lists_and_maps() -> None:
    rec: dict[str, Any] = {
        "devices": [
            {"name": "alpha", "tags": ["one", "two"]},
            {"name": "beta", "tags": ["three"]},
        ],
        "labels": {"site": "north-gate", "zone": "lobby"},
        "nested": {"inner": {"deep": ["x", {"leaf": "found-it"}]}},
    }
    assert keeps([["devices/name", "^beta$"]], rec)
    assert not keeps([["devices/name", "^gamma$"]], rec)
    assert keeps([["devices/tags", "^three$"]], rec)
    assert keeps([["devices", "^two$"]], rec)
    assert keeps([["labels", "^lobby$"]], rec)
    assert keeps([["labels/site", "gate"]], rec)
    assert not keeps([["labels/site", "lobby"]], rec)
    assert keeps([["nested", "found"]], rec)
    assert keeps([["nested/inner/deep/leaf", "^found-it$"]], rec)


def test_leading_and_doubled_slashes_in_paths() -> None:
    assert keeps([["/kismet.alert.text", "flood"]], record())
    rec = {"a": {"b": "value"}}
    assert keeps([["a//b", "^value$"]], rec)


def test_no_regex_means_no_filter() -> None:
    assert regex_filter(None) is None


def test_an_empty_regex_list_filters_nothing() -> None:
    """`{"regex": []}` names no pattern: every record is kept, as with no `regex`."""
    records = [record(), record(severity=0, text="quiet"), {"unrelated": "record"}]
    keep = regex_filter([])
    kept = records if keep is None else [rec for rec in records if keep(rec)]
    assert kept == records


@pytest.mark.parametrize(
    "pattern",
    [
        "(unclosed",
        "[z-a]",
        "*star",
        "(a)\\1",
        "(?P<x>a)(?P=x)",
        "foo(?=bar)",
        "foo(?!bar)",
        "(?<=foo)bar",
        "a{1001}",
    ],
)
def test_malformed_or_non_re2_pattern_is_invalid_regex(pattern: str) -> None:
    with pytest.raises(InvalidRegex) as info:
        regex_filter([["kismet.alert.text", pattern]])
    assert str(info.value).startswith("Invalid regex:")
    assert len(str(info.value)) > len("Invalid regex: ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "spec",
    [
        "kismet.alert.text",
        {"kismet.alert.text": "x"},
        ["kismet.alert.text", "flood"],
        [["kismet.alert.text"]],
        [["kismet.alert.text", "a", "b"]],
        [["kismet.alert.text", 5]],
        [[5, "x"]],
        [["", "x"]],
        [None],
    ],
)
def test_malformed_filter_is_invalid_regex(spec: object) -> None:
    with pytest.raises(InvalidRegex) as info:
        regex_filter(spec)
    assert str(info.value).startswith("Invalid regex:")


def test_pathological_pattern_runs_in_linear_time() -> None:
    keep = regex_filter([["kismet.alert.text", "^(a+)+$"]])
    assert keep is not None
    assert not keep(record(text="a" * 5000 + "!"))


def test_at_most_64_rules() -> None:
    rule = ["kismet.alert.header", "X"]
    assert regex_filter([rule] * 64) is not None
    with pytest.raises(InvalidRegex, match=r"at most 64 \[field, pattern\] pairs"):
        regex_filter([rule] * 65)


def test_patterns_are_bounded_in_length() -> None:
    assert regex_filter([["kismet.alert.header", "a" * 1024]]) is not None
    with pytest.raises(InvalidRegex, match="at most 1024 characters"):
        regex_filter([["kismet.alert.header", "a" * 1025]])


# What one request's patterns may cost to parse and compile (issue 9): both happen on
# the event loop, holding the interpreter, however few records there are.


def test_patterns_that_compile_to_huge_programs_are_invalid() -> None:
    """`\\pL{400}` is nine characters and 480 000 RE2 instructions."""
    with pytest.raises(InvalidRegex, match="too large"):
        regex_filter([["kismet.alert.text", "\\pL{400}"]])


def test_the_instruction_budget_is_for_all_patterns_together() -> None:
    assert keeps([["kismet.alert.text", ".{20}"]] * 8, record())
    assert regex_filter([["kismet.alert.text", ".{500}"]]) is not None
    with pytest.raises(InvalidRegex, match="too large"):
        regex_filter([["kismet.alert.text", ".{500}"]] * 2)
    with pytest.raises(InvalidRegex, match="8192 RE2 instructions in all"):
        regex_filter([["kismet.alert.text", ".{200}"]] * 3)


def test_unicode_classes_count_as_long_patterns() -> None:
    """Each `\\pL` is a table parsed anew: 170 of them held the loop ~20 ms even when,
    as here, they compile to nothing."""
    assert keeps([["kismet.alert.text", "\\pL+"], ["kismet.alert.header", "\\p{Lu}"]], record())
    with pytest.raises(InvalidRegex, match="16384 characters in all"):
        regex_filter([["kismet.alert.text", "\\pL{0}" * 170]] * 64)
    # An escaped backslash before p is no class (300 classes would be over the limit).
    assert keeps([["kismet.alert.text", "\\\\p" * 300 + "|flood"]], record())


def test_plain_patterns_near_the_old_limits_still_work() -> None:
    assert regex_filter([["kismet.alert.header", "a" * 1024]]) is not None
    assert regex_filter([["kismet.alert.header", "x"]] * 64) is not None


# `regex_all` (kisalert's own key): every rule must match.


def keeps_all(spec: object, rec: dict[str, Any], any_spec: object = None) -> bool:
    keep = regex_filter(any_spec, spec)
    assert keep is not None
    return keep(rec)


def test_regex_all_keeps_only_records_matching_every_rule() -> None:
    high_deauth = [["kismet.alert.severity", "^HIGH$"], ["kismet.alert.header", "^DEAUTH"]]
    assert keeps_all(high_deauth, record(severity=15))
    assert not keeps_all(high_deauth, record(severity=10))
    assert not keeps_all([*high_deauth, ["kismet.alert.channel", "^11$"]], record(severity=15))
    assert keeps_all([*high_deauth, ["kismet.alert.channel", "^6$"]], record(severity=15))


def test_regex_and_regex_all_together_are_both_required() -> None:
    every = [["kismet.alert.channel", "^6$"]]
    assert keeps_all(
        every, record(), any_spec=[["kismet.alert.text", "nothing"], ["kismet.alert.text", "flood"]]
    )
    assert not keeps_all(every, record(), any_spec=[["kismet.alert.text", "nothing"]])
    assert not keeps_all(every, record(channel="11"), any_spec=[["kismet.alert.text", "flood"]])


def test_an_empty_regex_all_filters_nothing() -> None:
    assert regex_filter(None, []) is None
    assert regex_filter([], []) is None
    assert keeps_all([], record(), any_spec=[["kismet.alert.text", "flood"]])


def test_a_malformed_regex_all_names_its_key() -> None:
    with pytest.raises(InvalidRegex, match=r"^Invalid regex: regex_all must be an array"):
        regex_filter(None, {"kismet.alert.text": "x"})
    with pytest.raises(InvalidRegex, match="pair of strings"):
        regex_filter(None, [["kismet.alert.text"]])


def test_regex_and_regex_all_share_one_budget() -> None:
    costly = "a" * 1000  # 2 008 of the 8 192 RE2 instructions all patterns may take
    regex_filter([["kismet.alert.text", costly]] * 4, None)
    regex_filter(None, [["kismet.alert.text", costly]] * 4)
    regex_filter([["kismet.alert.text", costly]] * 2, [["kismet.alert.text", costly]] * 2)
    with pytest.raises(InvalidRegex, match="instructions in all"):
        regex_filter([["kismet.alert.text", costly]] * 3, [["kismet.alert.text", costly]] * 2)


def test_filters_that_run_too_long_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """RE2 is linear, but a pattern that overflows its DFA cache runs at ~1 MB/s: 64
    such rules over a large backlog held a read worker for 50 s. Past the limit the
    read is refused (413), whatever the patterns."""
    monkeypatch.setattr(filters, "MAX_FILTER_SECONDS", 0.2)
    keep = filters.regex_filter(
        [["kismet.alert.text", "[ab]*a[ab]{20}c|d" + str(n)] for n in range(64)]
    )
    assert keep is not None
    record = {"kismet.alert.text": "ab" * 8192}
    started = time.monotonic()
    with pytest.raises(filters.FilterTooCostly) as refused:
        for _ in range(10_000):
            keep(record)
    assert time.monotonic() - started < 5
    assert str(refused.value).startswith("Request too costly: its regex filters ran past 0.2 s")
    assert status_of(refused.value) == 413
