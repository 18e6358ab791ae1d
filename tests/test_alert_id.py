"""The alert id (model.md, "The alert id"), and the alert record built around it."""

from __future__ import annotations

import json
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kisalert.alert import Alert, AlertDraft
from kisalert.alert_id import checksum, hashed_text, next_free
from kisalert.location import Location
from kisalert.timestamps import format_timestamp, to_micros
from tests.records import ALERT_KEYS

VECTORS_PATH = Path(__file__).parent / "fixtures" / "hash_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text())


def reference_checksum(data: bytes) -> int:
    """The spec's definition, spelled out."""
    if len(data) < 4:
        return 0
    s1 = s2 = 0
    for byte in data:
        s1 += byte
        s2 += s1
    return ((s2 & 0xFFFF) << 16) | (s1 & 0xFFFF)


def signed_phy(phy_u32: int) -> int:
    return phy_u32 - (1 << 32) if phy_u32 >= 1 << 31 else phy_u32


def vector_id(vector: dict[str, Any]) -> str:
    return f"{vector['header']}-{vector['timestamp']}"


def vector_draft(vector: dict[str, Any], text: str) -> AlertDraft:
    """The draft of the alert a vector describes; the text is not part of the hash."""
    return AlertDraft(
        header=vector["header"],
        klass="OTHER",
        severity=vector["severity"],
        phy=signed_phy(vector["phy_u32"]),
        text=text,
        transmitter=vector["transmitter"],
        source=vector["source"],
        dest=vector["dest"],
        other=vector["other"],
        channel=vector["channel"],
    )


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 5


@pytest.mark.parametrize("vector", VECTORS, ids=vector_id)
def test_checksum_of_vector_text(vector: dict[str, Any]) -> None:
    assert checksum(vector["hashed_text"].encode()) == vector["hash"]


@pytest.mark.parametrize("vector", VECTORS, ids=vector_id)
def test_hashed_text_of_vector(vector: dict[str, Any]) -> None:
    text = hashed_text(
        vector["header"],
        vector["severity"],
        vector["phy_u32"],
        format_timestamp(vector["timestamp"]),
        vector["transmitter"],
        vector["source"],
        vector["dest"],
        vector["other"],
        vector["channel"],
    )
    assert text == vector["hashed_text"]


@pytest.mark.parametrize("vector", VECTORS, ids=vector_id)
def test_draft_checksum_of_vector(vector: dict[str, Any]) -> None:
    draft = vector_draft(vector, text="the text is not part of the hash")
    assert draft.checksum(to_micros(vector["timestamp"])) == vector["hash"]


@pytest.mark.parametrize("vector", VECTORS, ids=vector_id)
def test_alert_record_carries_the_vector_hash(vector: dict[str, Any]) -> None:
    draft = vector_draft(vector, text="x")
    stamp = to_micros(vector["timestamp"])
    alert = Alert.from_draft(draft, stamp, draft.checksum(stamp))
    record = orjson.loads(alert.json)
    assert record["kismet.alert.hash"] == vector["hash"] == alert.alert_id
    assert record["kismet.alert.phy_id"] == vector["phy_u32"]
    assert record["kismet.alert.timestamp"] == vector["timestamp"]


@pytest.mark.parametrize("data", [b"", b"a", b"ab", b"abc", b"\xff\xff\xff"])
def test_fewer_than_four_bytes_is_zero(data: bytes) -> None:
    assert checksum(data) == 0


def test_four_bytes() -> None:
    # s1 = 97+98+99+100 = 394; s2 = 97+195+294+394 = 980
    assert checksum(b"abcd") == (980 << 16) | 394


@pytest.mark.parametrize(
    "data",
    [b"\xff" * 1000, b"\x80" * 70_000, bytes(range(256)) * 40, ("Ünïcødé ✓ alert" * 20).encode()],
)
def test_no_modulus_only_sixteen_bit_truncation(data: bytes) -> None:
    assert checksum(data) == reference_checksum(data)
    s1 = sum(data)
    s2 = sum(accumulate(data))
    assert s1 > 0xFFFF or s2 > 0xFFFF
    # Not adler32: no reduction modulo 65521 before truncating.
    assert checksum(data) != ((s2 % 65521) << 16) | (s1 % 65521)


@given(st.binary(max_size=300))
def test_checksum_equals_the_definition(data: bytes) -> None:
    assert checksum(data) == reference_checksum(data)


@pytest.mark.parametrize("size", [4, 20, 21, 22, 41, 42, 43, 64, 16_384])
@pytest.mark.parametrize("byte", [0x00, 0x7F, 0xFF])
def test_checksum_at_chunk_edges(size: int, byte: int) -> None:
    # All-0xFF chunks bring adler32's sums closest to its modulus.
    data = bytes([byte]) * size
    assert checksum(data) == reference_checksum(data)
    assert checksum(data[:-1] + b"\x01") == reference_checksum(data[:-1] + b"\x01")


