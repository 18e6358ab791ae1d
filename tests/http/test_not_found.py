"""What a 404 says (issue 13, item 7): `/` and mistyped routes name what exists, over a
real server. The status stays 404 and the type text/plain; a wrong method stays 405."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import requests
import websockets
from websockets.exceptions import InvalidStatus

from kisalert import __version__
from tests.server import BASE_CONFIG, PASSWORD, USER, Server

TEXT_TYPE = "text/plain; charset=utf-8"
FORMATS = "{fmt} is json, itjson, ekjson or prettyjson"


def not_found(server: Server, path: str, login: bool = True) -> str:
    """The one line a 404 for `path` answers with."""
    response = server.get(path) if login else requests.get(server.url + path, timeout=10)
    assert response.status_code == 404, (path, response.status_code, response.text)
    assert response.headers["content-type"] == TEXT_TYPE
    assert response.text.endswith("\n") and response.text.count("\n") == 1, response.text
    return response.text.rstrip("\n")


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("prefixed")
    with Server(workdir, BASE_CONFIG + "httpd_uri_prefix=/kis\n") as server:
        yield server


@pytest.fixture(scope="module")
def api_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server without the console: `/` is a 404 that says where the API is."""
    workdir = tmp_path_factory.mktemp("api-only")
    with Server(workdir, BASE_CONFIG + "httpd_console=false\n") as server:
        yield server


def test_root_says_where_the_api_lives(api_only: Server) -> None:
    line = not_found(api_only, "/", login=False)
    prefix = f"kisalert {__version__}: the console is off here (httpd_console=false);"
    assert line.startswith(prefix), line
    for where in ("/alerts/", "/messagebus/", "/system/", "/eventbus/events.ws"):
        assert where in line
    assert "/alerts/definitions.json" in line and "HTTP Basic" in line


def test_a_path_outside_the_prefix_names_the_console_and_the_api(prefixed: Server) -> None:
    line = not_found(prefixed, "/", login=False)
    assert line.startswith(f"kisalert {__version__}: the console is at /kis/;"), line
    assert "/kis/alerts/" in line


@pytest.mark.parametrize(
    ("path", "meant"),
    [
        ("/alerts/all_alert.json", "/alerts/all_alerts.{fmt}"),
        ("/alerts/all_alerts", "/alerts/all_alerts.{fmt}"),
        ("/alerts/definition.json", "/alerts/definitions.{fmt}"),
        ("/alerts/wrapped/alerts.json", "/alerts/wrapped/last-time/{ts}/alerts.{fmt}"),
        ("/alerts/last-time/1700000000/alert.json", "/alerts/last-time/{ts}/alerts.{fmt}"),
        ("/alerts/by-id/12345/alerts.json", "/alerts/by-id/{id}/alert.{fmt}"),
        ("/alerts/alert_view.json", "/alerts/alerts_view.{fmt}"),
        ("/messagebus/all_message.json", "/messagebus/all_messages.{fmt}"),
        ("/system/timestamp", "/system/timestamp.{fmt}"),
    ],
)
def test_a_mistyped_route_names_the_route_and_formats(
    shared_server: Server, path: str, meant: str
) -> None:
    line = not_found(shared_server, path)
    assert line.startswith("Not Found; did you mean "), line
    assert meant + "?" in line or meant + " or " in line, line
    assert line.endswith(f"({FORMATS})"), line


@pytest.mark.parametrize(
    ("path", "meant"),
    [
        ("/alerts/define_alert.cmd", "/alerts/definitions/define_alert.cmd"),
        ("/alerts/raise_alert", "/alerts/raise_alert.cmd"),
        ("/eventbus/event.ws", "/eventbus/events.ws"),
    ],
)
def test_a_mistyped_command_route_names_it(shared_server: Server, path: str, meant: str) -> None:
    line = not_found(shared_server, path)
    assert line.startswith("Not Found; did you mean "), line
    assert meant in line
    assert "{fmt}" not in line


@pytest.mark.parametrize(
    "path",
    [
        "/alerts/all_alerts.xml",
        "/alerts/definitions.html",
        "/alerts/alerts_view.JSON",
        "/alerts/last-time/0/alerts.txt",
    ],
)
def test_a_wrong_format_names_the_formats(shared_server: Server, path: str) -> None:
    template = path.rsplit(".", 1)[0].replace("/0/", "/{ts}/") + ".{fmt}"
    line = not_found(shared_server, path, login=False)
    assert line == (
        f"Not Found: unknown format; {template} takes {{fmt}} = json, itjson, ekjson or"
        f" prettyjson, e.g. {template.replace('.{fmt}', '.json')}"
    )


