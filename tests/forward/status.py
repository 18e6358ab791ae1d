"""Reading a real server's forwarding state in the end-to-end tests."""

from __future__ import annotations

from typing import Any

from tests.http.helpers import define_fast, raise_ok
from tests.server import Server, wait_for

STATUS = "/forward/status.json"
FAST_RETRY = "retry_max=0.3"


def status(server: Server) -> dict[str, dict[str, Any]]:
    response = server.get(STATUS)
    response.raise_for_status()
    return {
        record["kisalert.forward.name"]: {
            key.removeprefix("kisalert.forward."): value for key, value in record.items()
        }
        for record in response.json()
    }


def messages(server: Server) -> list[str]:
    response = server.get("/messagebus/all_messages.json")
    return [message["kismet.messagebus.message_string"] for message in response.json()]


def raised_ids(server: Server) -> list[int]:
    """Every alert of the server, in raise order (ROOTUSER too, when run as root)."""
    return [alert["kismet.alert.hash"] for alert in server.alerts()]


def settled(server: Server, name: str, delivered: int) -> dict[str, Any]:
    """The output's status once it has delivered `delivered` and has nothing left."""
    found: dict[str, Any] = wait_for(
        lambda: (s := status(server)[name])["delivered"] == delivered and s["backlog"] == 0 and s,
        what=f"{name} to deliver {delivered}",
    )
    return found


def failing(server: Server, name: str, backlog: int) -> dict[str, Any]:
    """The output's status once it is failing with `backlog` alerts waiting."""
    found: dict[str, Any] = wait_for(
        lambda: (s := status(server)[name])["state"] == "failing" and s["backlog"] == backlog and s,
        what=f"{name} to fail with {backlog} waiting",
    )
    return found


def raised_while_down(server: Server, name: str) -> tuple[list[int], dict[str, Any]]:
    """Ten FWDTEST alerts raised while output `name`'s peer is down: every alert of
    the server, in raise order, and the output's status once it is failing with all
    of them waiting."""
    define_fast(server, "FWDTEST")
    for n in range(10):
        raise_ok(server, "FWDTEST", f"number {n}")
    expected = raised_ids(server)
    return expected, failing(server, name, len(expected))
