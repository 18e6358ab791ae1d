"""alerts_view: plain, page and datatables modes over a known backlog."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.http.expected import alert_record, assert_records
from tests.records import ZERO_MAC
from tests.server import BASE_CONFIG, Server

VIEW = "/alerts/alerts_view.json"
TEXT = "kismet.alert.text"
COLMAP = {
    "0": ["kismet.alert.timestamp"],
    "1": ["kismet.alert.severity"],
    "2": ["kismet.alert.text"],
}

# (header, class, severity); raised in the order of RAISES.
DEFINITIONS = [
    ("VIEWT_CRIT", "EXPLOIT", 20),
    ("VIEWT_LOW", "PROBE", 5),
    ("VIEWT_MED", "DENIAL", 10),
]
RAISES: list[tuple[str, str, dict[str, str]]] = [
    ("VIEWT_CRIT", "note-1 alpha", {}),
    ("VIEWT_LOW", "note-2 beta", {"bssid": "de:ad:be:ef:00:01"}),
    ("VIEWT_MED", "note-3 gamma", {"channel": "chan-xyz"}),
    ("VIEWT_CRIT", "note-4 alpha", {}),
    ("VIEWT_LOW", "note-5 beta", {}),
    ("VIEWT_MED", "note-6 gamma", {}),
]
ALL_TEXTS = [text for _, text, _ in RAISES]


@dataclass
class ViewData:
    server: Server
    total: int  # alerts in the backlog, ours and the server's own


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewData]:
    with Server(tmp_path_factory.mktemp("alerts-view"), BASE_CONFIG) as server:
        baseline = len(server.alerts())
        for name, klass, severity in DEFINITIONS:
            response = server.define(
                name, severity=severity, throttle="1000/min", burst="1000/min", **{"class": klass}
            )
            assert response.status_code == 200, response.text
        for name, text, extra in RAISES:
            response = server.raise_alert(name, text, **extra)
            assert response.status_code == 200, response.text
        yield ViewData(server, baseline + len(RAISES))


def call(view: ViewData, args: dict[str, Any] | None = None, **variables: str) -> requests.Response:
    data: dict[str, str] = dict(variables)
    if args is not None:
        data["json"] = json.dumps(args)
    return view.server.post(VIEW, data=data)


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def texts(rows: list[dict[str, Any]]) -> list[str]:
    return [row[TEXT] for row in rows]


def paged(
    view: ViewData, fields: list[Any], regex: list[list[str]] | None = None, **variables: str
) -> Any:
    """A page-mode answer, checked to be 200, for these fields and regex rules."""
    args: dict[str, Any] = {"fields": fields}
    if regex is not None:
        args["regex"] = regex
    return ok(call(view, args, **variables))


# plain mode


def test_plain_mode_is_the_simplified_array(view: ViewData) -> None:
    rows = ok(call(view, {"fields": [TEXT, ["kismet.alert.header", "h"]]}))
    assert isinstance(rows, list)
    assert len(rows) == view.total
    assert rows[-6:] == [{TEXT: text, "h": name} for name, text, _ in RAISES]


# RAISES as the records must show them: (header, class, severity, text, transmitter, channel).
RAISED = [
    ("VIEWT_CRIT", "EXPLOIT", 20, "note-1 alpha", ZERO_MAC, ""),
    ("VIEWT_LOW", "PROBE", 5, "note-2 beta", "DE:AD:BE:EF:00:01", ""),
    ("VIEWT_MED", "DENIAL", 10, "note-3 gamma", ZERO_MAC, "chan-xyz"),
    ("VIEWT_CRIT", "EXPLOIT", 20, "note-4 alpha", ZERO_MAC, ""),
    ("VIEWT_LOW", "PROBE", 5, "note-5 beta", ZERO_MAC, ""),
    ("VIEWT_MED", "DENIAL", 10, "note-6 gamma", ZERO_MAC, ""),
]
ROOT_TEXT = (
    "kisalert is running as root; an alert server needs no privileges, "
    "run it as an unprivileged user"
)


def expected_backlog(answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every alert of the view's server, as raised; `answer` lends hashes and times."""
    own = []
    if os.geteuid() == 0:  # the server warns that it runs as root, through ROOTUSER
        own.append(alert_record(answer[0], "ROOTUSER", "SYSTEM", 15, ROOT_TEXT, phy_id=4294967294))
    return own + [
        alert_record(record, header, klass, severity, text, transmitter=mac, channel=channel)
        for record, (header, klass, severity, text, mac, channel) in zip(
            answer[len(own) :], RAISED, strict=True
        )
    ]


