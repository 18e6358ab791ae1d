"""type=webhook on a real server: every alert reaches the peer in raise order, as its
record (signed) or as chat text; a refused alert is given up alone; after 500s, a 429
and a peer that was down, everything arrives in order; and /forward/status.json
counts it all."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import orjson

from tests.forward.http_receiver import HttpReceiver, accept, fail, throttle
from tests.forward.status import FAST_RETRY, messages, raised_ids, settled, status
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server, wait_for

SECRET = "shared-secret"


def test_every_alert_arrives_in_order_signed_and_as_chat_text(tmp_path: Path) -> None:
    with HttpReceiver() as records, HttpReceiver() as chat:
        config = (
            BASE_CONFIG
            + f'forward=records:type=webhook,url="{records.url}/alerts",secret={SECRET},'
            + 'http_headers="X-Sensor: lab, 2"\n'
            + f"forward=chat:type=webhook,url={chat.url}/hook,format=text\n"
        )
        with Server(tmp_path, config) as server:
            define_fast(server, "FWDTEST", severity=10)
            for n in range(20):
                raise_ok(server, "FWDTEST", f"number {n}", channel="6")
            expected = raised_ids(server)
            assert len(expected) >= 20
            assert records.wait_for_ids(len(expected)) == expected
            settled(server, "records", len(expected))
            settled(server, "chat", len(expected))
            by_id = {alert["kismet.alert.hash"]: alert for alert in server.alerts()}
        got = records.delivered()
        texts = [orjson.loads(r.body)["text"] for r in chat.delivered()]
    assert len(got) == len(expected)  # each once
    for request in got:
        assert orjson.loads(request.body) == by_id[request.alert_id]
        assert request.path == "/alerts"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-sensor"] == "lab, 2"
        mac = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-kisalert-signature"] == f"sha256={mac}"
    # Kept alive: not a connection per alert.
    assert len({r.connection for r in got}) < len(got) / 2
    mine = [text for text in texts if "FWDTEST" in text]
    assert mine == [f"MEDIUM FWDTEST: number {n} (channel 6)" for n in range(20)]
    assert len(texts) == len(expected)


def test_a_refused_alert_is_given_up_and_the_next_ones_still_go(tmp_path: Path) -> None:
    with HttpReceiver() as peer:
        peer.answer = lambda body: (400, {}) if b"poison" in body else (200, {})
        config = BASE_CONFIG + f"forward=hook:type=webhook,url={peer.url}/,{FAST_RETRY}\n"
        with Server(tmp_path, config) as server:
            define_fast(server, "FWDTEST")
            for text in ["one", "two", "poison", "three", "four"]:
                raise_ok(server, "FWDTEST", text)
            everything = raised_ids(server)
            poison = everything[-3]
            wanted = [alert_id for alert_id in everything if alert_id != poison]
            assert peer.wait_for_ids(len(wanted)) == wanted
            report = wait_for(
                lambda: (s := status(server)["hook"])["failed"] == 1 and s["backlog"] == 0 and s,
                what="the refused alert to be counted",
            )
            assert (report["delivered"], report["state"]) == (len(wanted), "ok")
            assert report["last_error"].startswith(f"http://127.0.0.1:{peer.port}: HTTP 400")
            assert f"(alert {poison})" in report["last_error"]
            gave_up = [m for m in messages(server) if m.startswith("forward hook: gave up on")]
            assert gave_up == [f"forward hook: gave up on 1 alert: {report['last_error']}"]
        assert [r.alert_id for r in peer.received() if r.status == 400] == [poison]


def test_after_500s_a_429_and_a_down_period_everything_arrives_in_order(
    tmp_path: Path,
) -> None:
    with HttpReceiver() as peer:
        config = BASE_CONFIG + f"forward=hook:type=webhook,url={peer.url}/in,{FAST_RETRY}\n"
        with Server(tmp_path, config) as server:
            define_fast(server, "FWDTEST")
            # Failing: the alerts wait while the peer answers 500.
            peer.answer = fail
            for n in range(3):
                raise_ok(server, "FWDTEST", f"during 500s {n}")
            peer.wait_for_answers(500, 3)
            assert status(server)["hook"]["state"] == "failing"
            # Throttled: the retry waits what Retry-After says, not retry_max.
            peer.answer = throttle("1")
            throttled = peer.wait_for_answers(429)
            peer.answer = accept
            before_down = raised_ids(server)
            assert peer.wait_for_ids(len(before_down)) == before_down
            received = peer.received()
            after_429 = received[received.index(throttled) + 1]
            assert after_429.at - throttled.at >= 0.9
            settled(server, "hook", len(before_down))
            # Down: connections refused, and the one kept open dropped.
            peer.close()
            for n in range(3):
                raise_ok(server, "FWDTEST", f"while down {n}")
            wait_for(
                lambda: (s := status(server)["hook"])["state"] == "failing" and s["backlog"] >= 3,
                what="the output to fail while the peer is down",
            )
            with HttpReceiver(peer.port) as again:
                for n in range(2):
                    raise_ok(server, "FWDTEST", f"after {n}")
                everything = raised_ids(server)
                later = everything[len(before_down) :]
                assert again.wait_for_ids(len(later)) == later
                report = settled(server, "hook", len(everything))
                time.sleep(0.1)  # nothing more comes
                assert again.ids() == later
            found = messages(server)
    # At least once, in order: every alert taken, in raise order.
    assert peer.ids() + again.ids() == everything
    assert (report["failed"], report["state"]) == (0, "ok")
    recovered = [m for m in found if m.startswith("forward hook: delivering again after")]
    failing = [m for m in found if m.startswith("forward hook: failing, will retry: ")]
    assert len(recovered) == len(failing) == 2
    assert failing[0].endswith(
        f"http://127.0.0.1:{peer.port}: HTTP 500 Internal Server Error: no thanks"
    )
