"""`type=email`: a batch of alerts as one mail, over SMTP.

The runner gathers the batch (its `window=`, 60 s for this kind); this output writes
it as one message, a plain-text block per alert in raise order and their records,
as all_alerts.json gives them, attached as a JSON array, and hands it to the mail
server on a connection of its own: STARTTLS or TLS as configured, then the login.

A mail is delivered once the server has accepted it (250 after DATA). A failure of
the session (no connection, TLS, a refused login: nothing the message is to blame
for) is retried. In the transaction (MAIL, RCPT, DATA), 4xx is retried and 5xx gives
the mail up; a refused recipient refuses the mail for every recipient, so that a
mistyped address is seen rather than half the mail going out.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import hashlib
import os
import secrets
import socket
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from kisalert import __version__
from kisalert.alert import Alert
from kisalert.forward.base import Outcome, OutputSpec
from kisalert.forward.email_options import Mailbox, Options, one_line, parse_options
from kisalert.forward.syslog import timestamp
from kisalert.mac import ZERO_MAC
from kisalert.phy import phy_from_u32, phy_log_name
from kisalert.severity import SEVERITY_NAMES

# 7bit: text that is not plain ASCII goes quoted-printable, which every server
# takes, 8BITMIME or not. CRLF line ends, as SMTP has them.
POLICY = policy.SMTP.clone(cte_type="7bit")
LINE_LIMIT = 78  # the policy's max_line_length: longer lines are quoted-printable
ATTACHMENT = "alerts.json"
QUIT_SECONDS = 2.0  # the mail is settled by then: a server slow to say goodbye is left
MACS = ("transmitter", "source", "dest", "other")


def _address(mailbox: Mailbox) -> Address:
    username, _, domain = mailbox.address.rpartition("@")
    return Address(mailbox.name, username, domain)


def alert_block(number: int, alert: Alert) -> str:
    """One alert of the body: the fields a reader looks for, one a line. The text is
    one line: text from the air (an SSID) cannot make lines that pass for an alert."""
    record = alert.record
    severity = record["kismet.alert.severity"]
    fields = [
        ("text", one_line(record["kismet.alert.text"])),
        ("class", one_line(record["kismet.alert.class"])),
        ("phy", phy_log_name(phy_from_u32(record["kismet.alert.phy_id"]))),
    ]
    if record["kismet.alert.channel"]:
        fields.append(("channel", one_line(record["kismet.alert.channel"])))
    for name in MACS:
        mac = record[f"kismet.alert.{name}_mac"]
        if mac != ZERO_MAC:
            fields.append((name, mac))
    fields.append(("id", str(alert.alert_id)))
    head = (
        f"{number}. {timestamp(alert.timestamp_us)} "
        f"{SEVERITY_NAMES.get(severity, str(severity))} {one_line(alert.header)}"
    )
    return "\n".join([head, *(f"   {name + ':':<13}{value}" for name, value in fields)])


def body(batch: Sequence[Alert], hostname: str) -> str:
    count = f"{len(batch)} alert" + ("" if len(batch) == 1 else "s")
    intro = (
        f"{count} from kisalert on {hostname}, in the order raised (times in UTC).\n"
        f"Their records, as /alerts/all_alerts.json gives them, are in {ATTACHMENT}."
    )
    blocks = [alert_block(n, alert) for n, alert in enumerate(batch, 1)]
    return "\n\n".join([intro, *blocks]) + "\n"


def records(batch: Sequence[Alert]) -> bytes:
    """The records as one JSON array, each exactly the bytes the API gives."""
    return b"[" + b",".join(alert.json for alert in batch) + b"]"


def message_id(name: str, batch: Sequence[Alert], domain: str) -> str:
    """The same for the same batch: a mail sent again, its acceptance having been lost,
    carries the Message-ID of the first, which lets a mailbox drop the copy."""
    first, last = batch[0], batch[-1]
    seed = f"{name}\n{first.timestamp_us}\n{first.alert_id}\n{last.alert_id}\n{len(batch)}"
    return f"<kisalert.{hashlib.sha256(seed.encode()).hexdigest()[:32]}@{domain}>"


def compose(
    name: str, options: Options, batch: Sequence[Alert], hostname: str, now: datetime
) -> bytes:
    """The mail, with CRLF line ends: the headers written by the standard library
    (addresses and non-ASCII words encoded as RFC 5322 and 2047 want them), the body's
    two parts by hand. The library's generator walks a thousand alerts' text and
    records line by line in Python (~30 µs an alert); this writes them in C."""
    head = EmailMessage(policy=POLICY)
    head["From"] = _address(options.sender)
    head["To"] = [_address(mailbox) for mailbox in options.recipients]
    head["Subject"] = options.subject.render(batch, hostname)
    head["Date"] = format_datetime(now)
    head["Message-ID"] = message_id(name, batch, options.sender.domain)
    # RFC 3834: no vacation or out-of-office replies to the sensor.
    head["Auto-Submitted"] = "auto-generated"
    head["X-Mailer"] = f"kisalert/{__version__}"
    headers = head.as_bytes()[:-2]  # each header ends CRLF; then a blank line, dropped
    # Unguessable, and never in quoted-printable text (which writes "=" as "=3D").
    boundary = f"=_k{secrets.token_hex(12)}".encode()
    return b"".join(
        [
            headers,
            b"MIME-Version: 1.0\r\n",
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n',
            b"\r\n--" + boundary + b"\r\n",
            _text_part(body(batch, hostname)),
            b"\r\n--" + boundary + b"\r\n",
            b"Content-Type: application/json\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b'Content-Disposition: attachment; filename="' + ATTACHMENT.encode() + b'"\r\n',
            b"\r\n",
            _base64_lines(records(batch)),
            b"\r\n--" + boundary + b"--\r\n",
        ]
    )


def _base64_lines(data: bytes) -> bytes:
    """Base64 in lines of 76 characters, as MIME has it (base64.encodebytes calls the
    codec once a line, ~16 ms for a thousand records; this once)."""
    encoded = binascii.b2a_base64(data, newline=False)
    return b"\r\n".join([encoded[at : at + 76] for at in range(0, len(encoded), 76)])


def _text_part(text: str) -> bytes:
    """A text/plain part: 7bit when the text is ASCII in lines of at most 78
    characters, quoted-printable (which every server takes, 8BITMIME or not) when not,
    as the standard library chooses for a 7bit policy."""
    if text.isascii() and max(map(len, text.splitlines()), default=0) <= LINE_LIMIT:
        encoding, data = b"7bit", text.encode("ascii")
    else:
        encoding = b"quoted-printable"
        data = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    return (
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: "
        + encoding
        + b"\r\n\r\n"
        + data.replace(b"\n", b"\r\n").rstrip(b"\r\n")
    )


def _error_text(exc: BaseException) -> str:
    """The cause, as the system words it (`Connection refused`), rather than the
    library's (`Error connecting to HOST on port 25: [Errno 111] Connect call failed`)."""
    cause = exc.__cause__ if isinstance(exc, aiosmtplib.SMTPConnectError) else None
    cause = cause or exc
    if isinstance(cause, socket.gaierror) and cause.strerror:
        return cause.strerror
    if (
        isinstance(cause, OSError)
        and not isinstance(cause, ssl.SSLError)  # its errno is OpenSSL's
        and isinstance(cause.errno, int)
        and cause.errno > 0
    ):
        return os.strerror(cause.errno)
    return str(cause) or type(cause).__name__


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


