from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.helpers import CLUSTER_CONFIG, Replicas
from tests.cluster.replicas import replicas
from tests.redis_server import RedisServer, running_redis


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh `redis-server` for one test."""
    with running_redis() as server:
        yield server


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Three replicas on one Redis, for tests that use only their own alert names and
    keys and leave every replica and Redis running (each start costs a second)."""
    with (
        running_redis() as redis,
        replicas(tmp_path_factory.mktemp("cluster"), redis, 3, CLUSTER_CONFIG) as servers,
    ):
        yield Replicas(servers, redis)
