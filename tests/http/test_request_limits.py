"""Per-request limits a reader of the README can see: one request cannot stall others."""

from __future__ import annotations

import time

from tests.server import Server


def test_thousands_of_regex_rules_answer_400_at_once(shared_server: Server) -> None:
    rules = [["kismet.alert.text", f"needle-{i}"] for i in range(5000)]
    started = time.monotonic()
    response = shared_server.post("/alerts/all_alerts.json", json={"regex": rules})
    assert response.status_code == 400
    assert response.text == "Invalid regex: regex may hold at most 64 [field, pattern] pairs\n"
    assert time.monotonic() - started < 5  # generous: it was 6-26 s of a held loop


def test_a_pattern_over_1024_characters_answers_400(shared_server: Server) -> None:
    response = shared_server.post(
        "/alerts/all_alerts.json", json={"regex": [["kismet.alert.text", "x" * 1025]]}
    )
    assert response.status_code == 400
    assert "at most 1024 characters" in response.text


def test_64_rules_still_work(shared_server: Server) -> None:
    rules = [["kismet.alert.header", f"^NOSUCH{i}$"] for i in range(64)]
    response = shared_server.post("/alerts/all_alerts.json", json={"regex": rules})
    assert response.status_code == 200
    assert response.json() == []


def test_thousands_of_field_renames_answer_400(shared_server: Server) -> None:
    renames = [["kismet.alert.text", f"copy{i}"] for i in range(2000)]
    response = shared_server.post("/alerts/all_alerts.json", json={"fields": renames})
    assert response.status_code == 400
    assert response.text == "Invalid request: invalid field specification: more than 256 fields\n"
