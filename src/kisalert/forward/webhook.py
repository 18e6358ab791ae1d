"""`type=webhook`: each alert as one HTTP(S) POST.

`format=json` posts the alert's record exactly as all_alerts.json gives it;
`format=text` posts `{"text": "..."}`, a one-line summary that Slack's, Mattermost's
and Teams' incoming webhooks show as a message. With `secret=`, the header
`X-Kisalert-Signature: sha256=HEX` is an HMAC-SHA256 of the exact body.

2xx is delivered; 5xx, 429 and a failed connection are retried (by the runner);
any other status gives up on that one alert. Failure reasons name the URL's scheme,
host and port only: webhook URLs often carry their token in the path. The requests
go on http1.py's client, one kept-alive connection.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import orjson

from kisalert import __version__
from kisalert.alert import Alert
from kisalert.forward import OUTPUTS
from kisalert.forward.base import Outcome, OutputSpec, Result
from kisalert.forward.http1 import Client, HttpError
from kisalert.forward.webhook_options import Options, parse_options
from kisalert.mac import ZERO_MAC
from kisalert.severity import SEVERITY_NAMES

OPTIONS = OUTPUTS["webhook"].options
REQUIRED = OUTPUTS["webhook"].required

SIGNATURE_HEADER = "X-Kisalert-Signature"
USER_AGENT = f"kisalert/{__version__}"
# Enough of an error body to say why (Slack answers `invalid_payload`), and a bound
# on what of an answer is kept (http1.py bounds what more is read).
REASON_BODY = 200
READ_LIMIT = 64 * 1024


def one_line(text: str) -> str:
    """Line breaks and other control characters as spaces: one message, one line."""
    return "".join(c if c.isprintable() else " " for c in text)


def slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions (<!channel>): text from the air must not
    # page a whole channel. Slack asks for exactly these three to be escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def summary(alert: Alert) -> str:
    """`HIGH ROGUEAP: text (transmitter MAC, channel 6)`, escaped for chat."""
    record = alert.record
    severity = record["kismet.alert.severity"]
    where = []
    if record["kismet.alert.transmitter_mac"] != ZERO_MAC:
        where.append(f"transmitter {record['kismet.alert.transmitter_mac']}")
    if record["kismet.alert.channel"]:
        where.append(f"channel {record['kismet.alert.channel']}")
    line = f"{SEVERITY_NAMES.get(severity, str(severity))} {alert.header}: "
    line += record["kismet.alert.text"]
    if where:
        line += f" ({', '.join(where)})"
    return slack_escape(one_line(line))


def text_body(alert: Alert) -> bytes:
    return orjson.dumps({"text": summary(alert)})


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP-date; None if
    absent or unreadable (the runner's own backoff then applies)."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is in GMT; `-0000` parses without a zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def status_reason(status: int, phrase: str, text: str) -> str:
    text = one_line(text[:REASON_BODY]).strip()
    reason = f"HTTP {status} {phrase}".rstrip()
    return f"{reason}: {text}" if text else reason


def retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


class WebhookOutput:
    def __init__(self, name: str, options: Options) -> None:
        self.name = name
        self.options = options
        self._client: Client | None = None
        # What a send cut off by the runner's timeout had settled: the runner retries
        # the same batch, and starting it over could time out again, forever.
        self._through: Alert | None = None
        # Alerts given up on but not yet reported (see _settle).
        self._owed = 0
        self._owed_reason = ""

    @classmethod
    def from_spec(cls, spec: OutputSpec) -> WebhookOutput:
        return cls(spec.name, parse_options(spec.options))

    def body(self, alert: Alert) -> bytes:
        return alert.json if self.options.json_format else text_body(alert)

    def signed(self, body: bytes) -> tuple[tuple[str, str], ...]:
        """The headers of this body's own: its signature, with `secret=`."""
        if self.options.secret is None:
            return ()
        return ((SIGNATURE_HEADER, signature(self.options.secret, body)),)

    async def send(self, batch: Sequence[Alert]) -> Outcome:
        start = self._resume(batch)
        for index in range(start, len(batch)):
            alert = batch[index]
            outcome = await self._post(alert)
            if outcome.result is Result.RETRY:
                self._through = None
                return Outcome.retry(outcome.reason, index, outcome.retry_after)
            if outcome.result is Result.GIVE_UP:
                self._owed += 1
                self._owed_reason = f"{outcome.reason} (alert {alert.alert_id})"
            self._through = alert
        self._through = None
        return self._settle(len(batch))

    def _resume(self, batch: Sequence[Alert]) -> int:
        through, self._through = self._through, None
        for index, alert in enumerate(batch):
            if alert is through:
                return index + 1
        return 0

    def _settle(self, count: int) -> Outcome:
        """All `count` alerts were answered. The runner's give-up covers the end of a
        batch, so the alerts refused along the way are reported as its last ones: the
        counts come out right, and the others of the batch are not lost with them."""
        owed = min(self._owed, count)
        if not owed:
            return Outcome.delivered(count)
        self._owed -= owed
        return Outcome.give_up(self._owed_reason, sent=count - owed)

    async def _post(self, alert: Alert) -> Outcome:
        """How sending this one alert went."""
        options = self.options
        body = self.body(alert)
        try:
            response = await self._connect().post(body, self.signed(body))
        except HttpError as exc:
            return Outcome.retry(f"{options.where}: {options.scrub(str(exc))}")
        status = response.status
        if 200 <= status <= 299:
            return Outcome.delivered(1)
        # Scrubbed whole: cut first, a secret could be left half there.
        said = options.scrub(response.body.decode("utf-8", "replace"))
        reason = f"{options.where}: {status_reason(status, response.reason, said)}"
        if retryable(status):
            return Outcome.retry(reason, retry_after=retry_after(response.header("Retry-After")))
        if 300 <= status <= 399:
            reason += " (redirects are not followed: give the final url=)"
        return Outcome.give_up(reason)

    def _connect(self) -> Client:
        # One client for the output's life: it keeps the connection between sends.
        if self._client is None:
            options = self.options
            self._client = Client(
                options.url,
                options.ssl_context,
                (
                    ("User-Agent", USER_AGENT),
                    ("Content-Type", "application/json"),
                    *options.headers,
                ),
                READ_LIMIT,
            )
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