def test_plain_mode_without_fields_is_every_whole_record(view: ViewData) -> None:
    for answer in (ok(call(view)), ok(view.server.get(VIEW))):
        assert len(answer) == view.total
        assert_records(answer, expected_backlog(answer))


def test_plain_mode_applies_regex(view: ViewData) -> None:
    rows = ok(call(view, {"fields": [TEXT], "regex": [["kismet.alert.header", "^VIEWT_LOW$"]]}))
    assert texts(rows) == ["note-2 beta", "note-5 beta"]


# page mode


def test_page_mode_shape_and_counts(view: ViewData) -> None:
    body = paged(view, [TEXT], page="1", length="2", search="note")
    assert set(body) == {"data", "last_page", "last_row", "total_row"}
    assert body["data"] == [{TEXT: "note-3 gamma"}, {TEXT: "note-4 alpha"}]
    assert body["last_page"] == 3
    assert body["last_row"] == 6
    assert body["total_row"] == view.total


def test_page_mode_applies_fields_to_rows(view: ViewData) -> None:
    body = paged(view, [["kismet.alert.header", "h"], TEXT], page="0", length="1", search="note-5")
    assert body["data"] == [{"h": "VIEWT_LOW", TEXT: "note-5 beta"}]
    assert list(body["data"][0]) == ["h", TEXT]


