"""API keys and login sessions in the store (kisalert.store), and in the classes that
use it (kisalert.apikeys, kisalert.sessions). Every server sharing a store shares
them: a key made or a cookie issued through one is good on all (scale.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kisalert.apikeys import ApiKeys, DuplicateKey, UnknownKey, digest
from kisalert.auth import Principal
from kisalert.clock import ManualClock
from kisalert.credentials import ApiKey, ApiKeyError, Session
from kisalert.sessions import Sessions, session_digest
from kisalert.store import MemoryStore
from kisalert.store.keyfile import KeyFile

T = TypeVar("T")
ADMIN = Principal("admin", "admin")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def key(name: str, token: str = "", role: str = "readonly", expires: float = 0.0) -> ApiKey:
    return ApiKey(name, role, expires, digest(token or name.upper()))


# The store's own promises


def test_a_key_name_is_taken_once() -> None:
    async def main() -> None:
        store = MemoryStore(ManualClock())
        assert await store.add_api_key(key("dash", role="readonly"))
        assert not await store.add_api_key(key("dash", token="OTHER", role="admin"))
        assert [(k.name, k.role) for k in await store.api_keys()] == [("dash", "readonly")]
        assert await store.api_key(digest("OTHER")) is None

    run(main())


def test_keys_are_found_by_digest_listed_in_order_and_removed() -> None:
    async def main() -> None:
        store = MemoryStore(ManualClock())
        for name in ("b", "a", "c"):
            await store.add_api_key(key(name))
        assert [k.name for k in await store.api_keys()] == ["b", "a", "c"]
        found = await store.api_key(digest("A"))
        assert found is not None and found.name == "a"
        assert await store.remove_api_key("a")
        assert not await store.remove_api_key("a")
        assert await store.api_key(digest("A")) is None
        assert [k.name for k in await store.api_keys()] == ["b", "c"]

    run(main())


def test_keys_survive_a_restart_through_the_key_file(tmp_path: Path) -> None:
    path = tmp_path / "apikeys.json"

    async def first() -> None:
        store = MemoryStore(ManualClock(), key_file=KeyFile(path))
        await store.add_api_key(key("keep", token="KEEP-TOKEN", expires=1_900_000_000.0))
        await store.add_api_key(key("gone"))
        await store.remove_api_key("gone")

    async def second() -> list[ApiKey]:
        store = MemoryStore(ManualClock(), key_file=KeyFile(path))
        assert await store.api_key(digest("KEEP-TOKEN")) is not None
        return list(await store.api_keys())

    run(first())
    assert run(second()) == [key("keep", token="KEEP-TOKEN", expires=1_900_000_000.0)]
    assert "KEEP-TOKEN" not in path.read_text(), "only the token's digest is written"


@pytest.mark.parametrize("content", ["{not json", '{"a": 1}', '[{"name": "x"}]', "[1, 2]"])
def test_an_unreadable_key_file_is_an_error_naming_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "apikeys.json"
    path.write_text(content)
    with pytest.raises(ApiKeyError, match=r"apikeys\.json"):
        MemoryStore(ManualClock(), key_file=KeyFile(path))


def test_the_oldest_sessions_go_when_there_are_too_many() -> None:
    async def main() -> list[bool]:
        store = MemoryStore(ManualClock(), max_sessions=3)
        for i in range(5):
            await store.add_session(bytes([i]), Session(ADMIN, 2e9))
        return [await store.session(bytes([i])) is not None for i in range(5)]

    assert run(main()) == [False, False, True, True, True]


# Keys and sessions through their classes, on one shared store


def test_a_key_made_through_one_server_works_and_is_revoked_on_another() -> None:
    async def main() -> None:
        clock = ManualClock()
        store = MemoryStore(clock)
        one, other = ApiKeys(store, clock), ApiKeys(store, clock)
        token = await one.generate("dash", "readonly", 0)
        assert await other.lookup(token) == Principal("dash", "readonly")
        with pytest.raises(DuplicateKey):
            await other.generate("dash", "admin", 0)
        await other.revoke("dash")
        assert await one.lookup(token) is None
        with pytest.raises(UnknownKey):
            await one.revoke("dash")

    run(main())


def test_a_key_with_a_duration_stops_working_when_it_runs_out() -> None:
    async def main() -> None:
        clock = ManualClock()
        keys = ApiKeys(MemoryStore(clock), clock)
        token = await keys.generate("short", "readonly", 60)
        clock.advance(59.9)
        assert await keys.lookup(token) is not None
        clock.advance(0.1)
        assert await keys.lookup(token) is None

    run(main())


def test_the_store_keeps_a_tokens_digest_unless_viewing_is_allowed() -> None:
    async def main() -> None:
        clock = ManualClock()
        store = MemoryStore(clock)
        hidden = await ApiKeys(store, clock).generate("hidden", "readonly", 0)
        shown = await ApiKeys(store, clock, allow_view=True).generate("shown", "readonly", 0)
        kept = {k.name: k for k in await store.api_keys()}
        assert kept["hidden"].token is None and kept["hidden"].digest == digest(hidden)
        assert kept["shown"].token == shown

    run(main())


def test_a_session_issued_by_one_server_is_good_on_another_until_it_expires() -> None:
    async def main() -> None:
        clock = ManualClock()
        store = MemoryStore(clock)
        one, other = Sessions(store, clock, 600), Sessions(store, clock, 600)
        token = await one.create(ADMIN)
        assert await other.get(token) == ADMIN
        assert await store.session(session_digest(token)) is not None
        clock.advance(600)
        assert await other.get(token) is None
        assert await store.session(session_digest(token)) is None, "an expired session is dropped"

    run(main())


def test_a_password_login_keeps_its_session_while_it_lives() -> None:
    async def main() -> None:
        clock = ManualClock()
        sessions = Sessions(MemoryStore(clock), clock, 600)
        first = await sessions.for_login(ADMIN, "admin", "pw")
        assert await sessions.for_login(ADMIN, "admin", "pw") == first
        assert await sessions.for_login(ADMIN, "admin", "other") != first
        clock.advance(600)
        renewed = await sessions.for_login(ADMIN, "admin", "pw")
        assert renewed != first and await sessions.get(renewed) == ADMIN

    run(main())


def test_the_key_file_holds_what_the_listing_shows(tmp_path: Path) -> None:
    path = tmp_path / "apikeys.json"

    async def main() -> str:
        clock = ManualClock(1_800_000_000.0)
        keys = ApiKeys(MemoryStore(clock, key_file=KeyFile(path)), clock)
        return await keys.generate("dash", "readonly", 3600)

    token = run(main())
    [entry] = json.loads(path.read_text())
    assert entry == {
        "name": "dash",
        "role": "readonly",
        "expires": 1_800_003_600.0,
        "digest": digest(token),
    }