def test_a_path_like_no_route_lists_the_api(shared_server: Server) -> None:
    for path in ("/nothing", "/index.html", "/alerts/no_such_route.json"):
        line = not_found(shared_server, path)
        assert line.startswith("Not Found; the API lives under /alerts/, /messagebus/"), line


def test_http_get_of_the_websocket_says_so(shared_server: Server) -> None:
    line = not_found(shared_server, "/eventbus/events.ws")
    assert line == "Not Found; /eventbus/events.ws takes websocket connections only"


def test_the_answer_is_the_same_without_a_login(api_only: Server) -> None:
    # Route names are public; nothing else is told, login or not.
    for path in ("/", "/alerts/all_alert.json", "/nothing", "/alerts/all_alerts.xml"):
        assert not_found(api_only, path, login=False) == not_found(api_only, path)


def test_nothing_the_client_sent_is_echoed(shared_server: Server) -> None:
    for path in ("/<script>x</script>", "/alerts/<b>all_alert</b>.json"):
        line = not_found(shared_server, path)
        assert "<" not in line and "script" not in line, line


def test_a_very_long_path_is_a_short_404(shared_server: Server) -> None:
    for path in ("/" + "a" * 4000, "/alerts/" + "all_alerts/" * 350, "/alerts/all_alert" * 200):
        line = not_found(shared_server, path)
        assert len(line) < 400, line


def test_status_codes_and_methods_are_unchanged(shared_server: Server) -> None:
    session = shared_server.session
    wrong_method = session.delete(shared_server.url + "/alerts/all_alerts.json", timeout=10)
    assert (wrong_method.status_code, wrong_method.text) == (405, "Method Not Allowed\n")
    head = session.head(shared_server.url + "/nothing", timeout=10)
    assert head.status_code == 404 and head.content == b""
    assert head.headers["content-type"] == TEXT_TYPE
    head_route = session.head(shared_server.url + "/alerts/definitions.json", timeout=10)
    assert head_route.status_code == 200
    options = session.options(shared_server.url + "/alerts/all_alerts.json", timeout=10)
    assert options.status_code == 405
    assert session.options(shared_server.url + "/nothing", timeout=10).status_code == 404
    assert session.options(shared_server.url + "/", timeout=10).status_code == 405


def test_a_prefixed_server_names_prefixed_routes(prefixed: Server) -> None:
    root = not_found(prefixed, "/")
    assert "/kis/alerts/" in root and "/kis/eventbus/events.ws" in root
    assert "/kis/alerts/definitions.json" in root
    inside = not_found(prefixed, "/kis/alerts/all_alert.json")
    assert inside == f"Not Found; did you mean /kis/alerts/all_alerts.{{fmt}}? ({FORMATS})"
    # The prefix left out: the route under the prefix is named.
    outside = not_found(prefixed, "/alerts/all_alerts.json")
    assert outside == (
        "Not Found (this server's API is under /kis/);"
        f" did you mean /kis/alerts/all_alerts.{{fmt}}? ({FORMATS})"
    )
    wrong_format = not_found(prefixed, "/kis/alerts/all_alerts.xml")
    assert "/kis/alerts/all_alerts.{fmt} takes" in wrong_format
    assert prefixed.get("/kis/alerts/all_alerts.json").status_code == 200


def websocket_refusal(server: Server, path: str) -> tuple[int, bytes]:
    async def main() -> tuple[int, bytes]:
        url = server.url.replace("http", "ws") + f"{path}?user={USER}&password={PASSWORD}"
        try:
            async with websockets.connect(url, open_timeout=10):
                pass
        except InvalidStatus as exc:
            return exc.response.status_code, bytes(exc.response.body or b"")
        raise AssertionError("handshake accepted")

    return asyncio.run(main())


def test_a_websocket_at_a_wrong_path_is_told_the_right_one(
    shared_server: Server, prefixed: Server
) -> None:
    status, body = websocket_refusal(shared_server, "/eventbus/nothing.ws")
    assert (status, body) == (404, b"Not Found; the eventbus websocket is /eventbus/events.ws\n")
    status, body = websocket_refusal(prefixed, "/eventbus/events.ws")
    assert (status, body) == (
        404,
        b"Not Found; the eventbus websocket is /kis/eventbus/events.ws\n",
    )
