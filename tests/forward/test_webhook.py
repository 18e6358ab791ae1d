"""type=webhook: the bodies (the record, or a one-line chat summary), the signature,
the options, and how each answer of a real HTTP peer becomes an outcome."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import orjson
import pytest

from kisalert.alert import Alert
from kisalert.forward.base import Outcome, OutputSpec, Result, SpecError
from kisalert.forward.spec import parse_spec
from kisalert.forward.webhook import (
    SIGNATURE_HEADER,
    WebhookOutput,
    retry_after,
    signature,
    summary,
    text_body,
)
from kisalert.forward.webhook_options import parse_headers
from tests.certs import self_signed
from tests.forward.alerts import make_alert
from tests.forward.http_receiver import Answer, HttpReceiver, accept, throttle
from tests.server import free_port
from tests.slack import slack

SECRET = "s3cr3t-shared"
TOKEN_PATH = "/services/T0001/B0002/tokentokentoken"


def output(url: str, **options: str) -> WebhookOutput:
    return WebhookOutput.from_spec(OutputSpec("hook", "webhook", {"url": url, **options}))


def send_all(hook: WebhookOutput, *batches: Sequence[Alert]) -> list[Outcome]:
    async def run() -> list[Outcome]:
        try:
            return [await hook.send(batch) for batch in batches]
        finally:
            await hook.close()

    return asyncio.run(run())


def answering(status: int) -> Callable[[bytes], Answer]:
    return lambda _body: (status, {})


def answer_by_text(answers: dict[str, Answer]) -> Callable[[bytes], Answer]:
    """Answers the alert whose text is a key as told, and accepts the others."""

    def answer(body: bytes) -> Answer:
        return answers.get(orjson.loads(body)["kismet.alert.text"], (200, {}))

    return answer


# The bodies.


def test_a_summary_is_one_line_with_severity_header_text_transmitter_and_channel() -> None:
    alert = make_alert(severity=15, channel="6", transmitter="00:11:22:33:44:55")
    assert summary(alert) == (
        "HIGH ROGUEAP: corp from 00:11:22:33:44:55 (transmitter 00:11:22:33:44:55, channel 6)"
    )
    assert summary(make_alert(severity=20, text="x")) == "CRITICAL ROGUEAP: x"
    assert summary(make_alert(severity=7, text="x")) == "7 ROGUEAP: x"


def test_text_from_the_air_can_neither_break_the_line_nor_page_a_channel() -> None:
    alert = make_alert(text="ssid <!channel> & <@U123>\r\nsecond\tline\x00")
    line = summary(alert)
    assert line == "HIGH ROGUEAP: ssid &lt;!channel&gt; &amp; &lt;@U123&gt;  second line "
    assert orjson.loads(text_body(alert)) == {"text": line}


def test_the_signature_is_hmac_sha256_of_the_body() -> None:
    # RFC 4231, test case 2.
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert signature(b"Jefe", b"what do ya want for nothing?") == "sha256=" + expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("7", 7.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # past: at once
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after_in_seconds_or_as_an_http_date(value: str | None, expected: float) -> None:
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after(value, now) == expected


# The options.


def test_custom_headers_are_name_colon_value_separated_by_bars() -> None:
    assert parse_headers("X-A: 1| Authorization: Bearer a,b c |") == (
        ("X-A", "1"),
        ("Authorization", "Bearer a,b c"),
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("X-A", "Name: value entries"),
        ("X A: 1", "Name: value entries"),
        ("|", "Name: value entries"),
        ("Content-Type: text/plain", "may not set Content-Type"),
        ("x-kisalert-signature: forged", "may not set x-kisalert-signature"),
        ("X-A: 1|x-a: 2", "gives x-a twice"),
        ("X-A: caf\u00e9", "printable ASCII"),
    ],
)
def test_bad_custom_headers_are_refused(text: str, says: str) -> None:
    with pytest.raises(SpecError, match=says):
        parse_headers(text)


def test_a_line_with_every_option_parses() -> None:
    spec = parse_spec(
        'hook:type=webhook,url="https://hooks.example/x?a=1,b",format=text,'
        'http_headers="X-A: 1|X-B: 2, 3",secret=abc,tls_verify=false,headers=ROGUEAP'
    )
    assert spec.options["http_headers"] == "X-A: 1|X-B: 2, 3"
    hook = WebhookOutput.from_spec(spec)
    assert hook.options.url == "https://hooks.example/x?a=1,b"
    assert (hook.options.where, hook.options.json_format) == ("https://hooks.example", False)
    assert hook.options.headers == (("X-A", "1"), ("X-B", "2, 3"))


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("type=webhook", "type=webhook needs url="),
        ("type=webhook,url=ftp://h/x", "url= must start with http:// or https://"),
        ("type=webhook,url=https:///x", "url= names no host"),
        ("type=webhook,url=https://h:99999/x", "url= is not a usable https:// URL"),
        ("type=webhook,url=https://h/x,format=xml", "format='xml': use json or text"),
        ("type=webhook,url=https://h/x,secret=", "secret= is empty"),
        ("type=webhook,url=http://h/x,tls_verify=false", "need an https:// url="),
        ("type=webhook,url=https://h/x,tls_verify=maybe", "tls_verify needs true or false"),
        ("type=webhook,url=https://h/x,tls_ca=/nonexistent/ca.pem", "tls_ca="),
        ("type=webhook,url=https://h/x,target=udp://h:1", "unknown option 'target'"),
    ],
)
def test_bad_lines_say_why_in_one_line(line: str, says: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(f"hook:{line}")
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bad_url_is_not_repeated_in_the_error() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(f"hook:type=webhook,url=https://h:99999{TOKEN_PATH}")
    assert TOKEN_PATH not in str(caught.value)


# Against a real peer.


def test_json_bodies_are_the_records_in_order_with_headers_and_signature() -> None:
    alerts = [make_alert(n) for n in range(4)]
    with HttpReceiver() as peer:
        hook = output(
            peer.url + "/in?k=v", http_headers="X-A: 1|Authorization: Bearer t", secret=SECRET
        )
        assert send_all(hook, alerts[:3], alerts[3:]) == [
            Outcome.delivered(3),
            Outcome.delivered(1),
        ]
        got = peer.received()
    assert [r.body for r in got] == [alert.json for alert in alerts]
    for request in got:
        assert request.path == "/in?k=v"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-a"] == "1"
        assert request.headers["authorization"] == "Bearer t"
        assert request.headers["user-agent"].startswith("kisalert/")
        mac = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers[SIGNATURE_HEADER.lower()] == f"sha256={mac}"
    # One connection for all: the pool keeps it between sends.
    assert {r.connection for r in got} == {1}


def test_text_bodies_and_no_signature_without_a_secret() -> None:
    alert = make_alert(channel="11")
    with HttpReceiver() as peer:
        assert send_all(output(peer.url, format="text"), [alert]) == [Outcome.delivered(1)]
        (request,) = peer.received()
    assert orjson.loads(request.body) == {"text": summary(alert)}
    assert request.headers["content-type"] == "application/json"
    assert SIGNATURE_HEADER.lower() not in request.headers


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_delivered(status: int) -> None:
    with HttpReceiver() as peer:
        peer.answer = answering(status)
        assert send_all(output(peer.url), [make_alert()]) == [Outcome.delivered(1)]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_retried_from_the_alert_it_failed_on(status: int) -> None:
    alerts = [make_alert(n, text=f"n{n}") for n in range(5)]
    with HttpReceiver() as peer:
        peer.answer = answer_by_text({"n2": (status, {})})
        (outcome,) = send_all(output(peer.url), alerts)
        assert len(peer.received()) == 3  # it stopped there
    assert (outcome.result, outcome.sent, outcome.retry_after) == (Result.RETRY, 2, None)
    assert outcome.reason.startswith(f"http://127.0.0.1:{peer.port}: HTTP {status} ")


def test_a_429_is_retried_after_what_retry_after_says() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=100), usegmt=True)
    with HttpReceiver() as peer:
        peer.answer = throttle("3")
        (seconds,) = send_all(output(peer.url), [make_alert()])
        peer.answer = throttle(later)
        (date,) = send_all(output(peer.url), [make_alert()])
        peer.answer = lambda _body: (503, {"Retry-After": "2"})
        (unavailable,) = send_all(output(peer.url), [make_alert()])
    assert (seconds.result, seconds.retry_after) == (Result.RETRY, 3.0)
    assert seconds.reason.endswith("HTTP 429 Too Many Requests: no thanks")
    assert date.retry_after is not None and 95 <= date.retry_after <= 100
    assert unavailable.retry_after == 2.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 301])
def test_other_statuses_give_up_on_that_alert_alone(status: int) -> None:
    alerts = [make_alert(n, text=f"n{n}") for n in range(4)]
    with HttpReceiver() as peer:
        peer.answer = answer_by_text({"n1": (status, {"Location": "https://elsewhere/"})})
        (outcome,) = send_all(output(peer.url), alerts)
        got = peer.received()
    assert [r.alert_id for r in got] == [1000, 1001, 1002, 1003]  # the rest still went
    # The runner gives up on what follows `sent`: the one refused, reported last.
    assert (outcome.result, outcome.sent) == (Result.GIVE_UP, 3)
    assert f": HTTP {status} " in outcome.reason
    assert outcome.reason.endswith("(alert 1001)")
    if status == 301:
        assert "redirects are not followed" in outcome.reason


def test_a_refusal_before_a_retry_is_reported_with_the_next_answered_batch() -> None:
    alerts = [make_alert(n, text=f"n{n}") for n in range(5)]
    with HttpReceiver() as peer:
        peer.answer = answer_by_text({"n1": (400, {}), "n3": (500, {})})
        hook = output(peer.url)

        async def run() -> list[Outcome]:
            first = await hook.send(alerts)
            peer.answer = accept
            second = await hook.send(alerts[3:])
            third = await hook.send(alerts[3:])
            await hook.close()
            return [first, second, third]

        first, second, third = asyncio.run(run())
    # 0, 1 (refused) and 2 settled; 3 to retry. Then 3 and 4 are taken, and the
    # refusal owed is given up as the last of them: the runner's counts add up.
    assert (first.result, first.sent) == (Result.RETRY, 3)
    assert (second.result, second.sent) == (Result.GIVE_UP, 1)
    assert second.reason.endswith("HTTP 400 Bad Request: no thanks (alert 1001)")
    assert third == Outcome.delivered(2)


def test_a_refused_connection_is_retried_and_the_peer_found_again() -> None:
    port = free_port()
    hook = output(f"http://127.0.0.1:{port}{TOKEN_PATH}")

    async def run() -> tuple[Outcome, Outcome]:
        refused = await hook.send([make_alert(0)])
        with HttpReceiver(port):
            taken = await hook.send([make_alert(0)])
        await hook.close()
        return refused, taken

    refused, taken = asyncio.run(run())
    assert refused.result is Result.RETRY and refused.sent == 0
    assert refused.reason == f"http://127.0.0.1:{port}: Connection refused"
    assert taken == Outcome.delivered(1)


def test_a_peer_restart_between_sends_costs_nothing() -> None:
    port = free_port()
    hook = output(f"http://127.0.0.1:{port}/")

    async def run() -> list[Outcome]:
        outcomes = []
        for n in range(2):
            with HttpReceiver(port):
                outcomes.append(await hook.send([make_alert(n)]))
        await hook.close()
        return outcomes

    assert asyncio.run(run()) == [Outcome.delivered(1)] * 2


def test_reasons_never_carry_the_token_the_secret_or_header_values() -> None:
    with HttpReceiver() as peer:
        hook = output(
            f"{peer.url}{TOKEN_PATH}?key=querytoken",
            secret=SECRET,
            http_headers="Authorization: Bearer xq7headertoken",
        )
        peer.echo = True
        reasons = []
        for status in (500, 400, 429):
            peer.answer = answering(status)
            (outcome,) = send_all(hook, [make_alert()])
            reasons.append(outcome.reason)
    (refused,) = send_all(hook, [make_alert()])
    reasons.append(refused.reason)
    assert '"path":"…' in reasons[0]  # the peer did echo them: they were taken out
    for reason in reasons:
        assert reason.startswith(f"http://127.0.0.1:{peer.port}: "), reason
        for secret in ("tokentokentoken", "querytoken", SECRET, "xq7headertoken"):
            assert secret[:5] not in reason, (secret, reason)  # nor a part cut short


def test_a_send_cut_off_by_the_timeout_resumes_after_what_was_taken() -> None:
    alerts = [make_alert(n, text=f"n{n}") for n in range(4)]
    stalled, release = threading.Event(), threading.Event()

    def stall_on_n2(body: bytes) -> Answer:
        if orjson.loads(body)["kismet.alert.text"] == "n2" and not release.is_set():
            stalled.set()
            release.wait(slack(10))
        return 200, {}

    with HttpReceiver() as peer:
        peer.answer = stall_on_n2
        hook = output(peer.url)

        async def run() -> Outcome:
            # As the runner's timeout does: cancelled half way, closed, the batch again.
            sending = asyncio.create_task(hook.send(alerts))
            async with asyncio.timeout(slack(10)):
                while not stalled.is_set():
                    await asyncio.sleep(0.01)
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
            release.set()
            await hook.close()
            outcome = await hook.send(alerts)
            await hook.close()
            return outcome

        outcome = asyncio.run(run())
        got = [r.alert_id for r in peer.received()]
    assert outcome == Outcome.delivered(4)
    # n2 twice (the first answer was lost), then n3; never n0 and n1 again.
    assert got[:2] == [1000, 1001]
    assert sorted(got[2:]) == [1002, 1002, 1003]


def test_tls_with_a_ca_file_without_verification_and_untrusted(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with HttpReceiver(tls=(cert, key)) as peer:
        (verified,) = send_all(output(peer.url, tls_ca=str(cert)), [make_alert()])
        (unverified,) = send_all(output(peer.url, tls_verify="false"), [make_alert()])
        (untrusted,) = send_all(output(peer.url), [make_alert()])
        assert len(peer.received()) == 2
    assert verified == unverified == Outcome.delivered(1)
    assert untrusted.result is Result.RETRY
    assert "certificate" in untrusted.reason.lower()
