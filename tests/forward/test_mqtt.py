"""type=mqtt: the topic template and its sanitising, the options, and sends to a real
mosquitto: QoS 1 in order on one connection, refused connections and credentials
retried with a reason that holds no secret, a batch cut short, TLS, reconnecting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from kisalert.forward import mqtt
from kisalert.forward.base import Outcome, OutputSpec, Result, SpecError
from kisalert.forward.mqtt import MqttOutput
from kisalert.forward.mqtt_options import TopicTemplate, parse_broker, sanitise
from kisalert.forward.peer import Peer
from kisalert.forward.spec import parse_spec
from kisalert.phy import PHY_ANY
from tests.certs import self_signed
from tests.forward.alerts import make_alert
from tests.forward.mosquitto import Mosquitto, Subscriber, running_mosquitto
from tests.server import free_port
from tests.slack import slack

# Templates


def test_every_placeholder_fills_one_level() -> None:
    alert = make_alert(3, severity=15, klass="SPOOF", transmitter="00:11:22:33:44:55")
    template = TopicTemplate.parse("kisalert/{class}/{severity}/{header}/{transmitter}/{phy}")
    assert template.render(alert) == "kisalert/SPOOF/HIGH/ROGUEAP/00:11:22:33:44:55/IEEE802.11"
    any_phy = make_alert(severity=7, phy=PHY_ANY)
    assert TopicTemplate.parse("{phy}-{severity}").render(any_phy) == "ANY-7"
    assert TopicTemplate.parse("plain/topic").render(alert) == "plain/topic"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a/b", "a_b"),
        ("+", "_"),
        ("#", "_"),
        ("a\x00b", "a_b"),
        ("line\nbreak\x7f", "line_break_"),
        ("", "_"),
        ("café ok", "café ok"),
        ("x" * 500, "x" * 128),
    ],
)
def test_values_cannot_add_levels_or_wildcards(value: str, expected: str) -> None:
    assert sanitise(value) == expected


def test_a_class_cannot_inject_into_the_topic() -> None:
    alert = make_alert(klass="../#/+/\x00")
    assert TopicTemplate.parse("k/{class}/x").render(alert) == "k/..______/x"
    # Nor make a topic of the broker's own.
    assert TopicTemplate.parse("{class}/x").render(make_alert(klass="$SYS")) == "_SYS/x"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("k/{heder}", "unknown placeholder {heder}"),
        ("k/{}", "unknown placeholder {}"),
        ("k/{header", "outside a placeholder"),
        ("k/header}", "outside a placeholder"),
        ("k/+/{header}", "holds '+', '#'"),
        ("k/#", "holds '+', '#'"),
        ("k/\x00", "holds '+', '#'"),
        ("", "1 to 1024 bytes"),
        ("k/" + "x" * 1023, "1 to 1024 bytes"),
        ("$SYS/{header}", "the broker's"),
    ],
)
def test_bad_templates_are_refused(text: str, why: str) -> None:
    with pytest.raises(SpecError) as info:
        TopicTemplate.parse(text)
    assert why in str(info.value)


# Options


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mqtt://broker.example", Peer("mqtt", "broker.example", 1883)),
        ("mqtts://broker.example", Peer("mqtts", "broker.example", 8883)),
        ("MQTT://10.0.0.1:1884/", Peer("mqtt", "10.0.0.1", 1884)),
        ("mqtts://[::1]:8884", Peer("mqtts", "::1", 8884)),
    ],
)
def test_broker_urls(text: str, expected: Peer) -> None:
    assert parse_broker(text) == expected


def test_broker_urls_print_without_secrets() -> None:
    assert str(parse_broker("mqtts://[::1]")) == "mqtts://[::1]:8883"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("tcp://h:1883", "must be mqtt://"),
        ("h:1883", "must be mqtt://"),
        ("mqtt://user:secret@h", "username= and password="),
        ("mqtt://h:port", "not a number"),
        ("mqtt://:1883", "names no host"),
        ("mqtt://h:0", "has port 0: use a port from 1 to 65535"),
        ("mqtt://h/topic", "use mqtt://HOST:PORT"),
    ],
)
def test_bad_broker_urls_are_refused(text: str, why: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_broker(text)
    assert why in str(info.value)
    assert "secret" not in str(info.value)


def build(**options: str) -> MqttOutput:
    return MqttOutput.from_spec(OutputSpec("m", "mqtt", {"broker": "mqtt://h", **options}))


def test_defaults() -> None:
    output = build()
    assert (output.client_id, output.retain, output.username) == ("kisalert-m", False, None)
    assert output.topic == TopicTemplate.parse("kisalert/{header}")
    named = build(client_id="sensor-1", retain="TRUE", username="u", password="p")
    assert (named.client_id, named.retain, named.username) == ("sensor-1", True, "u")


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"retain": "yes"}, "retain needs true or false"),
        ({"password": "p"}, "password= needs username="),
        ({"client_id": ""}, "client_id needs 1 to 65535 bytes"),
        ({"tls_verify": "false"}, "need an mqtts:// broker"),
        ({"tls_ca": "/etc/hostname"}, "need an mqtts:// broker"),
        ({"broker": "mqtts://h", "tls_verify": "no"}, "tls_verify needs true or false"),
        ({"broker": "mqtts://h", "tls_ca": "/nonexistent/ca.pem"}, "No such file"),
        ({"topic": "a/#"}, "holds '+', '#'"),
    ],
)
def test_bad_options_are_refused(options: dict[str, str], why: str) -> None:
    with pytest.raises(SpecError) as info:
        build(**options)
    assert why in str(info.value)


def test_a_whole_forward_line() -> None:
    spec = parse_spec(
        'm:type=mqtt,broker="mqtts://127.0.0.1:8883",topic="k/{class}/{header}",'
        'username=sensor,password="a,b=c",client_id=s1,retain=false,tls_verify=false,'
        "min_severity=HIGH,retry_max=5"
    )
    assert (spec.name, spec.kind, spec.options["password"]) == ("m", "mqtt", "a,b=c")
    with pytest.raises(SpecError, match="unknown option 'qos' for type=mqtt"):
        parse_spec("m:type=mqtt,broker=mqtt://h,qos=2")
    with pytest.raises(SpecError, match="type=mqtt needs broker="):
        parse_spec("m:type=mqtt,topic=k")


# Sending, to a real broker.


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    with running_mosquitto() as running:
        yield running


def output_for(url: str, **options: str) -> MqttOutput:
    return MqttOutput.from_spec(OutputSpec("t", "mqtt", {"broker": url, **options}))


def sends(output: MqttOutput, *batches: list[int]) -> list[Outcome]:
    """Each batch (of alert numbers) sent in turn on one event loop, then closed."""

    async def run() -> list[Outcome]:
        try:
            return [await output.send([make_alert(n) for n in batch]) for batch in batches]
        finally:
            await output.close()

    return asyncio.run(run())


def test_qos1_in_order_on_one_connection(broker: Mosquitto) -> None:
    with Subscriber(broker) as subscriber:
        output = output_for(broker.url, topic="k/{header}/{severity}")
        outcomes = sends(output, [0], [1, 2], list(range(3, 60)))
        assert outcomes == [Outcome.delivered(1), Outcome.delivered(2), Outcome.delivered(57)]
        got = subscriber.wait_for_count(60)
    assert [m.alert_id for m in got] == list(range(1000, 1060))
    assert {(m.topic, m.qos, m.retain) for m in got} == {("k/ROGUEAP/HIGH", 1, False)}
    assert orjson.loads(got[7].payload) == make_alert(7).record
    assert got[7].payload == make_alert(7).json
    assert broker.log().count("New client connected") == 2  # the subscriber, and us


def test_retain(broker: Mosquitto) -> None:
    assert sends(output_for(broker.url, retain="true"), [0]) == [Outcome.delivered(1)]
    # A subscriber that comes later is given the retained message.
    with Subscriber(broker) as late:
        (message,) = late.wait_for_count(1)
    assert (message.retain, message.alert_id) == (True, 1000)


def test_refused_is_a_retry_saying_why() -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    (outcome,) = sends(output_for(url), [0, 1])
    assert (outcome.result, outcome.sent) == (Result.RETRY, 0)
    assert outcome.reason == f"{url}: Connection refused"


def test_credentials_accepted_and_refused_without_showing_the_password() -> None:
    with running_mosquitto(users={"sensor": "right-password"}) as broker:
        good = output_for(broker.url, username="sensor", password="right-password")
        bad = output_for(broker.url, username="sensor", password="wrong-password")
        anonymous = output_for(broker.url)
        assert sends(good, [0]) == [Outcome.delivered(1)]
        (refused,) = sends(bad, [0])
        (nobody,) = sends(anonymous, [0])
    assert refused.result is nobody.result is Result.RETRY
    assert refused.reason == (
        f"{broker.url}: the broker refused the credentials of 'sensor' (Not authorized)"
    )
    assert nobody.reason == f"{broker.url}: the broker refused an anonymous login (Not authorized)"


def test_a_batch_cut_short_says_how_many_got_through() -> None:
    """The broker drops a client that sends a packet over its limit (MQTT 3.1.1 has no
    other way to refuse one): the alerts acknowledged before it count as sent."""
    broker = Mosquitto()
    config = broker.dir / "mosquitto.conf"
    config.write_text(config.read_text() + "max_packet_size 2000\n")
    broker.start()
    try:
        with Subscriber(broker) as subscriber:
            output = output_for(broker.url)
            batch = [make_alert(n) for n in range(30)]
            big = batch[25] = make_alert(25, text="x" * 3000)

            async def run() -> tuple[Outcome, Outcome]:
                cut = await output.send(batch)
                # The rest, as a runner would retry it, less the one that cannot go.
                rest = [alert for alert in batch[cut.sent :] if alert is not big]
                after = await output.send(rest)
                await output.close()
                return cut, after

            cut, after = asyncio.run(run())
            assert cut.result is Result.RETRY
            assert cut.reason == f"{broker.url}: connection lost"
            # The broker took all 25 before the big one; a reset may lose the last
            # acknowledgements on the way back, never an earlier one.
            assert 0 < cut.sent <= 25
            assert after == Outcome.delivered(29 - cut.sent)  # on a new connection
            got = subscriber.wait_for_count(29 + 25 - cut.sent)
        # At least once: what was not confirmed came twice, in order each time.
        unconfirmed = list(range(1000 + cut.sent, 1025))
        expected = list(range(1000, 1025)) + unconfirmed + list(range(1026, 1030))
        assert [m.alert_id for m in got] == expected
    finally:
        broker.cleanup()


def test_tls_with_a_ca_file_and_without_verification(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with running_mosquitto(tls=(cert, key)) as broker, Subscriber(broker) as subscriber:
        verified = sends(output_for(broker.url, tls_ca=str(cert)), [0])
        unverified = sends(output_for(broker.url, tls_verify="false"), [1])
        assert verified + unverified == [Outcome.delivered(1)] * 2
        assert [m.alert_id for m in subscriber.wait_for_count(2)] == [1000, 1001]


def test_tls_untrusted_and_for_another_name(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    other, _ = self_signed(tmp_path, "other")
    with running_mosquitto(tls=(cert, key)) as broker:
        (untrusted,) = sends(output_for(broker.url), [0])
        (wrong_ca,) = sends(output_for(broker.url, tls_ca=str(other)), [0])
        named = broker.url.replace("127.0.0.1", "localhost")
        (wrong_name,) = sends(output_for(named, tls_ca=str(cert)), [0])
    for outcome in (untrusted, wrong_ca, wrong_name):
        assert outcome.result is Result.RETRY
        assert "certificate verify failed" in outcome.reason, outcome.reason
    assert "match" in wrong_name.reason or "mismatch" in wrong_name.reason


def test_reconnects_after_the_broker_restarts(broker: Mosquitto) -> None:
    output = output_for(broker.url)

    async def run() -> list[Outcome]:
        first = await output.send([make_alert(0)])
        broker.stop()
        down = await output.send([make_alert(1)])
        broker.start()
        again = await output.send([make_alert(1)])
        await output.close()
        return [first, down, again]

    with Subscriber(broker, persistent=True):
        pass  # its session waits on the broker, across the restart
    first, down, again = asyncio.run(run())
    assert (first, again) == (Outcome.delivered(1), Outcome.delivered(1))
    assert down.result is Result.RETRY
    assert down.reason.startswith(f"{broker.url}: ")
    with Subscriber(broker, persistent=True) as subscriber:
        assert [m.alert_id for m in subscriber.wait_for_count(2)] == [1000, 1001]


def test_a_hung_broker_leaves_the_send_to_the_runners_timeout(broker: Mosquitto) -> None:
    output = output_for(broker.url)

    async def run() -> tuple[Outcome, Outcome]:
        first = await output.send([make_alert(0)])
        with broker.hung(), pytest.raises(TimeoutError):
            async with asyncio.timeout(slack(0.2)):
                await output.send([make_alert(1)])
        # Cancelled half way: the next send starts on a new connection.
        again = await output.send([make_alert(1)])
        await output.close()
        return first, again

    assert asyncio.run(run()) == (Outcome.delivered(1), Outcome.delivered(1))
    assert broker.log().count("New client connected") == 2


def test_no_connack_is_a_retry(broker: Mosquitto, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt, "CONNACK_SECONDS", 0.2)
    output = output_for(broker.url)

    async def run() -> tuple[Outcome, Outcome]:
        with broker.hung():
            silent = await output.send([make_alert(0)])
        again = await output.send([make_alert(0)])
        await output.close()
        return silent, again

    silent, again = asyncio.run(run())
    assert (silent.result, silent.reason) == (
        Result.RETRY,
        f"{broker.url}: no CONNACK within 0.2 s",
    )
    assert again == Outcome.delivered(1)
