"""A websocket that logged in with the password, not a session, is closed when the
password changes (issue 9), whichever way it is changed. Real servers, real sockets."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import websockets
from websockets.exceptions import ConnectionClosed

from tests.server import Server
from tests.test_hardening_auth import POLICY, printed_password

NEW_PASSWORD = "n3w-Secret-pw"


def connect(server: Server, how: str, password: str) -> websockets.connect:
    url = server.url.replace("http://", "ws://", 1) + "/eventbus/events.ws"
    if how == "query":
        return websockets.connect(f"{url}?user=admin&password={quote(password)}")
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    return websockets.connect(url, additional_headers={"Authorization": f"Basic {basic}"})


async def over_the_api(server: Server, old: str) -> None:
    response = await asyncio.to_thread(
        requests.post,
        f"{server.url}/session/set_password",
        auth=("admin", old),
        data={"username": "admin", "password": NEW_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text


async def by_kisalert_passwd(server: Server, old: str) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "kisalert", "passwd", "--data-dir", str(server.data_dir)],
        input=f"{NEW_PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


CHANGES: dict[str, Callable[[Server, str], Awaitable[None]]] = {
    "set_password": over_the_api,
    "kisalert passwd": by_kisalert_passwd,
}


async def closed(ws: websockets.ClientConnection) -> tuple[int | None, str]:
    """Read until the server closes: its close code and reason."""
    try:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    except ConnectionClosed as exc:
        return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")


@pytest.mark.parametrize("how", ["basic", "query"])
@pytest.mark.parametrize("change", CHANGES)
def test_a_password_change_closes_password_websockets(
    tmp_path: Path, how: str, change: str
) -> None:
    with Server(tmp_path, config=None) as server:
        old = printed_password(server)

        async def main() -> tuple[int | None, str]:
            async with connect(server, how, old) as ws:
                await ws.send('{"SUBSCRIBE": "TIMESTAMP"}')
                # Two ticks: the validity check that comes with each has passed once.
                for _ in range(2):
                    await asyncio.wait_for(ws.recv(), 5)
                await CHANGES[change](server, old)
                return await closed(ws)

        code, reason = asyncio.run(main())
        assert code == POLICY
        assert reason == "login revoked or expired"

        async def with_the_new_password() -> None:
            async with connect(server, how, NEW_PASSWORD) as ws:
                await ws.send('{"SUBSCRIBE": "TIMESTAMP"}')
                await asyncio.wait_for(ws.recv(), 5)

        asyncio.run(with_the_new_password())
