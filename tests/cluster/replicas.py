"""Several real kisalert servers sharing one real Redis (scale.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.redis_server import RedisServer
from tests.server import BASE_CONFIG, Server


def start_replica(
    workdir: Path,
    redis: RedisServer,
    config: str = BASE_CONFIG,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
    url: str | None = None,
) -> Server:
    """One `kisalert serve --store redis://…` in `workdir` (made if missing), on
    `url` when given rather than the server's own."""
    workdir.mkdir(parents=True, exist_ok=True)
    return Server(workdir, config, ["--store", url or redis.url, *extra_args], port=port)


@contextmanager
def replicas(
    tmp_path: Path,
    redis: RedisServer,
    count: int = 2,
    config: str = BASE_CONFIG,
    extra_args: tuple[str, ...] = (),
    url: str | None = None,
) -> Iterator[list[Server]]:
    """`count` replicas, each with its own data directory, stopped at the end."""
    with ExitStack() as stack:
        servers = []
        for n in range(count):
            server = start_replica(tmp_path / f"replica{n}", redis, config, extra_args, url=url)
            stack.callback(server.stop)
            servers.append(server)
        yield servers
