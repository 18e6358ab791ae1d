"""type=syslog: RFC 5424 messages, checked against the RFC's grammar, sent over UDP,
TCP, TLS and unix sockets to real peers."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from kisalert.alert import Alert
from kisalert.forward.base import Outcome, OutputSpec, Result
from kisalert.forward.syslog import (
    BOM,
    CUT_MARK,
    MAX_DATAGRAM,
    SyslogOutput,
    format_message,
    sd_escape,
    syslog_severity,
)
from kisalert.forward.transport import Target
from kisalert.phy import PHY_ANY
from tests.certs import self_signed
from tests.forward.alerts import make_alert
from tests.forward.receivers import DatagramReceiver, TcpReceiver
from tests.server import free_port, wait_for

# RFC 5424 section 6, as a regular expression.
SD_NAME = r"[!#-<>-\\^-~]{1,32}"  # printable US-ASCII but '=', ' ', ']' and '"'
PARAM_VALUE = r'(?:[^"\\\]]|\\["\\\]])*'
SD_ELEMENT = rf'\[{SD_NAME}(?: {SD_NAME}="{PARAM_VALUE}")*\]'
SYSLOG_MSG = re.compile(
    rb"<(?P<pri>\d{1,3})>1 "
    rb"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)) "
    rb"(?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) "
    rb"(?P<msgid>[!-~]{1,32}) "
    rb"(?P<sd>-|(?:" + SD_ELEMENT.encode() + rb")+)"
    rb"(?: (?P<msg>.*))?\Z",
    re.DOTALL,
)


def parse(message: bytes) -> dict[str, bytes]:
    found = SYSLOG_MSG.match(message)
    assert found is not None, message
    return {key: value for key, value in found.groupdict().items() if value is not None}


def params(sd: bytes) -> dict[str, str]:
    text = sd.decode()
    return {
        name: re.sub(r"\\(.)", r"\1", value)
        for name, value in re.findall(r'(\w+)="((?:[^"\\\]]|\\.)*)"', text)
    }


def test_a_message_fits_the_grammar_and_says_everything() -> None:
    alert = make_alert(
        3,
        severity=15,
        channel="6",
        transmitter="00:11:22:33:44:55",
        source="AA:BB:CC:DD:EE:FF",
    )
    fields = parse(format_message(alert, 16, "sensor-1", "4242"))
    assert int(fields["pri"]) == 16 * 8 + 3
    assert fields["ts"] == b"2025-11-29T12:40:00.003000Z"
    assert (fields["host"], fields["app"], fields["procid"], fields["msgid"]) == (
        b"sensor-1",
        b"kisalert",
        b"4242",
        b"ROGUEAP",
    )
    assert fields["sd"].startswith(b"[kisalert@32473 ")
    assert params(fields["sd"]) == {
        "id": "1003",
        "header": "ROGUEAP",
        "class": "SPOOF",
        "severity": "HIGH",
        "phy": "IEEE802.11",
        "channel": "6",
        "transmitter": "00:11:22:33:44:55",
        "source": "AA:BB:CC:DD:EE:FF",
    }
    assert fields["msg"] == b"ROGUEAP corp from 00:11:22:33:44:55"


@pytest.mark.parametrize(
    ("severity", "expected"), [(0, 6), (5, 5), (10, 4), (15, 3), (20, 2), (3, 6), (99, 2)]
)
def test_severity_maps_to_syslog(severity: int, expected: int) -> None:
    assert syslog_severity(severity) == expected
    fields = parse(format_message(make_alert(severity=severity), 1, "h", "1"))
    assert int(fields["pri"]) == 8 + expected


def test_param_values_escape_quote_backslash_and_bracket() -> None:
    assert sd_escape('a"b\\c]d') == 'a\\"b\\\\c\\]d'
    alert = make_alert(klass='we"ird]\\class', channel="]")
    fields = parse(format_message(alert, 16, "h", "1"))
    assert params(fields["sd"])["class"] == 'we"ird]\\class'
    assert params(fields["sd"])["channel"] == "]"


def test_utf8_text_starts_with_a_bom_and_ascii_does_not() -> None:
    plain = parse(format_message(make_alert(text="plain"), 16, "h", "1"))
    assert not plain["msg"].startswith(BOM)
    fancy = parse(format_message(make_alert(text='café ]"\n'), 16, "h", "1"))
    assert fancy["msg"] == BOM + 'ROGUEAP café ]"\n'.encode()


def test_header_fields_stay_printable_and_short() -> None:
    alert = make_alert(header="H" * 64, phy=PHY_ANY)
    fields = parse(format_message(alert, 16, "h", "1"))
    assert fields["msgid"] == b"H" * 32
    assert params(fields["sd"])["header"] == "H" * 64
    assert params(fields["sd"])["phy"] == "ANY"
    output = SyslogOutput("x", Target("udp", "h", 1), hostname="my host\tname")
    assert parse(output.format(alert))["host"] == b"my_host_name"


def test_json_format_carries_the_record() -> None:
    alert = make_alert(text="café")
    fields = parse(format_message(alert, 16, "h", "1", json_format=True))
    assert fields["sd"] == b"-"
    assert orjson.loads(fields["msg"]) == alert.record


def test_facility_and_format_from_options() -> None:
    spec = OutputSpec(
        "x", "syslog", {"target": "udp://[::1]:5514", "facility": "AUTH", "format": "json"}
    )
    output = SyslogOutput.from_spec(spec)
    assert (output.facility, output.json_format) == (4, True)
    assert str(output.target) == "udp://[::1]:5514"
    default = SyslogOutput.from_spec(OutputSpec("x", "syslog", {"target": "tcp://h"}))
    assert (default.facility, default.target.port) == (16, 514)
    assert SyslogOutput.from_spec(OutputSpec("x", "syslog", {"target": "tls://h"})).target.port == (
        6514
    )
    numbered = OutputSpec("x", "syslog", {"target": "unix:///dev/log", "facility": "3"})
    assert SyslogOutput.from_spec(numbered).facility == 3


# Sending, to real peers.


def send(output: SyslogOutput, count: int, start: int = 0) -> Outcome:
    return send_alerts(output, [make_alert(start + n) for n in range(count)])


def output_for(target: str, **options: str) -> SyslogOutput:
    return SyslogOutput.from_spec(OutputSpec("x", "syslog", {"target": target, **options}))


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # A unix socket's path must fit in 108 bytes; pytest's tmp_path may not.
    with tempfile.TemporaryDirectory(prefix="kf") as name:
        yield Path(name)


def test_udp_one_datagram_per_alert_in_order() -> None:
    with DatagramReceiver() as peer:
        assert send(output_for(f"udp://127.0.0.1:{peer.port}"), 5) == Outcome.delivered(5)
        assert peer.wait_for_count(5) == [1000, 1001, 1002, 1003, 1004]
        assert all(parse(message) for message in peer.messages)


@pytest.mark.parametrize("json_format", ["json", "text"])
def test_an_alert_too_large_for_a_datagram_is_cut_to_fit_and_what_follows_sent(
    json_format: str,
) -> None:
    """16 KiB of control characters (within the text limit) are ~96 KiB of JSON: the
    kernel refused that datagram every time, and the output retried it for good."""
    huge = make_alert(0, text="\x01" * 16_384 if json_format == "json" else "é" * 40_000)
    with DatagramReceiver() as peer:
        output = output_for(f"udp://127.0.0.1:{peer.port}", format=json_format)

        async def run() -> Outcome:
            try:
                return await output.send([huge, make_alert(1)])
            finally:
                await output.close()

        assert asyncio.run(run()) == Outcome.delivered(2)
        wait_for(lambda: len(peer.messages) >= 2, what="two datagrams")
        cut, after = peer.messages
        assert MAX_DATAGRAM - 2048 < len(cut) <= MAX_DATAGRAM
        if json_format == "json":
            record = orjson.loads(parse(cut)["msg"])
            assert record["kismet.alert.text"].endswith(CUT_MARK)
            assert {**record, "kismet.alert.text": huge.record["kismet.alert.text"]} == huge.record
            assert orjson.loads(parse(after)["msg"])["kismet.alert.hash"] == 1001
        else:
            assert parse(cut)["msg"].decode().endswith(CUT_MARK)
            assert peer.ids() == [1000, 1001]
    # A stream takes it whole.
    with TcpReceiver() as stream:
        output = output_for(f"tcp://127.0.0.1:{stream.port}", format=json_format)
        assert send_alerts(output, [huge]).sent == 1
        wait_for(lambda: len(stream.messages) >= 1, what="the whole message")
        assert CUT_MARK.encode() not in stream.messages[0]
        assert len(stream.messages[0]) > MAX_DATAGRAM


def send_alerts(output: SyslogOutput, alerts: list[Alert]) -> Outcome:
    async def run() -> Outcome:
        try:
            return await output.send(alerts)
        finally:
            await output.close()

    return asyncio.run(run())


def test_tcp_octet_counted_frames_in_order_on_one_connection() -> None:
    with TcpReceiver() as peer:
        output = output_for(f"tcp://127.0.0.1:{peer.port}")

        async def run() -> list[Outcome]:
            outcomes = [await output.send([make_alert(n)]) for n in range(3)]
            outcomes.append(await output.send([make_alert(n) for n in range(3, 6)]))
            await output.close()
            return outcomes

        assert [o.result for o in asyncio.run(run())] == [Result.DELIVERED] * 4
        assert peer.wait_for_count(6) == list(range(1000, 1006))


def test_tcp_refused_is_a_retry_saying_why() -> None:
    outcome = send(output_for(f"tcp://127.0.0.1:{free_port()}"), 2)
    assert outcome.result is Result.RETRY
    assert outcome.sent == 0
    assert "Connect call failed" in outcome.reason or "refused" in outcome.reason
    assert outcome.reason.startswith("tcp://127.0.0.1:")


def test_tcp_reconnects_after_the_peer_restarts() -> None:
    port = free_port()
    output = output_for(f"tcp://127.0.0.1:{port}")

    async def run() -> tuple[Outcome, Outcome, Outcome]:
        with TcpReceiver(port) as first:
            one = await output.send([make_alert(0)])
            first.wait_for_count(1)
        # The peer is gone: the output notices the closed connection, not a lost write.
        await asyncio.sleep(0.05)
        refused = await output.send([make_alert(1)])
        with TcpReceiver(port) as second:
            two = await output.send([make_alert(1)])
            assert second.wait_for_count(1) == [1001]
        await output.close()
        return one, refused, two

    one, refused, two = asyncio.run(run())
    assert (one.result, refused.result, two.result) == (
        Result.DELIVERED,
        Result.RETRY,
        Result.DELIVERED,
    )


def test_tls_with_a_ca_file_and_without_verification(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    got: list[bytes] = []

    async def run() -> list[Outcome]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while True:
                    length = await reader.readuntil(b" ")
                    got.append(await reader.readexactly(int(length)))
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
        outcomes: list[Outcome] = []
        for options in ({"tls_ca": str(cert)}, {"tls_verify": "false"}, {}):
            output = output_for(f"tls://127.0.0.1:{port}", **options)
            outcomes.append(await output.send([make_alert(len(outcomes))]))
            await output.close()
        server.close()
        return outcomes

    verified, unverified, untrusted = asyncio.run(run())
    assert (verified.result, unverified.result) == (Result.DELIVERED, Result.DELIVERED)
    assert untrusted.result is Result.RETRY
    assert "certificate verify failed" in untrusted.reason
    assert [params(parse(message)["sd"])["id"] for message in got] == ["1000", "1001"]


def test_unix_datagram_socket(short_dir: Path) -> None:
    path = short_dir / "log"
    with DatagramReceiver(socket.AF_UNIX, path) as peer:
        assert send(output_for(f"unix://{path}"), 3).result is Result.DELIVERED
        assert peer.wait_for_count(3) == [1000, 1001, 1002]


def test_unix_stream_socket_when_it_is_not_a_datagram_one(short_dir: Path) -> None:
    path = short_dir / "log"
    with TcpReceiver(family=socket.AF_UNIX, path=path) as peer:
        assert send(output_for(f"unix://{path}"), 3).result is Result.DELIVERED
        assert peer.wait_for_count(3) == [1000, 1001, 1002]


def test_no_socket_file_is_a_retry(short_dir: Path) -> None:
    outcome = send(output_for(f"unix://{short_dir}/none"), 1)
    assert outcome.result is Result.RETRY
    assert outcome.reason == f"unix://{short_dir}/none: No such file or directory"