def test_checksum_is_of_utf8_bytes() -> None:
    text = "ÉTÉ 10 4294967295 1764420000 00:00:00:00:00:00"
    draft = AlertDraft("ÉTÉ", "OTHER", 10, -1, "t")
    assert checksum(text.encode("utf-8")) == reference_checksum(text.encode("utf-8"))
    full = hashed_text(
        "ÉTÉ",
        10,
        4294967295,
        "1764420000",
        "00:00:00:00:00:00",
        "00:00:00:00:00:00",
        "00:00:00:00:00:00",
        "00:00:00:00:00:00",
        "",
    )
    assert draft.checksum(1_764_420_000_000_000) == reference_checksum(full.encode("utf-8"))


def test_timestamp_in_hashed_text_has_no_trailing_zero() -> None:
    draft = AlertDraft("X", "OTHER", 10, 0, "t")
    zero = "00:00:00:00:00:00"
    integral = hashed_text("X", 10, 0, "1764420000", zero, zero, zero, zero, "").encode()
    assert draft.checksum(1_764_420_000_000_000) == checksum(integral)
    assert draft.checksum(1_764_420_000_500_000) == checksum(
        hashed_text("X", 10, 0, "1764420000.5", zero, zero, zero, zero, "").encode()
    )


def test_next_free_returns_wanted_when_free() -> None:
    assert next_free(12345, set()) == 12345
    assert next_free(12345, {1, 2, 12344, 12346}) == 12345


def test_next_free_skips_taken_values() -> None:
    assert next_free(10, {10}) == 11
    assert next_free(10, {10, 11, 12}) == 13
    assert next_free(10, {10, 12}) == 11


def test_next_free_wraps_mod_2_32() -> None:
    top = 0xFFFFFFFF
    assert next_free(top, set()) == top
    assert next_free(top, {top}) == 0
    assert next_free(top, {top, 0, 1}) == 2
    assert next_free(top - 1, {top - 1, top}) == 0


def test_alert_record_keys_in_order() -> None:
    draft = AlertDraft("DEAUTHFLOOD", "DENIAL", 10, 0, "flood")
    alert = Alert.from_draft(draft, 1_764_420_000_123_456, 99)
    record = orjson.loads(alert.json)
    assert list(record) == ALERT_KEYS
    assert record == {
        "kismet.alert.device_key": "00_0",
        "kismet.alert.header": "DEAUTHFLOOD",
        "kismet.alert.class": "DENIAL",
        "kismet.alert.hash": 99,
        "kismet.alert.severity": 10,
        "kismet.alert.phy_id": 0,
        "kismet.alert.timestamp": 1764420000.123456,
        "kismet.alert.transmitter_mac": "00:00:00:00:00:00",
        "kismet.alert.source_mac": "00:00:00:00:00:00",
        "kismet.alert.dest_mac": "00:00:00:00:00:00",
        "kismet.alert.other_mac": "00:00:00:00:00:00",
        "kismet.alert.channel": "",
        "kismet.alert.frequency": 0,
        "kismet.alert.text": "flood",
        "kismet.alert.location": {"kismet.common.location.geopoint": [0, 0]},
    }
    assert alert.alert_id == 99
    assert alert.timestamp_us == 1_764_420_000_123_456


def test_alert_record_integral_doubles_are_integers() -> None:
    alert = Alert.from_draft(AlertDraft("X", "OTHER", 10, -1, "t"), 1_764_420_000_000_000, 1)
    assert b'"kismet.alert.timestamp":1764420000,' in alert.json
    assert b'"kismet.alert.frequency":0,' in alert.json
    assert b'"kismet.common.location.geopoint":[0,0]' in alert.json
    assert orjson.loads(alert.json)["kismet.alert.phy_id"] == 4294967295


def test_alert_record_with_position() -> None:
    location = Location(52.5, 13.25, 34.0, 3)
    draft = AlertDraft("X", "OTHER", 10, -1, "t", location=location)
    record = orjson.loads(Alert.from_draft(draft, 1_764_420_000_250_000, 1).json)
    assert record["kismet.alert.location"] == {
        "kismet.common.location.geopoint": [13.25, 52.5],
        "kismet.common.location.alt": 34.0,
        "kismet.common.location.fix": 3,
        "kismet.common.location.time_sec": 1_764_420_000,
        "kismet.common.location.time_usec": 250_000,
    }


def test_alert_round_trips_through_stored_json() -> None:
    alert = Alert.from_draft(AlertDraft("X", "OTHER", 10, -1, "t"), 1_764_420_000_000_001, 7)
    again = Alert.from_json(alert.json)
    assert again is not None
    assert again.record == alert.record
    assert again.alert_id == 7
    assert again.header == "X"
    assert again.timestamp_us == 1_764_420_000_000_001
