"""`type=syslog`: each alert as one RFC 5424 message.

    <PRI>1 TIMESTAMP HOSTNAME kisalert PROCID HEADER [kisalert@32473 ...] HEADER text

PRI is the facility times 8 plus the syslog severity of the alert's severity;
TIMESTAMP is when the alert was raised, in UTC to the microsecond. `format=json`
sends the alert's record, as all_alerts.json gives it, as the message instead, with
no structured data (it holds all of that and more).
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache, partial

import orjson

from kisalert.alert import Alert
from kisalert.forward.base import Outcome, OutputSpec, SpecError
from kisalert.forward.peer import tls_context
from kisalert.forward.transport import Target, Transport, TransportError
from kisalert.mac import ZERO_MAC
from kisalert.phy import phy_from_u32, phy_log_name
from kisalert.severity import SEVERITY_NAMES

OPTIONS = frozenset({"target", "facility", "format", "hostname", "tls_ca", "tls_verify"})
REQUIRED = frozenset({"target"})

APP_NAME = "kisalert"
SERVER_PID_ENV = "KISALERT_SERVER_PID"
TEXT_KEY = "kismet.alert.text"
# The most a UDP datagram carries over IPv4 (65 535 less the IP and UDP headers); a
# unix datagram socket (/dev/log) takes at least as much by default.
MAX_DATAGRAM = 65_507
DATAGRAM_SCHEMES = ("udp", "unix")
CUT_MARK = " [cut: too long for one datagram]"
# The structured data's SD-ID: 32473 is the enterprise number RFC 5612 sets aside
# for examples; kisalert has none of its own.
SD_ID = "kisalert@32473"
DEFAULT_FACILITY = "local0"
FACILITIES = {
    "kern": 0,
    "user": 1,
    "mail": 2,
    "daemon": 3,
    "auth": 4,
    "syslog": 5,
    "lpr": 6,
    "news": 7,
    "uucp": 8,
    "cron": 9,
    "authpriv": 10,
    "ftp": 11,
    "ntp": 12,
    "security": 13,
    "console": 14,
    "solaris-cron": 15,
    **{f"local{n}": 16 + n for n in range(8)},
}
BOM = "\ufeff".encode()


def syslog_severity(severity: int) -> int:
    """Kismet's 0/5/10/15/20 as syslog's info/notice/warning/err/crit."""
    if severity >= 20:
        return 2
    if severity >= 15:
        return 3
    if severity >= 10:
        return 4
    if severity >= 5:
        return 5
    return 6


def sd_escape(value: str) -> str:
    """A PARAM-VALUE: `"`, `\\` and `]` escaped with a backslash (RFC 5424 6.3.3)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


# Per alert, both are the same few values again and again (the headers defined, the
# second it is): made once each, they take a third of a message's formatting.
@lru_cache(maxsize=256)
def header_field(text: str, limit: int) -> str:
    """A header field: 1 to `limit` printable US-ASCII characters, or the nil value."""
    clean = "".join(c if "!" <= c <= "~" else "_" for c in text)[:limit]
    return clean or "-"


@lru_cache(maxsize=16)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def timestamp(stamp_us: int) -> str:
    seconds, micros = divmod(stamp_us, 1_000_000)
    return f"{_second(seconds)}.{micros:06d}Z"


def structured_data(alert: Alert) -> str:
    record = alert.record
    severity = record["kismet.alert.severity"]
    params = [
        ("id", str(alert.alert_id)),
        ("header", alert.header),
        ("class", record["kismet.alert.class"]),
        ("severity", SEVERITY_NAMES.get(severity, str(severity))),
        ("phy", phy_log_name(phy_from_u32(record["kismet.alert.phy_id"]))),
    ]
    if record["kismet.alert.channel"]:
        params.append(("channel", record["kismet.alert.channel"]))
    for name in ("transmitter", "source", "dest", "other"):
        mac = record[f"kismet.alert.{name}_mac"]
        if mac != ZERO_MAC:
            params.append((name, mac))
    inner = " ".join(f'{name}="{sd_escape(value)}"' for name, value in params)
    return f"[{SD_ID} {inner}]"


