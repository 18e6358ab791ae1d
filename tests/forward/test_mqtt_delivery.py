"""type=mqtt on a real server (on uvloop, as it always runs) and a real mosquitto: every
alert arrives in raise order on its templated topic with QoS 1; refused credentials
are retried until the broker is fixed, and no password shows; a broker that is down
gets everything once it is up; a killed server loses nothing the broker confirmed;
and the counts in /forward/status.json."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from kisalert.forward.cursor import Cursor
from kisalert.severity import SEVERITY_NAMES
from tests.forward.mosquitto import Mosquitto, Subscriber, running_mosquitto
from tests.forward.status import (
    FAST_RETRY,
    messages,
    raised_ids,
    raised_while_down,
    settled,
    status,
)
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server, wait_for
from tests.slack import slack


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    with running_mosquitto() as running:
        yield running


def first_occurrences(ids: list[int]) -> list[int]:
    """`ids` without repeats: at least once and in order means this is the raise order."""
    return list(dict.fromkeys(ids))


def quiet(server: Server) -> None:
    """Nothing went wrong out of sight: no traceback, no asyncio error, on uvloop."""
    for bad in ("Traceback", "Exception in callback", "never retrieved"):
        assert bad not in server.stderr(), server.stderr()


def topic_of(alert: dict[str, Any]) -> str:
    severity = SEVERITY_NAMES[alert["kismet.alert.severity"]]
    return f"k/{alert['kismet.alert.class']}/{severity}/{alert['kismet.alert.header']}"


def test_every_alert_arrives_in_order_on_its_topic_with_qos1(
    tmp_path: Path, broker: Mosquitto
) -> None:
    config = (
        BASE_CONFIG
        + f'forward=all:type=mqtt,broker="{broker.url}",'
        + 'topic="k/{class}/{severity}/{header}",'
        + f"{FAST_RETRY}\n"
        + f"forward=high:type=mqtt,broker={broker.url},topic=high/{{header}},"
        + "min_severity=HIGH,client_id=second\n"
    )
    with (
        Subscriber(broker, topic="k/#") as everything,
        Subscriber(broker, topic="high/#", client_id="high-subscriber") as high,
        Server(tmp_path, config) as server,
    ):
        define_fast(server, "FWDA", severity=15)
        define_fast(server, "FWDB", severity=5, **{"class": "DENIAL"})
        for n in range(40):
            raise_ok(server, "FWDA" if n % 3 else "FWDB", f"number {n}")
        alerts = server.alerts()
        got = everything.wait_for_count(len(alerts))
        assert [m.alert_id for m in got] == [a["kismet.alert.hash"] for a in alerts]
        assert [m.topic for m in got] == [topic_of(a) for a in alerts]
        assert [orjson.loads(m.payload) for m in got] == alerts
        assert {(m.qos, m.retain) for m in got} == {(1, False)}
        high_ids = [a["kismet.alert.hash"] for a in alerts if a["kismet.alert.severity"] >= 15]
        assert [m.alert_id for m in high.wait_for_count(len(high_ids))] == high_ids
        report = settled(server, "all", len(alerts))
        assert (report["kind"], report["state"], report["last_error"]) == ("mqtt", "ok", "")
        assert settled(server, "high", len(high_ids))["state"] == "ok"
        quiet(server)
    # One connection each, kept between sends: two outputs and two subscribers.
    assert broker.log().count("New client connected") == 4


def secrets_absent(server: Server, *secrets: str) -> None:
    shown = (
        json.dumps(status(server)) + "\n".join(messages(server)) + server.stdout() + server.stderr()
    )
    for secret in secrets:
        assert secret not in shown


def late_subscriber(broker: Mosquitto) -> Subscriber:
    return Subscriber(
        broker,
        "late/#",
        persistent=True,
        username="reader",
        password="reader-pw-2",
        client_id="late-sub",
    )


def test_refused_credentials_are_retried_until_the_broker_is_fixed(tmp_path: Path) -> None:
    users = {"sensor": "sensor-pw-1", "reader": "reader-pw-2"}
    with running_mosquitto(users=users) as broker:
        # A session for what the late output will send, kept across the broker's restart.
        with late_subscriber(broker):
            pass
        config = (
            BASE_CONFIG
            + f"forward=good:type=mqtt,broker={broker.url},topic=good/{{header}},"
            + f"username=sensor,password=sensor-pw-1,{FAST_RETRY}\n"
            + f"forward=late:type=mqtt,broker={broker.url},topic=late/{{header}},"
            # A connection the restart closes before its CONNACK waits out timeout=.
            + f'username=late,password="late-pw-3",timeout={slack(1):g},{FAST_RETRY}\n'
        )
        with Server(tmp_path, config) as server:
            define_fast(server, "FWDTEST")
            with Subscriber(
                broker, "good/#", client_id="good-sub", username="reader", password="reader-pw-2"
            ) as good:
                for n in range(5):
                    raise_ok(server, "FWDTEST", f"number {n}")
                expected = raised_ids(server)
                assert [m.alert_id for m in good.wait_for_count(len(expected))] == expected
            settled(server, "good", len(expected))
            refused = wait_for(
                lambda: (
                    (s := status(server)["late"])["state"] == "failing"
                    and s["backlog"] == len(expected)
                    and s
                ),
                what="the late output to fail with everything waiting",
            )
            assert refused["last_error"] == (
                f"{broker.url}: the broker refused the credentials of 'late' (Not authorized)"
            )
            secrets_absent(server, "sensor-pw-1", "late-pw-3")
            # The operator adds the user: the waiting alerts go, in order.
            broker.users = {**users, "late": "late-pw-3"}
            broker.write_config()
            broker.restart()
            assert settled(server, "late", len(expected))["state"] == "ok"
            with late_subscriber(broker) as s:
                got = s.wait_for_count(len(expected))
                assert first_occurrences([m.alert_id for m in got]) == expected
            quiet(server)


def test_a_broker_that_is_down_gets_everything_once_it_is_up(
    tmp_path: Path, broker: Mosquitto
) -> None:
    with Subscriber(broker, persistent=True):
        pass  # its session, and what is published for it, outlive the broker's restart
    broker.stop()
    config = BASE_CONFIG + f"forward=later:type=mqtt,broker={broker.url},{FAST_RETRY}\n"
    with Server(tmp_path, config) as server:
        expected, down = raised_while_down(server, "later")
        assert (down["delivered"], down["last_error"]) == (
            0,
            f"{broker.url}: Connection refused",
        )
        broker.start()
        assert settled(server, "later", len(expected))["state"] == "ok"
        with Subscriber(broker, persistent=True) as subscriber:
            got = subscriber.wait_for_count(len(expected))
            assert first_occurrences([m.alert_id for m in got]) == expected
            assert {m.topic for m in got} <= {"kisalert/FWDTEST", "kisalert/ROOTUSER"}
        # A restart while the output is idle: it notices, and connects again. (A new
        # session: the first may still hold a message it had not acknowledged.)
        with Subscriber(broker, persistent=True, client_id="after-restart"):
            pass
        broker.restart()
        for n in range(3):
            raise_ok(server, "FWDTEST", f"then {n}")
        expected = raised_ids(server)
        settled(server, "later", len(expected))
        with Subscriber(broker, persistent=True, client_id="after-restart") as subscriber:
            got = subscriber.wait_for_count(3)
            assert first_occurrences([m.alert_id for m in got]) == expected[-3:]
        found = messages(server)
        failed = [m for m in found if m.startswith("forward later: failing, will retry: mqtt://")]
        recovered = [m for m in found if m.startswith("forward later: delivering again after")]
        assert (len(failed), len(recovered)) == (1, 1)
        quiet(server)


def test_a_killed_server_loses_nothing_the_broker_confirmed(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """Killed while the broker, hung, holds unacknowledged publishes: those may come
    twice (the broker reads them once it wakes, and the restarted server sends them
    again); what was acknowledged comes once."""
    config = (
        BASE_CONFIG
        + f"forward=siem:type=mqtt,broker={broker.url},timeout={slack(0.5):g},{FAST_RETRY}\n"
    )
    with Subscriber(broker) as subscriber:
        server = Server(tmp_path, config)
        define_fast(server, "FWDTEST")
        for n in range(3):
            raise_ok(server, "FWDTEST", f"before {n}")
        confirmed = raised_ids(server)
        settled(server, "siem", len(confirmed))  # acknowledged, and the cursor on disk
        with broker.hung():
            for n in range(3):
                raise_ok(server, "FWDTEST", f"after {n}")
            # Published and timed out: unacknowledged, and in the broker's socket.
            wait_for(lambda: status(server)["siem"]["state"] == "failing", what="a timeout")
            assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        cursor = Cursor(server.data_dir, "siem").path.read_bytes()
        assert orjson.loads(cursor)["id"] == confirmed[-1]
        with Server(tmp_path, config) as again:
            everything = raised_ids(again)
            assert everything[: len(confirmed)] == confirmed
            settled(again, "siem", len(everything) - len(confirmed))
            got = [m.alert_id for m in subscriber.wait_for_count(len(everything))]
            quiet(again)
    assert got[: len(confirmed)] == confirmed
    assert first_occurrences(got) == everything
    twice = [n for n in set(got) if got.count(n) > 1]
    assert not set(twice) & set(confirmed)
