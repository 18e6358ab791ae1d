from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import RedisServer, running_redis


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh `redis-server` for one test."""
    with running_redis() as server:
        yield server
