"""The alert table view (`alerts_view`): search, stable sort and paging over records.

Pure functions over record dicts, shared by the page mode of Kismet's current web
UI and the DataTables mode of its older one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kisalert.alert import Alert
from kisalert.fields import field_texts, walk
from kisalert.severity import SEVERITY_NAMES

Path = tuple[str, ...]

# What a search looks at when the request names no fields.
DEFAULT_SEARCH: tuple[Path, ...] = tuple(
    (key,)
    for key in (
        "kismet.alert.header",
        "kismet.alert.class",
        "kismet.alert.text",
        "kismet.alert.transmitter_mac",
        "kismet.alert.source_mac",
        "kismet.alert.dest_mac",
        "kismet.alert.other_mac",
        "kismet.alert.channel",
        "kismet.alert.severity",
    )
)


def search(records: Sequence[dict[str, Any]], term: str, paths: Sequence[Path]) -> list[Any]:
    """Records where any of `paths` contains `term`, case-insensitively."""
    needle = term.casefold()
    return [
        record
        for record in records
        if any(
            needle in text.casefold()
            for path in paths
            for text in field_texts(record, path, numbers=True)
        )
    ]


def search_alerts(alerts: Sequence[Alert], term: str, paths: Sequence[Path]) -> list[Any]:
    """`search` over alerts' records, first dropping, from their JSON alone, the
    alerts that cannot match: a search of 100 000 alerts walks only the candidates.

    The shortcut only applies where it cannot drop a match: the default fields (all
    text, or a severity shown by name), a term of printable ASCII that JSON writes as
    it is (no quote, backslash or control character) and that is not part of a
    severity name, and an alert whose JSON is all ASCII (so that lower-casing it
    equals case-folding its texts).
    """
    needle = term.casefold()
    if paths is DEFAULT_SEARCH and _json_searchable(needle):
        probe = needle.encode("ascii")
        alerts = [a for a in alerts if not a.json.isascii() or probe in a.json.lower()]
    return search([a.record for a in alerts], term, paths)


def _json_searchable(needle: str) -> bool:
    return (
        needle.isascii()
        and needle.isprintable()
        and '"' not in needle
        and "\\" not in needle
        and not any(needle in name.casefold() for name in SEVERITY_NAMES.values())
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    # Numbers before strings before everything else, so mixed columns still sort.
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, "") if value is None else (2, str(value))


TIME: Path = ("kismet.alert.timestamp",)


def sort(
    records: list[dict[str, Any]], path: Path, descending: bool, in_time_order: bool = False
) -> list[dict[str, Any]]:
    """A stable sort on the value at `path` (numeric for numbers).

    Records known to be `in_time_order` (the backlog, and any filtering of it: every
    alert's stamp is unique) sort by time without being looked at: the web UI's
    default order costs nothing, where a sort of 100 000 records takes ~200 ms.
    """
    if in_time_order and path == TIME:
        return records[::-1] if descending else list(records)
    return sorted(records, key=lambda record: _sort_key(walk(record, path)), reverse=descending)


def window(rows: list[dict[str, Any]], start: int, length: int) -> list[dict[str, Any]]:
    """Rows [start, start+length); a length of 0 or less means every row."""
    if length <= 0:
        return rows
    return rows[start : start + length]


def page_bounds(filtered: int, page: int, length: int) -> tuple[int, int]:
    """(start row, number of pages). A page past the end is the first page."""
    if length <= 0:
        return 0, 0
    start = page * length
    if start >= filtered or start < 0:
        start = 0
    return start, -(-filtered // length)
