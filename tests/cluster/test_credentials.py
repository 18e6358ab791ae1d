"""scale.md, the sessions and API keys row: a session or key issued by one replica
works on all, and a key revoked on one stops working on all."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path

import pytest
import requests
import websockets

from tests.cluster.helpers import CLUSTER_CONFIG, Replicas, get_body, same_everywhere
from tests.cluster.replicas import start_replica
from tests.server import PASSWORD, TRANSPORTS, USER, Server, via, wait_for
from tests.slack import slack
from tests.test_eventbus import POLICY, Client, session_cookie, ws_url

GENERATE = "/auth/apikey/generate.cmd"
REVOKE = "/auth/apikey/revoke.cmd"
READ = "/alerts/all_alerts.json"
CHECK = "/session/check_session"
UNKNOWN = "0123456789ABCDEF0123456789ABCDEF"
NAME = "kismet.httpd.auth.name"

_names = itertools.count()


def with_token(
    server: Server, token: str, path: str = READ, how: str = "bearer", method: str = "GET"
) -> int:
    """The status of a request from a fresh client that presents only `token`."""
    return requests.request(method, server.url + path, timeout=10, **via(how, token)).status_code


def make_key(server: Server, role: str = "readonly", duration: int = 0) -> tuple[str, str]:
    name = f"cluster-key-{next(_names)}"
    response = server.command(GENERATE, {"name": name, "role": role, "duration": duration})
    assert response.status_code == 200, response.text
    return name, response.text


@pytest.mark.parametrize("how", TRANSPORTS)
def test_a_session_issued_by_one_replica_works_on_all(cluster: Replicas, how: str) -> None:
    token = session_cookie(cluster[0])
    for server in cluster:
        assert with_token(server, token, CHECK, how) == 200
        assert with_token(server, token, READ, how) == 200
        assert with_token(server, UNKNOWN, CHECK, how) == 401


def test_a_session_works_on_a_replica_that_has_served_no_password_login(
    cluster: Replicas, tmp_path: Path
) -> None:
    """Behind a load balancer, the replica a browser's next request reaches may never
    have seen the password: the cookie must work there, and keep working on A."""
    token = session_cookie(cluster[0])
    fresh = start_replica(tmp_path, cluster.redis, CLUSTER_CONFIG)
    try:
        answers = [with_token(fresh, token, CHECK, "cookie")]
    finally:
        fresh.stop()
    answers.append(with_token(cluster[0], token, CHECK, "cookie"))
    assert answers == [200, 200]


def test_another_replica_keeps_the_session_a_client_presents(cluster: Replicas) -> None:
    """A client that sends its password and the session it got from A is not handed
    a new session by B: B knows A's."""
    token = session_cookie(cluster[0])
    for server in cluster[1:]:
        response = requests.get(
            server.url + READ, auth=(USER, PASSWORD), cookies={"KISMET": token}, timeout=10
        )
        assert response.status_code == 200
        assert "KISMET" not in response.cookies, response.headers


@pytest.mark.parametrize("how", TRANSPORTS)
def test_an_api_key_made_on_one_replica_works_on_all_until_revoked_on_one(
    cluster: Replicas, how: str
) -> None:
    name, token = make_key(cluster[0])
    for server in cluster:
        assert with_token(server, token, READ, how) == 200
        # A readonly key may not make keys, on any replica.
        assert with_token(server, token, GENERATE, how, "POST") == 403
    revoked = cluster[0].command(REVOKE, {"name": name})
    assert (revoked.status_code, revoked.text) == (200, "revoked\n")
    # At once, no wait: the next request anywhere is refused.
    for server in cluster:
        assert with_token(server, token, READ, how) == 401
    again = cluster[2].command(REVOKE, {"name": name})
    assert again.status_code == 404, again.text


def test_keys_are_listed_alike_everywhere_and_names_are_unique_across_replicas(
    cluster: Replicas,
) -> None:
    made = [make_key(cluster[i % 3], role=f"role{i}") for i in range(4)]
    listing = json.loads(same_everywhere(cluster, get_body, "/auth/apikey/list.json"))
    names = [entry[NAME] for entry in listing]
    mine = [name for name, _ in made]
    assert [n for n in names if n in mine] == mine, "listed in the order they were made"
    taken = cluster[1].command(GENERATE, {"name": made[0][0], "role": "readonly", "duration": 0})
    assert taken.status_code == 409, taken.text
    for name, _ in made:
        assert cluster[2].command(REVOKE, {"name": name}).status_code == 200
    listing = json.loads(same_everywhere(cluster, get_body, "/auth/apikey/list.json"))
    assert not {entry[NAME] for entry in listing} & set(mine)


def test_a_key_with_a_lifetime_expires_on_every_replica(cluster: Replicas) -> None:
    name, token = make_key(cluster[1], duration=2)
    listing = json.loads(same_everywhere(cluster, get_body, "/auth/apikey/list.json"))
    (expires,) = [e["kismet.httpd.auth.expiration"] for e in listing if e[NAME] == name]
    for server in cluster:
        status = with_token(server, token)
        # Answered before the expiry (this host's clock is the servers'): it must
        # have been let in. A slow machine may answer later; then it proves nothing.
        if time.time() < expires:
            assert status == 200

    def expired_everywhere() -> bool:
        return all(with_token(server, token) == 401 for server in cluster)

    wait_for(expired_everywhere, timeout=6, what="the key to expire on every replica")


def test_a_websocket_on_one_replica_closes_when_its_key_is_revoked_on_another(
    cluster: Replicas,
) -> None:
    name, token = make_key(cluster[0])

    async def main() -> int | None:
        async with websockets.connect(ws_url(cluster[1], f"KISMET={token}")) as ws:
            client = Client(ws)
            await client.send({"SUBSCRIBE": "ALERT"})
            # Open and accepted: it stays open while the key lives.
            assert await client.closed(timeout=slack(1.5)) is None
            revoked = await asyncio.to_thread(cluster[2].command, REVOKE, {"name": name})
            assert revoked.status_code == 200, revoked.text
            return await client.closed(timeout=slack(5))

    assert asyncio.run(main()) == POLICY