def _transaction_outcome(reason: str, code: int) -> Outcome:
    # 5xx: this mail would be refused again. Anything else (4xx, a reply no server
    # should give) may pass another time.
    return Outcome.give_up(reason) if 500 <= code <= 599 else Outcome.retry(reason)


class EmailOutput:
    def __init__(self, name: str, options: Options, hostname: str | None = None) -> None:
        self.name = name
        self.options = options
        self.hostname = one_line(hostname or socket.gethostname())
        self._ehlo_name: str | None = None  # found once, off the event loop
        self._client: aiosmtplib.SMTP | None = None

    @classmethod
    def from_spec(cls, spec: OutputSpec) -> EmailOutput:
        return cls(spec.name, parse_options(spec.options))

    def compose(self, batch: Sequence[Alert]) -> bytes:
        return compose(self.name, self.options, batch, self.hostname, datetime.now(UTC))

    async def send(self, batch: Sequence[Alert]) -> Outcome:
        # Off the event loop: a mail of a thousand alerts takes ~10 ms to write.
        data = await asyncio.to_thread(self.compose, batch)
        options = self.options
        # A connection per mail: a mail goes out at most once a window, and one kept
        # open between them would mostly idle (and be dropped by the server).
        client = self._client = aiosmtplib.SMTP(
            hostname=options.server.host,
            port=options.server.port,
            use_tls=options.server.scheme == "smtps",
            start_tls=False,  # done below, to say why when it cannot be
            tls_context=options.ssl_context,
            local_hostname=self._ehlo_name,
            timeout=None,  # the runner's timeout= bounds every send
        )
        try:
            refused = await self._session(client)
            if refused:
                outcome = Outcome.retry(f"{options.server}: {options.scrub(refused)}")
            else:
                outcome = await self._transaction(client, data, len(batch))
            # Refused or not, the server is still talking: say goodbye (a mail it has
            # accepted stays accepted whatever it answers).
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit(timeout=QUIT_SECONDS)
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome.retry(f"{options.server}: {options.scrub(_reply(exc))}")
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome.retry(f"{options.server}: {options.scrub(_error_text(exc))}")
        finally:
            await self.close()
        return outcome

    async def _session(self, client: aiosmtplib.SMTP) -> str:
        """Connect, secure and log in; a reason if the server would not let us."""
        options = self.options
        await client.connect()
        self._ehlo_name = client.local_hostname
        if options.server.scheme == "smtp" and options.starttls is not False:
            await client.ehlo()
            if client.supports_extension("starttls"):
                await client.starttls()
            elif options.starttls:
                return "the server does not offer STARTTLS (starttls=true)"
        if options.username is None:
            return ""
        if client.get_transport_info("sslcontext") is None:
            return (
                "the server does not offer STARTTLS, and the credentials of "
                f"{options.username!r} are never sent unencrypted"
            )
        try:
            await client.login(options.username, options.password or "")
        except aiosmtplib.SMTPAuthenticationError as exc:
            return f"the server refused the credentials of {options.username!r}: {_reply(exc)}"
        return ""

    async def _transaction(self, client: aiosmtplib.SMTP, data: bytes, count: int) -> Outcome:
        options = self.options
        where = str(options.server)
        try:
            await client.mail(options.sender.address)
        except aiosmtplib.SMTPResponseException as exc:
            reason = f"{_reply(exc)} (MAIL FROM:<{options.sender.address}>)"
            return _transaction_outcome(f"{where}: {options.scrub(reason)}", exc.code)
        refused: list[aiosmtplib.SMTPRecipientRefused] = []
        for mailbox in options.recipients:
            try:
                await client.rcpt(mailbox.address)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused.append(exc)
        if refused:
            # A permanent refusal of anyone outweighs another's temporary one.
            worst = max(refused, key=lambda exc: exc.code // 100)
            reason = "; ".join(f"{_reply(exc)} (RCPT TO:<{exc.recipient}>)" for exc in refused)
            return _transaction_outcome(f"{where}: {options.scrub(reason)}", worst.code)
        try:
            await client.data(data)
        except aiosmtplib.SMTPDataError as exc:
            reason = f"{_reply(exc)} (DATA)"
            return _transaction_outcome(f"{where}: {options.scrub(reason)}", exc.code)
        return Outcome.delivered(count)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            # Abort, not close: the session is over (or given up), and a TLS close
            # would wait for the server's close_notify, leaving the socket open past
            # the loop's end when that is near (a test's, a stop's).
            abort = getattr(client.transport, "abort", None)  # uvloop's: no subclass
            if abort is not None:
                abort()
            client.close()
            await asyncio.sleep(0)  # the loop lets the socket go on its next turn
