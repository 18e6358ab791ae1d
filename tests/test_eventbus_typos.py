"""The eventbus answers a client's typo (issue 13, item 12), over a real server: a
frame without a command, or a topic that misspells one of kisalert's, gets an ERROR
frame and the connection stays open. Topics Kismet has and kisalert does not publish
stay unanswered, as in Kismet, where any name is a topic."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from kisalert.bus import ANY_TOPIC
from kisalert.eventbus import TOPICS
from kisalert.http.eventbus import TOPICS_TEXT, typo_of
from tests.server import BASE_CONFIG, Server
from tests.test_eventbus import (
    LOGIN,
    Client,
    define_pair,
    plain_alert,
    raise_async,
    run,
    settle,
    ws_url,
)

TOPIC_LIST = "topics are ALERT, MESSAGE, TIMESTAMP, *"
EXAMPLE = '(e.g. {"SUBSCRIBE": "ALERT"})'
# Topics of Kismet's own (and of its web UI), which kisalert does not publish.
KISMET_TOPICS = [
    "GPS_LOCATION",
    "BATTERY",
    "RADIATION",
    "NEW_DEVICE",
    "NEW_PHY",
    "NEW_DATASOURCE",
    "DATASOURCE_PAUSED",
    "DATASOURCE_RESUMED",
    "DATASOURCE_OPENED",
    "DATASOURCE_CLOSED",
    "DATASOURCE_ERROR",
    "DOT11_NEW_SSID_BASESSID",
    "DOT11_PROBED_SSID",
    "DOT11_RESPONSE_SSID",
    "DOT11_ADVERTISED_SSID",
    "DOT11_WPA_HANDSHAKE",
    "PACKETCHAIN_STATS",
    "LOG_OPEN",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("eventbus-typos"), BASE_CONFIG) as server:
        yield server


def answers(server: Server, sync: str, *frames: Any) -> list[str]:
    """Send `frames` on a fresh connection, then subscribe to ALERT until that works:
    the ERROR texts the server answered with, in order. The connection stays open
    throughout, and it gets nothing but answers and the alerts."""

    async def main() -> list[str]:
        async with websockets.connect(ws_url(server, LOGIN)) as ws:
            client = Client(ws)
            for frame in frames:
                await client.send(frame)
            await client.send({"SUBSCRIBE": "ALERT"})
            errors: list[str] = []
            # Client.frame takes only event frames: read text, raising sync alerts
            # until one arrives (subscriptions have no acknowledgement).
            for attempt in range(20):
                await raise_async(server, sync, f"sync-{attempt}")
                with contextlib.suppress(TimeoutError):
                    while True:
                        parsed = json.loads(await client.text(timeout=1.0))
                        if "ERROR" in parsed:
                            assert list(parsed) == ["ERROR"], parsed
                            errors.append(parsed["ERROR"])
                        elif plain_alert(sync)(parsed, f"sync-{attempt}"):
                            assert ws.close_code is None
                            return errors
            raise AssertionError(f"the subscription never took effect; answers: {errors}")

    return run(main())


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (
            {"SUBSCRIBE": "ALERTS"},
            f"unknown topic 'ALERTS'; {TOPIC_LIST} (did you mean ALERT?)",
        ),
        (
            {"SUBSCRIBE": "alert"},
            f"unknown topic 'alert'; {TOPIC_LIST} (did you mean ALERT?)",
        ),
        (
            {"SUBSCRIBE": "Timestamps", "fields": ["kismet.system.timestamp.sec"]},
            f"unknown topic 'Timestamps'; {TOPIC_LIST} (did you mean TIMESTAMP?)",
        ),
        (
            {"UNSUBSCRIBE": "MESAGE"},
            f"unknown topic 'MESAGE'; {TOPIC_LIST} (did you mean MESSAGE?)",
        ),
        (
            {"subscribe": "ALERT"},
            f"unknown command 'subscribe'; commands are SUBSCRIBE, UNSUBSCRIBE in upper case"
            f" {EXAMPLE}",
        ),
        (
            {"Unsubscribe": "ALERT"},
            f"unknown command 'Unsubscribe'; commands are SUBSCRIBE, UNSUBSCRIBE in upper case"
            f" {EXAMPLE}",
        ),
        (
            {"LISTEN": "ALERT"},
            f"unknown command 'LISTEN'; commands are SUBSCRIBE, UNSUBSCRIBE {EXAMPLE}",
        ),
        (
            {"fields": ["kismet.alert.text"]},
            f"no command in the frame; commands are SUBSCRIBE, UNSUBSCRIBE {EXAMPLE}",
        ),
        ({}, f"no command in the frame; commands are SUBSCRIBE, UNSUBSCRIBE {EXAMPLE}"),
    ],
    ids=json.dumps,
)
def test_a_typo_is_answered_and_the_connection_stays(
    server: Server, unique_name: str, frame: dict[str, Any], error: str
) -> None:
    sync = define_pair(server, unique_name)
    assert answers(server, sync, frame) == [error]


def test_a_long_key_is_quoted_short(server: Server, unique_name: str) -> None:
    sync = define_pair(server, unique_name)
    [error] = answers(server, sync, {"x" * 5000: 1})
    assert (
        error == f"unknown command '{'x' * 40}...'; commands are SUBSCRIBE, UNSUBSCRIBE {EXAMPLE}"
    )


def test_the_good_half_of_a_frame_still_applies(server: Server, unique_name: str) -> None:
    sync = define_pair(server, unique_name)

    async def main() -> str:
        async with websockets.connect(ws_url(server, LOGIN)) as ws:
            client = Client(ws)
            await client.send({"SUBSCRIBE": "ALERT", "UNSUBSCRIBE": "alerts"})
            error = json.loads(await client.text())
            await settle(client, server, sync)
            return str(error["ERROR"])

    assert run(main()) == f"unknown topic 'alerts'; {TOPIC_LIST} (did you mean ALERT?)"


def test_kismet_topics_and_other_names_stay_unanswered(server: Server, unique_name: str) -> None:
    sync = define_pair(server, unique_name)
    # As Kismet's web UI subscribes, with fields; a topic never subscribed, unsubscribed;
    # names like no topic of kisalert's.
    frames: list[Any] = [{"SUBSCRIBE": topic, "fields": ["a.b"]} for topic in KISMET_TOPICS]
    frames += [{"UNSUBSCRIBE": "X"}, {"UNSUBSCRIBE": "GPS_LOCATION"}, {"SUBSCRIBE": "NOSUCH"}]
    frames += [{"SUBSCRIBE": "x" * 5000}, "not JSON at all"]
    assert answers(server, sync, *frames) == []


def test_no_topic_of_kismets_is_taken_for_a_typo() -> None:
    assert [topic for topic in KISMET_TOPICS if typo_of(topic)] == []
    assert set(TOPICS_TEXT.split(", ")) == TOPICS | {ANY_TOPIC}