def test_page_mode_without_search_counts_everything(view: ViewData) -> None:
    body = paged(view, [TEXT], page="0", length="4")
    assert body["last_row"] == view.total
    assert body["total_row"] == view.total
    assert body["last_page"] == -(-view.total // 4)
    assert len(body["data"]) == 4


def test_page_mode_size_is_length(view: ViewData) -> None:
    body = paged(view, [TEXT], page="0", size="4", search="NOTE")
    assert texts(body["data"]) == ALL_TEXTS[:4]
    assert body["last_page"] == 2
    assert body["last_row"] == 6


def test_page_mode_last_partial_page(view: ViewData) -> None:
    body = paged(view, [TEXT], page="1", length="4", search="note")
    assert texts(body["data"]) == ALL_TEXTS[4:]
    assert body["last_page"] == 2


@pytest.mark.parametrize("page", ["2", "9", "1000"])
def test_page_past_the_end_is_the_first_page(view: ViewData, page: str) -> None:
    body = paged(view, [TEXT], page=page, length="4", search="note")
    assert texts(body["data"]) == ALL_TEXTS[:4]
    assert body["last_page"] == 2
    assert body["last_row"] == 6


# Numeric (5 < 10 < 20, not "10" < "20" < "5") and stable: equal severities stay oldest first.
BY_SEVERITY_ASC = [
    "note-2 beta",
    "note-5 beta",
    "note-3 gamma",
    "note-6 gamma",
    "note-1 alpha",
    "note-4 alpha",
]
BY_SEVERITY_DESC = [
    "note-1 alpha",
    "note-4 alpha",
    "note-3 gamma",
    "note-6 gamma",
    "note-2 beta",
    "note-5 beta",
]


@pytest.mark.parametrize(
    ("sort_dir", "expected"), [("asc", BY_SEVERITY_ASC), ("desc", BY_SEVERITY_DESC)]
)
def test_page_mode_sort_by_severity(view: ViewData, sort_dir: str, expected: list[str]) -> None:
    body = paged(
        view,
        [TEXT],
        page="0",
        length="10",
        search="note",
        sort="kismet.alert.severity",
        sort_dir=sort_dir,
    )
    assert texts(body["data"]) == expected


def test_page_mode_sort_by_timestamp(view: ViewData) -> None:
    common: dict[str, Any] = {
        "page": "0",
        "length": "10",
        "search": "note",
        "sort": "kismet.alert.timestamp",
    }
    ascending = paged(view, [TEXT], **common, sort_dir="asc")
    descending = paged(view, [TEXT], **common, sort_dir="desc")
    assert texts(ascending["data"]) == ALL_TEXTS
    assert texts(descending["data"]) == ALL_TEXTS[::-1]


def test_page_mode_sort_then_page(view: ViewData) -> None:
    body = paged(view, [TEXT], page="1", length="2", search="note", sort=TEXT, sort_dir="desc")
    assert texts(body["data"]) == ["note-4 alpha", "note-3 gamma"]


def test_page_mode_sort_on_field_not_requested(view: ViewData) -> None:
    body = paged(
        view,
        [TEXT],
        page="0",
        length="2",
        search="note",
        sort="kismet.alert.severity",
        sort_dir="asc",
    )
    assert texts(body["data"]) == ["note-2 beta", "note-5 beta"]


def test_search_is_case_insensitive_over_requested_fields(view: ViewData) -> None:
    body = paged(view, [TEXT], page="0", length="10", search="ALPHA")
    assert texts(body["data"]) == ["note-1 alpha", "note-4 alpha"]
    assert body["last_row"] == 2
    assert body["total_row"] == view.total
    # The header is not among the requested fields, so it is not searched.
    header_only = paged(view, [TEXT], page="0", length="10", search="viewt_low")
    assert header_only["data"] == []
    assert header_only["last_row"] == 0
    renamed = paged(
        view, [["kismet.alert.header", "h"], TEXT], page="0", length="10", search="viewt_low"
    )
    assert texts(renamed["data"]) == ["note-2 beta", "note-5 beta"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("viewt_med", ["note-3 gamma", "note-6 gamma"]),  # header
        ("Probe", ["note-2 beta", "note-5 beta"]),  # class
        ("GAMMA", ["note-3 gamma", "note-6 gamma"]),  # text
        ("ad:be:ef", ["note-2 beta"]),  # MAC, output form
        ("CHAN-XYZ", ["note-3 gamma"]),  # channel
        ("critical", ["note-1 alpha", "note-4 alpha"]),  # severity name
        ("medium", ["note-3 gamma", "note-6 gamma"]),
    ],
)
def test_search_over_default_fields(view: ViewData, term: str, expected: list[str]) -> None:
    body = ok(call(view, None, page="0", length="50", search=term))
    assert texts(body["data"]) == expected
    assert body["last_row"] == len(expected)
    assert next(iter(body["data"][0])) == "kismet.alert.device_key"


def test_page_variables_from_query_string(view: ViewData) -> None:
    response = view.server.post(
        VIEW,
        params={"page": "0", "length": "2", "search": "note"},
        data={"json": json.dumps({"fields": [TEXT]})},
    )
    body = ok(response)
    assert texts(body["data"]) == ALL_TEXTS[:2]
    assert body["last_page"] == 3


