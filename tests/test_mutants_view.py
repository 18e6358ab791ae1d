"""The alert table's sort on columns of mixed or missing values, a sort by another
column of records in time order, pages of one row, and a search of chosen fields."""

from __future__ import annotations

from typing import Any

from kisalert.alert import Alert, AlertDraft
from kisalert.location import Location
from kisalert.view import page_bounds, search_alerts, sort, window


def rows(values: list[Any]) -> list[dict[str, Any]]:
    """One record per value, numbered in order; `...` leaves the column out."""
    return [
        {"n": n} if value is ... else {"n": n, "column": value} for n, value in enumerate(values)
    ]


def order(records: list[dict[str, Any]]) -> list[int]:
    return [record["n"] for record in records]


def test_a_mixed_column_sorts_numbers_then_strings_then_the_rest() -> None:
    # Numbers (booleans among them) by value, then strings, then what is missing, then
    # maps and arrays by their text.
    records = rows([10, "b", {"k": 2}, ..., True, 9, "a", {"k": 1}, [1]])
    assert order(sort(records, ("column",), descending=False)) == [4, 5, 0, 6, 1, 3, 8, 7, 2]
    assert order(sort(records, ("column",), descending=True)) == [2, 7, 8, 3, 1, 6, 0, 5, 4]


def test_records_in_time_order_sort_by_another_column_all_the_same() -> None:
    records = [
        {"n": 0, "kismet.alert.timestamp": 1.0, "kismet.alert.header": "C"},
        {"n": 1, "kismet.alert.timestamp": 2.0, "kismet.alert.header": "A"},
        {"n": 2, "kismet.alert.timestamp": 3.0, "kismet.alert.header": "B"},
    ]
    header = ("kismet.alert.header",)
    assert order(sort(records, header, descending=False, in_time_order=True)) == [1, 2, 0]


def test_pages_of_one_row() -> None:
    records = rows(list(range(5)))
    assert page_bounds(5, 3, 1) == (3, 5)
    assert order(window(records, 3, 1)) == [3]


def test_a_search_of_chosen_fields_matches_a_number_as_its_text_reads() -> None:
    # A sensor a metre off the equator: its latitude reads `1e-05` as text, which the
    # alert's JSON writes as `0.00001`; a search of the position field finds it.
    near_equator = Location(lat=0.00001, lon=12.5, fix=3)
    draft = AlertDraft("APSPOOF", "SPOOF", 10, 0, "rogue AP", location=near_equator)
    alert = Alert.from_draft(draft, 1_764_420_000_000_000, 1)
    position = ("kismet.alert.location", "kismet.common.location.geopoint")
    assert search_alerts([alert], "1e-05", [position]) == [alert.record]
    assert search_alerts([alert], "1e-06", [position]) == []
