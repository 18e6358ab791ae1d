"""The alert table view (api.md, alerts_view): search, stable sort and paging."""

from __future__ import annotations

from typing import Any

import pytest

from kisalert.alert import Alert, AlertDraft
from kisalert.view import DEFAULT_SEARCH, page_bounds, search, search_alerts, sort, window


def alert(
    n: int,
    header: str = "DEAUTHFLOOD",
    klass: str = "DENIAL",
    severity: int = 10,
    text: str = "",
    transmitter: str = "00:00:00:00:00:00",
    channel: str = "",
) -> dict[str, Any]:
    draft = AlertDraft(
        header=header,
        klass=klass,
        severity=severity,
        phy=0,
        text=text or f"alert number {n}",
        transmitter=transmitter,
        channel=channel,
    )
    return Alert.from_draft(draft, 1_764_420_000_000_000 + n, n).record


def held(n: int, **kwargs: Any) -> Alert:
    """The alert itself (record and JSON), as the backlog holds it."""
    return Alert(alert(n, **kwargs))


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [r["kismet.alert.hash"] for r in records]


# search


def test_search_default_fields_case_insensitive_substring() -> None:
    records = [
        alert(1, header="APSPOOF", klass="SPOOF", text="Rogue AP 'corp'"),
        alert(2, header="DEAUTHFLOOD", text="many deauths"),
        alert(3, header="LONGSSID", klass="EXPLOIT", text="ssid too long"),
    ]
    assert ids(search(records, "rogue", DEFAULT_SEARCH)) == [1]
    assert ids(search(records, "DEAUTH", DEFAULT_SEARCH)) == [2]
    assert ids(search(records, "spoof", DEFAULT_SEARCH)) == [1]
    assert ids(search(records, "exploit", DEFAULT_SEARCH)) == [3]
    assert ids(search(records, "o", DEFAULT_SEARCH)) == [1, 2, 3]
    assert ids(search(records, "nothing like it", DEFAULT_SEARCH)) == []


def test_search_default_fields_cover_macs_channel_and_severity_name() -> None:
    records = [
        alert(1, severity=15, transmitter="AA:BB:CC:DD:EE:FF", channel="11"),
        alert(2, severity=10, channel="36"),
        alert(3, severity=20),
    ]
    assert ids(search(records, "aa:bb:cc", DEFAULT_SEARCH)) == [1]
    assert ids(search(records, "36", DEFAULT_SEARCH)) == [2]
    assert ids(search(records, "high", DEFAULT_SEARCH)) == [1]
    assert ids(search(records, "medium", DEFAULT_SEARCH)) == [2]
    assert ids(search(records, "crit", DEFAULT_SEARCH)) == [3]


def test_search_default_fields_exclude_the_rest() -> None:
    records = [alert(1, text="x"), alert(2, text="y")]
    # the device key and the hash are not searched without fields
    assert ids(search(records, "00_0", DEFAULT_SEARCH)) == []
    assert ids(search(records, "1764420000", DEFAULT_SEARCH)) == []


def test_search_only_the_requested_fields() -> None:
    records = [alert(1, header="APSPOOF", text="about deauth"), alert(2, header="DEAUTHFLOOD")]
    assert ids(search(records, "deauth", [("kismet.alert.header",)])) == [2]
    assert ids(search(records, "deauth", [("kismet.alert.text",)])) == [1]
    assert ids(search(records, "deauth", [("kismet.alert.text",), ("kismet.alert.header",)])) == [
        1,
        2,
    ]


def test_search_severity_name_on_requested_severity() -> None:
    records = [alert(1, severity=15), alert(2, severity=5)]
    assert ids(search(records, "HiGh", [("kismet.alert.severity",)])) == [1]
    assert ids(search(records, "low", [("kismet.alert.severity",)])) == [2]


def test_search_nested_and_missing_paths() -> None:
    records = [alert(1), alert(2)]
    path = ("kismet.alert.location", "kismet.common.location.geopoint")
    assert ids(search(records, "0", [path])) == [1, 2]
    assert ids(search(records, "x", [("no.such.field",)])) == []


def test_search_keeps_order() -> None:
    records = [alert(n, text="same") for n in (5, 3, 9, 1)]
    assert ids(search(records, "SAME", DEFAULT_SEARCH)) == [5, 3, 9, 1]


# search_alerts: the same answers, found faster through the alerts' JSON

# (term, the alerts of search_backlog() it finds)
SEARCH_CASES = [
    ("beta", [1]),  # plain text
    ("aa:bb", [2]),  # a MAC, stored upper case
    ("HIGH", [3]),  # a severity name: not in the JSON (the record holds the number)
    ("igh", [3]),  # part of one
    ("medium", [1, 2, 4, 5, 6, 7, 8]),  # the default severity, 10
    ("strasse", [4]),  # case-folds to what a non-ASCII text holds
    ("chan-7", [5]),
    ('say "hi"', [6]),  # escaped in JSON
    ("back\\slash", [7]),
    ("deauthflood", [1, 2, 3, 4, 5, 6, 7, 8]),  # the header of every one
    ("alert number", [2, 3, 5]),  # the text of those given none
    ("kismet.alert", []),  # a key: in every JSON, in no text
    ("nothing at all", []),
]