def format_message(
    alert: Alert,
    facility: int,
    hostname: str,
    procid: str,
    json_format: bool = False,
    text: str | None = None,
) -> bytes:
    """The message; with `text`, that in place of the alert's text."""
    record = alert.record
    pri = facility * 8 + syslog_severity(record["kismet.alert.severity"])
    head = (
        f"<{pri}>1 {timestamp(alert.timestamp_us)} {hostname} {APP_NAME} {procid} "
        f"{header_field(alert.header, 32)}"
    )
    if json_format:
        data = alert.json if text is None else orjson.dumps({**record, TEXT_KEY: text})
        return f"{head} - ".encode() + data
    line = f"{alert.header} {record[TEXT_KEY] if text is None else text}"
    message = f"{head} {structured_data(alert)} ".encode()
    # RFC 5424 6.4: a UTF-8 message starts with a BOM; plain ASCII needs none.
    return message + (line.encode() if line.isascii() else BOM + line.encode())


def fit_datagram(message: bytes, alert: Alert, cut: Callable[[str], bytes]) -> bytes:
    """`message`, or if it is larger than a datagram may be, the message `cut` makes
    of the alert's text shortened and marked: a datagram too large is refused by the
    kernel every time, and the output would retry it for good, sending nothing after
    it. (Control characters, six bytes each in JSON, make 16 KiB of text ~96 KiB.)"""
    if len(message) <= MAX_DATAGRAM:
        return message
    text: str = alert.record[TEXT_KEY]
    keep = len(text)
    while keep:
        keep = max(0, min(keep - 1, keep * (MAX_DATAGRAM - 512) // len(message)))
        message = cut(text[:keep] + CUT_MARK)
        if len(message) <= MAX_DATAGRAM:
            return message
    return message


def _facility(text: str) -> int:
    value = text.strip().lower()
    if value.isdigit() and int(value) <= 23:
        return int(value)
    if value in FACILITIES:
        return FACILITIES[value]
    raise SpecError(f"facility={text!r}: use 0-23 or a name such as daemon, auth or local0")


class SyslogOutput:
    def __init__(
        self,
        name: str,
        target: Target,
        facility: int = FACILITIES[DEFAULT_FACILITY],
        json_format: bool = False,
        hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.target = target
        self.facility = facility
        self.json_format = json_format
        self.hostname = header_field(hostname or socket.gethostname(), 255)
        # In the forwarding process, the server's id, which it is given.
        self.procid = os.environ.get(SERVER_PID_ENV) or str(os.getpid())
        self._datagram = target.scheme in DATAGRAM_SCHEMES
        self._transport = Transport(target, ssl_context)

    @classmethod
    def from_spec(cls, spec: OutputSpec) -> SyslogOutput:
        target = Target.parse(spec.options["target"])
        fmt = spec.options.get("format", "text").lower()
        if fmt not in ("text", "json"):
            raise SpecError(f"format={fmt!r}: use text or json")
        return cls(
            spec.name,
            target,
            _facility(spec.options.get("facility", DEFAULT_FACILITY)),
            fmt == "json",
            spec.options.get("hostname") or None,
            tls_context(spec.options, target.scheme == "tls", "a tls:// target"),
        )

    def format(self, alert: Alert) -> bytes:
        message = format_message(alert, self.facility, self.hostname, self.procid, self.json_format)
        if self._datagram and len(message) > MAX_DATAGRAM:  # rare: no work otherwise
            message = fit_datagram(message, alert, partial(self._with_text, alert))
        return message

    def _with_text(self, alert: Alert, text: str) -> bytes:
        return format_message(
            alert, self.facility, self.hostname, self.procid, self.json_format, text
        )

    async def send(self, batch: Sequence[Alert]) -> Outcome:
        try:
            await self._transport.send([self.format(alert) for alert in batch])
        except TransportError as exc:
            return Outcome.retry(str(exc), sent=exc.sent)
        return Outcome.delivered(len(batch))

    async def close(self) -> None:
        await self._transport.close()
