from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import BASE_CONFIG, Server

_names = itertools.count()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for tests that only add their own uniquely named alerts."""
    workdir = tmp_path_factory.mktemp("shared-server")
    with Server(workdir, BASE_CONFIG + "alertbacklog=100000\n") as server:
        yield server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh server for a test that needs a known, empty state."""
    with Server(tmp_path) as srv:
        yield srv


@pytest.fixture
def unique_name() -> str:
    """An alert name no other test uses."""
    return f"TEST_{next(_names)}_{id(object()):x}".upper()