def search_backlog() -> list[Alert]:
    return [
        held(1, text="alpha beta"),
        held(2, transmitter="AA:BB:CC:DD:EE:01"),
        held(3, severity=15),
        held(4, text="Straße gesperrt"),
        held(5, channel="chan-7"),
        held(6, text='they say "hi"'),
        held(7, text="back\\slash"),
        held(8, text="gamma"),
    ]


@pytest.mark.parametrize(("term", "expected"), SEARCH_CASES)
def test_search_alerts_finds_what_search_finds(term: str, expected: list[int]) -> None:
    backlog = search_backlog()
    assert ids(search_alerts(backlog, term, DEFAULT_SEARCH)) == expected
    assert ids(search([a.record for a in backlog], term, DEFAULT_SEARCH)) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("1764420000.000005", [5]),  # alert 5's stamp, as the record's number reads
        ("1764420000.00000", [1, 2, 3, 4, 5, 6, 7, 8]),
        ("1764420000.000009", []),
        ("alpha", []),  # the text is not among the requested fields
    ],
)
def test_search_alerts_on_requested_fields(term: str, expected: list[int]) -> None:
    backlog = search_backlog()
    paths = [("kismet.alert.timestamp",)]
    assert ids(search_alerts(backlog, term, paths)) == expected
    assert ids(search([a.record for a in backlog], term, paths)) == expected


# sort


@pytest.mark.parametrize("descending", [False, True])
def test_sort_by_time_of_records_in_time_order_is_the_full_sort(descending: bool) -> None:
    records = [alert(n) for n in (1, 5, 9, 12)]
    path = ("kismet.alert.timestamp",)
    assert sort(records, path, descending, in_time_order=True) == sort(records, path, descending)
    assert ids(sort(records, path, descending, in_time_order=True)) == (
        [12, 9, 5, 1] if descending else [1, 5, 9, 12]
    )


def test_sort_ascending_is_ascending() -> None:
    records = [alert(n) for n in (3, 1, 2)]
    assert ids(sort(records, ("kismet.alert.hash",), descending=False)) == [1, 2, 3]
    assert ids(sort(records, ("kismet.alert.hash",), descending=True)) == [3, 2, 1]


def test_sort_is_numeric_for_numbers() -> None:
    records = [alert(n) for n in (100, 9, 10, 1000, 2)]
    assert ids(sort(records, ("kismet.alert.hash",), descending=False)) == [2, 9, 10, 100, 1000]
    by_time = sort(records, ("kismet.alert.timestamp",), descending=True)
    assert ids(by_time) == [1000, 100, 10, 9, 2]


def test_sort_strings() -> None:
    records = [alert(1, header="B"), alert(2, header="C"), alert(3, header="A")]
    assert ids(sort(records, ("kismet.alert.header",), descending=False)) == [3, 1, 2]
    assert ids(sort(records, ("kismet.alert.header",), descending=True)) == [2, 1, 3]


def test_sort_is_stable_both_ways() -> None:
    records = [
        alert(1, severity=10),
        alert(2, severity=15),
        alert(3, severity=10),
        alert(4, severity=15),
        alert(5, severity=10),
    ]
    assert ids(sort(records, ("kismet.alert.severity",), descending=False)) == [1, 3, 5, 2, 4]
    assert ids(sort(records, ("kismet.alert.severity",), descending=True)) == [2, 4, 1, 3, 5]


def test_sort_does_not_modify_its_input() -> None:
    records = [alert(n) for n in (3, 1, 2)]
    sort(records, ("kismet.alert.hash",), descending=False)
    assert ids(records) == [3, 1, 2]


def test_sort_on_missing_field_keeps_order() -> None:
    records = [alert(n) for n in (3, 1, 2)]
    assert ids(sort(records, ("no.such.field",), descending=False)) == [3, 1, 2]


# paging


def test_page_bounds() -> None:
    assert page_bounds(10, 0, 3) == (0, 4)
    assert page_bounds(10, 1, 3) == (3, 4)
    assert page_bounds(10, 3, 3) == (9, 4)
    assert page_bounds(9, 2, 3) == (6, 3)
    assert page_bounds(1, 0, 50) == (0, 1)


def test_page_past_the_end_is_the_first_page() -> None:
    assert page_bounds(10, 4, 3) == (0, 4)
    assert page_bounds(10, 1000, 3) == (0, 4)
    assert page_bounds(9, 3, 3) == (0, 3)


def test_length_zero_is_all_rows_and_zero_pages() -> None:
    assert page_bounds(10, 0, 0) == (0, 0)
    assert page_bounds(10, 5, 0) == (0, 0)
    rows = [alert(n) for n in range(10)]
    assert window(rows, 0, 0) == rows


def test_no_rows() -> None:
    assert page_bounds(0, 0, 10) == (0, 0)
    assert window([], 0, 10) == []


def test_window() -> None:
    rows = [alert(n) for n in range(10)]
    assert ids(window(rows, 0, 3)) == [0, 1, 2]
    assert ids(window(rows, 3, 3)) == [3, 4, 5]
    assert ids(window(rows, 9, 3)) == [9]
    assert window(rows, 10, 3) == []
    assert ids(window(rows, 0, 100)) == list(range(10))


def test_paging_walks_every_row_once() -> None:
    rows = [alert(n) for n in range(23)]
    start, pages = page_bounds(len(rows), 0, 5)
    assert pages == 5
    seen = []
    for page in range(pages):
        start, _ = page_bounds(len(rows), page, 5)
        seen.extend(ids(window(rows, start, 5)))
    assert seen == list(range(23))
