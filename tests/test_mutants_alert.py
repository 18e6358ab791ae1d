"""An alert keeps the bytes and the stamp it was made with: a stored alert is served as
its log holds it, and a new alert's stamp is the one handed out, to the microsecond."""

from __future__ import annotations

import orjson

from kisalert.alert import Alert, AlertDraft

# An alert row's `json` as another program (Kismet, in an imported log) may write it:
# spaced, with an escaped non-ASCII letter and a trailing zero orjson would not write.
FOREIGN_JSON = (
    b'{"kismet.alert.hash": 4660, "kismet.alert.header": "DEAUTHFLOOD", '
    b'"kismet.alert.timestamp": 1700000000.250000, "kismet.alert.text": "caf\\u00e9"}'
)


def test_an_alert_read_from_a_log_is_served_with_the_bytes_the_log_holds() -> None:
    alert = Alert.from_json(FOREIGN_JSON)
    assert alert is not None
    assert alert.json == FOREIGN_JSON
    assert alert.record["kismet.alert.text"] == "café"
    assert (alert.alert_id, alert.header, alert.timestamp_us) == (
        4660,
        "DEAUTHFLOOD",
        1_700_000_000_250_000,
    )


def test_a_new_alert_keeps_its_stamp_where_seconds_as_a_double_cannot_hold_it() -> None:
    # Past 2**53 µs (the year 2255) the record's seconds round to a neighbouring
    # microsecond; the stamp the log and `last-time` polls use must not move with them.
    draft = AlertDraft("FUTURE", "SYSTEM", 0, 0, "t")
    for stamp in (2**53 + 1, 9_007_199_251_094_695):
        alert = Alert.from_draft(draft, stamp, 7)
        assert alert.timestamp_us == stamp
        assert round(alert.record["kismet.alert.timestamp"] * 1_000_000) != stamp
        assert alert.json == orjson.dumps(alert.record)


def test_a_stored_row_no_server_could_serve_is_none_not_an_error() -> None:
    assert Alert.from_json(b'{"kismet.alert.hash": 5}') is None  # no header
    assert Alert.from_json(FOREIGN_JSON.replace(b"1700000000.250000", b'"x"')) is None
    assert Alert.from_json(b"{not json") is None