def test_page_mode_with_json_body_and_query_variables(view: ViewData) -> None:
    response = view.server.post(
        VIEW + "?page=2&length=2&search=Note",
        data=json.dumps({"fields": [TEXT]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    body = ok(response)
    assert texts(body["data"]) == ALL_TEXTS[4:]


def test_page_mode_over_get(view: ViewData) -> None:
    response = view.server.get(
        VIEW,
        params={
            "json": json.dumps({"fields": [TEXT]}),
            "page": "0",
            "length": "3",
            "search": "note",
            "sort": TEXT,
            "sort_dir": "desc",
        },
    )
    body = ok(response)
    assert texts(body["data"]) == ["note-6 gamma", "note-5 beta", "note-4 alpha"]
    assert body["last_page"] == 2
    assert body["total_row"] == view.total


def test_page_mode_applies_regex(view: ViewData) -> None:
    body = paged(
        view,
        [TEXT],
        regex=[["kismet.alert.header", "^VIEWT_(LOW|MED)$"]],
        page="0",
        length="3",
        search="note",
    )
    assert texts(body["data"]) == ["note-2 beta", "note-3 gamma", "note-5 beta"]
    assert body["last_row"] == 4
    assert body["last_page"] == 2


# datatables mode


def datatable(view: ViewData, fields: list[Any] | None = None, **variables: str) -> Any:
    args: dict[str, Any] = {"datatable": True, "colmap": COLMAP}
    if fields is not None:
        args["fields"] = fields
    return ok(call(view, args, **variables))


def test_datatables_mode(view: ViewData) -> None:
    body = datatable(
        view,
        [TEXT],
        start="1",
        length="3",
        draw="5",
        **{"search[value]": "NOTE-", "order[0][column]": "1", "order[0][dir]": "desc"},
    )
    assert set(body) == {"draw", "data", "recordsTotal", "recordsFiltered"}
    assert body["draw"] == 5
    assert isinstance(body["draw"], int)
    assert body["data"] == [{TEXT: "note-4 alpha"}, {TEXT: "note-3 gamma"}, {TEXT: "note-6 gamma"}]
    assert body["recordsTotal"] == view.total
    assert body["recordsFiltered"] == 6


def test_datatables_ascending_order(view: ViewData) -> None:
    body = datatable(
        view,
        [TEXT],
        start="0",
        length="10",
        draw="12",
        **{"search[value]": "note", "order[0][column]": "1", "order[0][dir]": "asc"},
    )
    assert body["draw"] == 12
    assert texts(body["data"]) == BY_SEVERITY_ASC


def test_datatables_order_by_text_column(view: ViewData) -> None:
    body = datatable(
        view,
        [TEXT],
        start="0",
        length="2",
        draw="1",
        **{"search[value]": "note", "order[0][column]": "2", "order[0][dir]": "desc"},
    )
    assert texts(body["data"]) == ["note-6 gamma", "note-5 beta"]
    assert body["recordsFiltered"] == 6


def test_datatables_default_search_and_no_order(view: ViewData) -> None:
    body = datatable(view, None, start="0", length="10", draw="2", **{"search[value]": "beta"})
    assert texts(body["data"]) == ["note-2 beta", "note-5 beta"]
    assert body["recordsFiltered"] == 2
    assert body["recordsTotal"] == view.total


def test_datatables_without_search_counts_everything(view: ViewData) -> None:
    body = datatable(view, [TEXT], start="0", length="2", draw="3")
    assert body["recordsFiltered"] == view.total
    assert body["recordsTotal"] == view.total
    assert len(body["data"]) == 2


# paging variables that are not numbers


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"page": "abc", "length": "2"}, "page must be a number"),
        ({"page": "0", "length": "two"}, "length must be a number"),
        ({"page": "0", "size": "x"}, "size must be a number"),
        ({"page": "1.5", "length": "2"}, "page must be a number"),
    ],
)
def test_non_numeric_page_variables_are_400(
    view: ViewData, variables: dict[str, str], reason: str
) -> None:
    response = call(view, {"fields": [TEXT]}, **variables)
    assert response.status_code == 400
    assert response.text == f"Invalid request: {reason}\n"


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"start": "x", "length": "2", "draw": "1"}, "start must be a number"),
        ({"start": "0", "length": "many", "draw": "1"}, "length must be a number"),
        ({"start": "0", "length": "2", "draw": "first"}, "draw must be a number"),
        (
            {"start": "0", "length": "2", "draw": "1", "order[0][column]": "col"},
            "order[0][column] must be a number",
        ),
    ],
)
def test_non_numeric_datatables_variables_are_400(
    view: ViewData, variables: dict[str, str], reason: str
) -> None:
    response = call(view, {"datatable": True, "colmap": COLMAP}, **variables)
    assert response.status_code == 400
    assert response.text == f"Invalid request: {reason}\n"
