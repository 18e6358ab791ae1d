"""Silences as a unit: matchers, windows, commands, config lines, hits and the store's
file (forward/silences.py, store/silencefile.py)."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from kisalert.clock import ManualClock
from kisalert.forward.silences import (
    ACTIVE,
    CONFIG,
    EXPIRED,
    MAX_EXPIRED,
    MAX_SILENCES,
    PENDING,
    RETENTION,
    Matchers,
    Silence,
    SilenceError,
    Silences,
    from_command,
    from_config,
    parse_duration,
    parse_when,
)
from kisalert.store.memory import MemoryStore
from kisalert.store.silencefile import SilenceFile
from tests.forward.alerts import START_US, make_alert

NOW = START_US / 1e6 + 10.0
AP = "00:11:22:33:44:55"


def matching(values: dict[str, str], **alert: str) -> bool:
    return Matchers.parse(values).matches(make_alert(**alert))  # type: ignore[arg-type]


def test_header_matcher_takes_a_list_in_any_case() -> None:
    assert matching({"header": "rogueap|deauthflood"}, header="ROGUEAP")
    assert matching({"header": "DEAUTHFLOOD|ROGUEAP"}, header="ROGUEAP")
    assert not matching({"header": "DEAUTHFLOOD"}, header="ROGUEAP")


def test_mac_matchers_by_field_alias_any_and_mask() -> None:
    assert matching({"transmitter": AP}, transmitter=AP)
    assert matching({"bssid": "00-11-22-33-44-55"}, transmitter=AP)  # a raise's bssid
    assert not matching({"source": AP}, transmitter=AP)
    assert matching({"mac": AP}, transmitter=AP)
    assert matching({"mac": AP}, source=AP)
    assert not matching({"mac": "00:11:22:33:44:56"}, source=AP)
    oui = "00:11:22:00:00:00/FF:FF:FF:00:00:00"
    assert matching({"source": oui}, source=AP)
    assert not matching({"source": oui}, source="00:11:23:33:44:55")


def test_every_matcher_must_match() -> None:
    values = {"header": "ROGUEAP", "transmitter": AP, "channel": "6", "text": "corp"}
    assert matching(values, transmitter=AP, channel="6")
    assert not matching(values, transmitter=AP, channel="11")
    assert not matching(values, transmitter=AP, channel="6", text="guest network")
    assert not matching(values, channel="6")


def test_text_matcher_is_an_re2_search() -> None:
    assert matching({"text": r"from 00:11:22:\w\w"})
    assert not matching({"text": "^from"})


def test_matchers_are_kept_in_their_normal_form() -> None:
    found = Matchers.parse(
        {
            "header": "rogueap|deauthflood",
            "bssid": "0011223344AA",
            "source": "0:1:2:0:0:0/ff:ff:ff:0:0:0",
        }
    )
    assert found.given == {
        "header": "DEAUTHFLOOD|ROGUEAP",
        "transmitter": "00:11:22:33:44:AA",
        "source": "00:01:02:00:00:00/FF:FF:FF:00:00:00",
    }
    assert Matchers.parse(found.given).given == found.given


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({}, "at least one matcher"),
        ({"colour": "red"}, "unknown matcher 'colour'"),
        ({"transmitter": "not a mac"}, "transmitter needs a MAC address"),
        ({"bssid": AP, "transmitter": AP}, "transmitter is given twice"),
        ({"header": "|"}, "one or more names"),
        ({"text": "(unclosed"}, "bad text pattern"),
        ({"text": "x" * 2000}, "at most"),
        ({"channel": ""}, "channel needs"),
    ],
)
def test_bad_matchers_say_why_in_one_line(values: dict[str, str], reason: str) -> None:
    with pytest.raises(SilenceError, match=reason) as caught:
        Matchers.parse(values)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("1.5d", 129600.0),
        ("1w", 604800.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "0", "0.001", "0.5s", "-5m", "2 hours", "nan", "inf", "11000d"]
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(SilenceError):
        parse_duration(text)


@pytest.mark.parametrize("duration", [0.001, 0.999])
def test_a_duration_in_seconds_under_one_is_refused_as_the_message_says(duration: float) -> None:
    with pytest.raises(SilenceError, match=r"\(1 s to 10 years\)"):
        from_command({"header": "A", "comment": "c", "duration": duration}, "a", NOW)
    assert from_command({"header": "A", "comment": "c", "duration": 1}, "a", NOW).expires == NOW + 1


def test_times_in_iso_8601_need_a_zone() -> None:
    assert parse_when("2026-12-31T00:00:00Z") == 1798675200.0
    assert parse_when("1798675200") == 1798675200.0
    with pytest.raises(SilenceError, match="time zone"):
        parse_when("2026-12-31T00:00:00")
    with pytest.raises(SilenceError, match="ISO 8601"):
        parse_when("tomorrow")


def test_a_command_makes_a_silence_with_its_window() -> None:
    silence = from_command(
        {"transmitter": AP, "comment": "our lab AP", "duration": "2h"}, "admin", NOW
    )
    assert (silence.starts, silence.expires) == (NOW, NOW + 7200)
    assert silence.created_by == "admin"
    assert len(silence.id) == 32
    assert silence.state(NOW) == ACTIVE
    assert silence.state(NOW + 7200) == EXPIRED
    later = from_command(
        {"header": "X", "comment": "c", "starts": NOW + 60, "expires": NOW + 120}, "admin", NOW
    )
    assert later.state(NOW) == PENDING
    assert later.state(NOW + 60) == ACTIVE
    assert later.record(NOW)["kisalert.silence.expires"] == NOW + 120


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"header": "X", "duration": "1h"}, "needs a comment"),
        ({"header": "X", "comment": "  ", "duration": "1h"}, "needs a comment"),
        ({"header": "X", "comment": "c"}, "needs a duration or expires"),
        ({"header": "X", "comment": "c", "duration": 1, "expires": NOW + 9}, "not both"),
        ({"header": "X", "comment": "c", "expires": NOW - 1}, "after starts"),
        ({"header": "X", "comment": "c", "duration": True}, "must be a number"),
        ({"header": 7, "comment": "c", "duration": 60}, "'header' must be a string"),
        ({"header": "X", "comment": "c" * 2000, "duration": 60}, "at most"),
        ({"comment": "c", "duration": 60}, "at least one matcher"),
        ({"header": "X", "comment": "c", "duration": 60, "starts": 1e300}, "out of range"),
        ({"header": "X", "comment": "c", "duration": float("nan")}, "out of range"),
    ],
)
def test_bad_commands_say_why(args: dict[str, object], reason: str) -> None:
    with pytest.raises(SilenceError, match=reason):
        from_command(args, "admin", NOW)


def test_a_config_line_holds_until_it_goes_and_keeps_its_id() -> None:
    options = {"header": "DEAUTHFLOOD", "bssid": AP, "comment": "noisy lab"}
    silence = from_config(options, NOW)
    assert silence.origin == CONFIG
    assert silence.expires is None
    assert silence.state(NOW + 10 * 365 * 86400) == ACTIVE
    assert from_config(dict(options), NOW + 99).id == silence.id
    assert from_config(options | {"comment": "other"}, NOW).id != silence.id
    ending = from_config(options | {"expires": "1970-01-02T00:00:00+00:00"}, NOW)
    assert ending.state(NOW) == EXPIRED


def test_silences_mute_only_while_in_force_and_count_each_alert_once() -> None:
    silences = Silences()
    silence = from_command({"header": "ROGUEAP", "comment": "c", "duration": 60}, "a", NOW)
    silences.add(silence, NOW)
    first, second, other = make_alert(1), make_alert(2), make_alert(3, header="DEAUTHFLOOD")
    # Two outputs ask of the same alerts: one ahead of the other.
    assert silences.mutes(first, NOW) and silences.mutes(second, NOW)
    assert silences.mutes(first, NOW) and silences.mutes(second, NOW)
    assert not silences.mutes(other, NOW)
    assert silence.hits == 2
    assert silences.dirty
    assert silences.hits() == {silence.id: 2}
    assert not silences.mutes(make_alert(4), NOW + 60)  # expired
    assert not silences.mutes(make_alert(5), NOW - 1)  # not started


def test_expire_ends_an_api_silence_but_not_a_config_one() -> None:
    configured = from_config({"header": "ROGUEAP", "comment": "c"}, NOW)
    silences = Silences([configured])
    made = from_command({"header": "ROGUEAP", "comment": "c", "duration": 60}, "a", NOW)
    silences.add(made, NOW)
    silences.expire(made, NOW + 5)
    assert made.expires == NOW + 5
    assert made.state(NOW + 5) == EXPIRED
    with pytest.raises(SilenceError, match="config file"):
        silences.expire(configured, NOW)
    assert silences.mutes(make_alert(1), NOW + 6)  # the config one still holds


def test_an_expired_pending_silence_is_expired_and_frees_its_place() -> None:
    """Ended before it began: it stayed pending until its start, counting against
    the cap, so that expiring them all made no room for the one an incident needs."""
    silences = Silences()
    later = NOW + 86_400
    pending = []
    for n in range(MAX_SILENCES):
        made = from_command(
            {"header": f"A{n}", "comment": "c", "starts": later, "duration": 60}, "a", NOW
        )
        silences.add(made, NOW)
        pending.append(made)
    assert pending[0].state(NOW) == PENDING
    with pytest.raises(SilenceError, match="at most"):
        silences.add(from_command({"header": "B", "comment": "c", "duration": 60}, "a", NOW), NOW)
    for made in pending:
        silences.expire(made, NOW + 1)
    assert {made.state(NOW + 1) for made in pending} == {EXPIRED}
    assert pending[0].starts <= pending[0].expires == NOW + 1  # type: ignore[operator]
    silences.add(from_command({"header": "B", "comment": "c", "duration": 60}, "a", NOW), NOW + 1)


def test_expired_silences_are_listed_for_a_while_then_forgotten() -> None:
    silences = Silences()
    old = from_command({"header": "A", "comment": "c", "duration": 60}, "a", NOW)
    new = from_command({"header": "B", "comment": "c", "duration": 60}, "a", NOW + 1)
    silences.add(old, NOW)
    silences.add(new, NOW + 1)
    assert silences.all(NOW + 2) == [new, old]
    assert silences.all(NOW + 61 + RETENTION) == []
    assert silences.forget(NOW + 60 + RETENTION) == [old.id]  # ended NOW + 60
    assert silences.forget(NOW + 61 + RETENTION) == [new.id]
    assert silences.get(new.id) is None


def test_only_the_newest_expired_are_kept_however_many_are_made() -> None:
    """Made and expired in a loop, silences would pile up for five days each."""
    silences = Silences()
    held = from_command({"header": "HELD", "comment": "c", "duration": 3600}, "a", NOW)
    silences.add(held, NOW)
    made = []
    for n in range(MAX_EXPIRED + 3):
        at = NOW + n / 1000
        silence = from_command({"header": f"H{n}", "comment": "c", "duration": 60}, "a", at)
        silences.add(silence, at)
        silences.expire(silence, at)
        made.append(silence)
    assert set(silences.forget(NOW + 2)) == {silence.id for silence in made[:3]}
    assert silences.forget(NOW + 2) == []
    assert len(silences.all(NOW + 2)) == MAX_EXPIRED + 1
    assert silences.get(held.id) is held  # in force: never forgotten


def test_the_store_forgets_silences_and_their_hits_in_its_file(tmp_path: Path) -> None:
    async def test() -> None:
        path = tmp_path / "silences.json"
        store = MemoryStore(ManualClock(), silence_file=SilenceFile(path))
        kept = from_command({"header": "A", "comment": "c", "duration": 60}, "a", NOW)
        gone = from_command({"header": "B", "comment": "c", "duration": 60}, "a", NOW)
        for silence in (kept, gone):
            await store.put_silence(silence)
        await store.put_silence_hits({kept.id: 2, gone.id: 3})
        await store.forget_silences([gone.id])
        for where in (store, MemoryStore(ManualClock(), silence_file=SilenceFile(path))):
            silences, hits = await where.silences()
            assert [silence.id for silence in silences] == [kept.id]
            assert hits == {kept.id: 2}

    asyncio.run(test())


def test_at_most_so_many_silences_in_force() -> None:
    silences = Silences()
    for n in range(MAX_SILENCES):
        silences.add(
            from_command({"header": f"H{n}", "comment": "c", "duration": 60}, "a", NOW), NOW
        )
    extra = from_command({"header": "X", "comment": "c", "duration": 60}, "a", NOW)
    with pytest.raises(SilenceError, match=str(MAX_SILENCES)):
        silences.add(extra, NOW)
    silences.add(extra, NOW + 60)  # once the others have expired


def test_load_merges_the_store_expiries_and_hits() -> None:
    silences = Silences()
    mine = from_command({"header": "A", "comment": "c", "duration": 60}, "a", NOW)
    silences.add(mine, NOW)
    stored = Silence.from_stored(mine.stored())
    stored.expires = NOW + 1  # expired on another replica
    theirs = from_command({"header": "B", "comment": "c", "duration": 60}, "a", NOW)
    silences.load([stored, theirs], {mine.id: 7, theirs.id: 3, "gone": 1}, NOW)
    assert mine.expires == NOW + 1
    assert silences.get(theirs.id) is theirs
    assert (mine.hits, theirs.hits) == (7, 3)


def test_a_copy_follows_the_set_by_wire_and_keeps_its_own_hits() -> None:
    """The forwarding process's copy: made and changed from `wire`, counting hits
    that the server takes back with `count`."""
    configured = from_config({"header": "A", "comment": "c"}, NOW)
    server = Silences([configured])
    heard: list[int] = []
    server.listeners.append(lambda: heard.append(1))
    made = from_command({"header": "B", "comment": "c", "duration": 60}, "a", NOW)
    server.add(made, NOW)
    copy = Silences()
    copy.replace(server.wire(), NOW)
    assert [(s.id, s.origin, s.expires) for s in copy.all(NOW)] == [
        (s.id, s.origin, s.expires) for s in server.all(NOW)
    ]
    assert copy.mutes(make_alert(1, header="B"), NOW)
    assert copy.mutes(make_alert(2, header="A"), NOW)
    copy.mutes(make_alert(3, header="B"), NOW)
    assert copy.hits() == {made.id: 2, configured.id: 1}
    assert copy.get(configured.id).origin == CONFIG  # type: ignore[union-attr]

    server.expire(made, NOW + 5)
    other = from_command({"header": "C", "comment": "c", "duration": 60}, "a", NOW)
    server.add(other, NOW)
    copy.replace(server.wire(), NOW + 6)
    assert not copy.mutes(make_alert(4, header="B"), NOW + 6)  # expired on the server
    assert copy.mutes(make_alert(5, header="C"), NOW + 6)
    assert copy.hits()[made.id] == 2  # kept across the change
    server.discard(other.id)
    copy.replace(server.wire(), NOW + 6)
    assert copy.get(other.id) is None
    assert len(heard) == 4  # add, expire, add, discard

    server.dirty = False
    server.count({made.id: 2, "unknown": 9})
    assert made.hits == 2 and server.dirty
    server.dirty = False
    server.count({made.id: 1})  # totals only grow
    assert made.hits == 2 and not server.dirty


def test_the_file_keeps_silences_and_hits_privately(tmp_path: Path) -> None:
    path = tmp_path / "silences.json"
    made = from_command({"mac": AP, "comment": "c", "duration": 60}, "a", NOW)
    SilenceFile(path).save([made], {made.id: 4})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    silences, hits = SilenceFile(path).load()
    assert [s.stored() for s in silences] == [made.stored()]
    assert hits == {made.id: 4}


@pytest.mark.parametrize(
    "content",
    [
        b"nonsense",
        b"[]",
        b'{"silences": [{"id": "../x"}], "hits": {}}',
        b'{"silences": [], "hits": []}',
    ],
)
def test_a_damaged_file_costs_the_silences_with_a_warning(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "silences.json"
    path.write_bytes(content)
    assert SilenceFile(path).load() == ([], {})
    assert "cannot read the silences" in capsys.readouterr().err
