"""The fuzz suite (issue 9): property-based and random requests against a real server.

Each module starts its own `kisalert serve` (alert log on, in a real SQLite file;
admin login from a config file; a readonly API key; a backlog of BACKLOG varied
alerts), warms it up, takes its RSS as the baseline, and starts a bystander process
(pinger.py) that asks /system/timestamp.json every few milliseconds. Then:

- every fuzzed request goes over a real socket and must get a complete answer, under
  500; a 4xx is one line of text or `{}`; a 200 is valid in its format;
- after each property, the bystander must have been answered every time and never
  waited STALL_LIMIT (100 ms) or more beyond the time the kernel kept it or the
  server's event-loop thread off the CPU (pinger.py), and the server must have
  printed no traceback;
- the last test of each module checks that RSS came back within
  MEMORY_TOLERANCE_KIB of the baseline.

Modules: test_commands (command dictionaries, `fields`, `regex`, rates, MACs),
test_paths (path parameters, methods and query strings of every route), test_bytes
(raw bytes, broken framing, odd headers, pipelining, half-closed sockets),
test_websocket (frames and eventbus messages, with a bystander that must get every
alert), test_regressions (plain reproducers of what the fuzz found; strict xfail
where the fix is someone else's, and the fuzz modules allow for exactly that case).

Examples per property: the defaults keep the whole suite under two minutes;
`FUZZ_EXAMPLES=N` runs N per property instead, and then draws fresh examples each run
(the default run is derandomized, so that CI sees the same inputs every time and a
failure there reproduces locally). Hypothesis keeps no example database here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.target import CONFIG, PROFILE, Target
from tests.server import Server

EXPLORE = "FUZZ_EXAMPLES" in os.environ

# glibc keeps freed memory for reuse: after one 20 MB answer the heap's top stays
# mapped, and threads' arenas fragment, so RSS measured the allocator's high-water mark
# (it rose by 9-35 MB over fuzz runs whose Python heap grew by 4 KB). Told to hand
# memory back (big blocks mapped on their own, the top trimmed, two arenas), RSS
# follows what the server holds: it stayed within 2 MB over 2 400 examples.
ALLOCATOR = {
    "MALLOC_MMAP_THRESHOLD_": "65536",
    "MALLOC_TRIM_THRESHOLD_": "65536",
    "MALLOC_ARENA_MAX": "2",
}

settings.register_profile(
    PROFILE,
    deadline=None,
    database=None,
    derandomize=not EXPLORE,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("fuzz"), CONFIG, env=ALLOCATOR) as server:
        yield server


@pytest.fixture(scope="module")
def target(fuzz_server: Server) -> Iterator[Target]:
    """The module's server, set up but not yet warmed up: the module calls `begin`,
    with a warm-up of its own if its fuzz reaches further than the standard one."""
    target = Target.start(fuzz_server)
    try:
        yield target
    finally:
        target.close()
