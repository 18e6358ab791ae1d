"""Field simplification (api.md, "Field simplification (`fields`)")."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kisalert.alert import Alert, AlertDraft
from kisalert.errors import InvalidRequest
from kisalert.fields import MAX_FIELD_NAMES_CHARS, OUTPUT_BOUND, simplifier
from kisalert.location import NO_LOCATION, Location


def record(location: Location | None = None) -> dict[str, Any]:
    draft = AlertDraft(
        header="DEAUTHFLOOD",
        klass="DENIAL",
        severity=10,
        phy=0,
        text="deauth flood on 6",
        transmitter="AA:BB:CC:DD:EE:FF",
        source="11:22:33:44:55:66",
        channel="",
        location=location or NO_LOCATION,
    )
    return Alert.from_draft(draft, 1_764_420_000_500_000, 1234).record


def simplify(spec: object, rec: dict[str, Any]) -> dict[str, Any]:
    fn = simplifier(spec)
    assert fn is not None
    return fn(rec)


def test_keeps_only_requested_fields_in_request_order() -> None:
    out = simplify(["kismet.alert.text", "kismet.alert.header", "kismet.alert.hash"], record())
    assert list(out.items()) == [
        ("kismet.alert.text", "deauth flood on 6"),
        ("kismet.alert.header", "DEAUTHFLOOD"),
        ("kismet.alert.hash", 1234),
    ]


def test_order_is_the_request_order_not_the_record_order() -> None:
    spec = ["kismet.alert.location", "kismet.alert.timestamp", "kismet.alert.device_key"]
    assert list(simplify(spec, record())) == spec


def test_rename() -> None:
    spec = [["kismet.alert.header", "name"], "kismet.alert.class", ["kismet.alert.text", "t"]]
    out = simplify(spec, record())
    assert list(out.items()) == [
        ("name", "DEAUTHFLOOD"),
        ("kismet.alert.class", "DENIAL"),
        ("t", "deauth flood on 6"),
    ]


def test_nested_path_is_keyed_by_its_last_component() -> None:
    rec = record(Location(52.5, 13.25, 34.0, 3))
    out = simplify(
        [
            "kismet.alert.location/kismet.common.location.geopoint",
            ["kismet.alert.location/kismet.common.location.alt", "alt"],
        ],
        rec,
    )
    assert out == {"kismet.common.location.geopoint": [13.25, 52.5], "alt": 34.0}
    assert list(out) == ["kismet.common.location.geopoint", "alt"]


def test_whole_nested_record() -> None:
    out = simplify(["kismet.alert.location"], record())
    assert out == {"kismet.alert.location": {"kismet.common.location.geopoint": [0, 0]}}


def test_missing_field_is_zero_under_the_same_key() -> None:
    out = simplify(
        [
            "kismet.alert.header",
            "kismet.device.base.name",
            ["no.such.field", "renamed"],
            "kismet.alert.location/kismet.common.location.alt",
            "kismet.alert.text/deeper",
        ],
        record(),
    )
    assert out == {
        "kismet.alert.header": "DEAUTHFLOOD",
        "kismet.device.base.name": 0,
        "renamed": 0,
        "kismet.common.location.alt": 0,
        "deeper": 0,
    }
    assert "field.unknown.not.registered" not in out


def test_present_falsy_values_are_kept() -> None:
    out = simplify(["kismet.alert.channel", "kismet.alert.frequency"], record())
    assert out == {"kismet.alert.channel": "", "kismet.alert.frequency": 0}
    assert out["kismet.alert.channel"] == ""


def test_simplifying_does_not_change_the_record() -> None:
    rec = record()
    before = dict(rec)
    simplify(["kismet.alert.text"], rec)
    assert rec == before


def test_same_simplifier_applies_to_many_records() -> None:
    fn = simplifier([["kismet.alert.hash", "id"]])
    assert fn is not None
    first, second = record(), record()
    second["kismet.alert.hash"] = 99
    assert [fn(first), fn(second)] == [{"id": 1234}, {"id": 99}]


def test_no_fields_means_no_simplification() -> None:
    assert simplifier(None) is None


@pytest.mark.parametrize(
    "spec",
    [
        "kismet.alert.text",
        {"kismet.alert.text": "t"},
        42,
        [42],
        [None],
        [{"kismet.alert.text": "t"}],
        [[]],
        [["kismet.alert.text", "t", "extra"]],
        [["kismet.alert.text", 5]],
        [[5, "t"]],
        [""],
        ["/"],
        ["kismet.alert.text", ["kismet.alert.header", None]],
    ],
)
def test_malformed_spec_is_invalid_request(spec: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        simplifier(spec)
    assert str(info.value) == "Invalid request: invalid field specification"


def test_at_most_256_fields() -> None:
    assert simplifier(["kismet.alert.header"] * 256) is not None
    with pytest.raises(InvalidRequest, match="more than 256 fields"):
        simplifier(["kismet.alert.header"] * 257)


def test_fields_are_bounded_in_length() -> None:
    with pytest.raises(InvalidRequest, match="longer than 16384 characters"):
        simplifier([["kismet.alert.text", "r" * 9000], ["kismet.alert.text", "s" * 9000]])


# The output bound (issue 9): a spec cannot make a record's answer much larger than the
# record, however it repeats or renames fields.


def test_the_same_field_under_two_names_is_refused() -> None:
    spec = [["kismet.alert.text", f"copy{i}"] for i in range(256)]
    with pytest.raises(InvalidRequest) as info:
        simplifier(spec)
    assert str(info.value) == (
        "Invalid request: invalid field specification: entry 2 selects the field of entry 1"
    )


@pytest.mark.parametrize(
    "spec",
    [
        [["kismet.alert.header", "x"], ["kismet.alert.text", "x"]],
        # ekjson writes "a.b" as "a_b": they would merge there.
        [["kismet.alert.header", "a.b"], ["kismet.alert.text", "a_b"]],
        [
            "kismet.alert.location/kismet.common.location.fix",
            ["kismet.alert.text", "kismet.common.location.fix"],
        ],
    ],
)
def test_two_fields_under_one_name_are_refused(spec: list[Any]) -> None:
    # The answer kept only the last of them, without a word.
    with pytest.raises(InvalidRequest) as info:
        simplifier(spec)
    assert str(info.value) == (
        "Invalid request: invalid field specification: entry 2 has the name of entry 1"
    )


def test_a_path_and_a_rename_of_it_are_the_same_field() -> None:
    with pytest.raises(InvalidRequest, match="entry 2 selects the field of entry 1"):
        simplifier(["kismet.alert.text", ["/kismet.alert.text/", "t"]])


def test_a_field_inside_another_is_refused() -> None:
    spec = ["kismet.alert.header", "kismet.alert.location/kismet.common.location.geopoint"]
    with pytest.raises(InvalidRequest) as info:
        simplifier([*spec, "kismet.alert.location"])
    assert str(info.value) == (
        "Invalid request: invalid field specification: entry 2 lies inside entry 3"
    )


def test_an_exact_repeat_is_answered_once() -> None:
    spec = ["kismet.alert.header", ["kismet.alert.text", "t"], ["kismet.alert.text", "t"]]
    assert simplify(spec, record()) == {
        "kismet.alert.header": "DEAUTHFLOOD",
        "t": "deauth flood on 6",
    }
    assert simplify(["kismet.alert.header"] * 256, record()) == {
        "kismet.alert.header": "DEAUTHFLOOD"
    }


def test_field_names_are_bounded() -> None:
    fits = [[f"no.such.{i}", "n" * 13 + f"{i:03}"] for i in range(MAX_FIELD_NAMES_CHARS // 18)]
    assert simplifier(fits) is not None
    with pytest.raises(InvalidRequest) as info:
        simplifier([*fits, ["one.more", "n" * 18]])
    assert str(info.value) == (
        "Invalid request: invalid field specification: field names longer than 4096 characters"
    )


def test_names_are_counted_as_json_writes_them() -> None:
    # A control character is six bytes in the answer (\u0001).
    with pytest.raises(InvalidRequest, match="field names longer"):
        simplifier([["kismet.alert.text", "\x01" * 700]])


# Kismet's web UI, alerts tab (kismet.ui.alerts.js): its columns and the hidden hash.
UI_ALERT_FIELDS = [
    "kismet.alert.header",
    "kismet.alert.class",
    "kismet.alert.severity",
    "kismet.alert.timestamp",
    "kismet.alert.transmitter_mac",
    "kismet.alert.source_mac",
    "kismet.alert.dest_mac",
    "kismet.alert.text",
    "kismet.alert.hash",
]


@pytest.mark.parametrize(
    "spec",
    [
        UI_ALERT_FIELDS,
        # Renames of distinct fields, nested parts side by side.
        [
            ["kismet.alert.header", "name"],
            ["kismet.alert.location/kismet.common.location.geopoint", "where"],
            ["kismet.alert.location/kismet.common.location.alt", "alt"],
            ["kismet.alert.text", "text"],
        ],
    ],
)
def test_real_specs_still_work(spec: list[Any]) -> None:
    out = simplify(spec, record(Location(52.5, 13.25, 34.0, 3)))
    assert len(out) == len(spec)


RECORD_PATHS = [
    ("kismet.alert.text",),
    ("kismet.alert.header",),
    ("kismet.alert.hash",),
    ("kismet.alert.location",),
    ("kismet.alert.location", "kismet.common.location.geopoint"),
    ("kismet.alert.location", "kismet.common.location.alt"),
    ("kismet.alert.severity",),
    ("no.such.field",),
    ("kismet.alert.text", "deeper"),
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(RECORD_PATHS) | st.lists(st.text(min_size=1), min_size=1, max_size=3),
            st.none() | st.text(max_size=40),
        ),
        min_size=1,
        max_size=300,
    )
)
def test_an_accepted_spec_never_makes_a_record_larger_than_the_bound(
    entries: list[tuple[Any, str | None]],
) -> None:
    rec = record(Location(52.5, 13.25, 34.0, 3))
    rec["kismet.alert.text"] = "t" * 16384
    spec = [["/".join(path)] if key is None else ["/".join(path), key] for path, key in entries]
    try:
        fn = simplifier(spec)
    except InvalidRequest:
        return
    assert fn is not None
    assert len(orjson.dumps(fn(rec))) <= len(orjson.dumps(rec)) + OUTPUT_BOUND
