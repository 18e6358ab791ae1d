"""The options of `type=email`: the mail server's URL and how to secure it, the login,
the addresses, and the subject template (and the sanitising of what fills it).
Checked at config time.

No message here repeats the password, and none repeats an `smtp=` value that holds
credentials: these lines end up in logs and on terminals.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kisalert.alert import Alert
from kisalert.forward import OUTPUTS
from kisalert.forward.base import SpecError
from kisalert.forward.peer import Peer, template_parts, tls_context
from kisalert.severity import SEVERITY_NAMES

OPTIONS = OUTPUTS["email"].options
REQUIRED = OUTPUTS["email"].required

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
STARTTLS = ("true", "false", "auto")
# RFC 5321 4.5.3.1.8: a server must take at least 100 recipients for one message.
MAX_RECIPIENTS = 100
DEFAULT_SUBJECT = "[kisalert {hostname}] {severity}: {header} ({count})"
PLACEHOLDERS = ("count", "severity", "header", "hostname")
TEMPLATE_MAX = 256
HEADERS_SHOWN = 3  # distinct headers named in {header}; "and N more" for the rest
VALUE_MAX = 128
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# An RFC 5321 mailbox, kept to what every server takes: a dot-atom local part (no
# quoted strings, no '|', which separates to= entries) at a host name or address.
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{}~-]+"
MAILBOX = re.compile(rf"{ATEXT}(?:\.{ATEXT})*@(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9.]+\])")
NAMED = re.compile(r"(?P<name>[^<>]*?)\s*<(?P<mailbox>[^<>]*)>")


def one_line(text: str) -> str:
    """Line breaks and other control characters as spaces: no value may start a header
    line of its own, or a line of the body that would pass for another alert's."""
    return CONTROL.sub(" ", text)


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str  # what the envelope (MAIL FROM, RCPT TO) carries
    name: str = ""  # the display name the header shows with it

    @classmethod
    def parse(cls, key: str, text: str) -> Mailbox:
        """`user@host` or `Display Name <user@host>`. Raises SpecError."""
        text = text.strip()
        named = NAMED.fullmatch(text)
        name, address = (named["name"], named["mailbox"].strip()) if named else ("", text)
        if not MAILBOX.fullmatch(address):
            raise SpecError(f"{key}={text!r} is not an address such as alerts@example.net")
        if CONTROL.search(name) or '"' in name:
            raise SpecError(f"{key}={text!r}: the name before <...> must be printable")
        return cls(address, name)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def parse_recipients(text: str) -> tuple[Mailbox, ...]:
    recipients: list[Mailbox] = []
    for entry in text.split("|"):
        if not entry.strip():
            continue
        mailbox = Mailbox.parse("to", entry)
        if any(mailbox.address.lower() == known.address.lower() for known in recipients):
            raise SpecError(f"to= names {mailbox.address} twice")
        recipients.append(mailbox)
    if not recipients:
        raise SpecError("to= needs one or more addresses separated by '|'")
    if len(recipients) > MAX_RECIPIENTS:
        raise SpecError(f"to= may name at most {MAX_RECIPIENTS} addresses")
    return tuple(recipients)


def parse_server(text: str) -> Peer:
    """`smtp://HOST[:PORT]` or `smtps://HOST[:PORT]`. Raises SpecError."""
    return Peer.parse("smtp", text, DEFAULT_PORTS, "the mail server")


@dataclass(frozen=True, slots=True)
class SubjectTemplate:
    """Literal text and placeholders, alternating: `parts[1::2]` are the names."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> SubjectTemplate:
        pieces = template_parts("subject", text, PLACEHOLDERS)
        literal = "".join(pieces[0::2])
        if not text.strip() or len(text) > TEMPLATE_MAX:
            raise SpecError(f"subject= needs 1 to {TEMPLATE_MAX} characters")
        if CONTROL.search(literal):
            raise SpecError(f"subject={text!r} holds a control character")
        return cls(tuple(pieces))

    def render(self, batch: Sequence[Alert], hostname: str) -> str:
        top = max(alert.record["kismet.alert.severity"] for alert in batch)
        headers = list(dict.fromkeys(alert.header for alert in batch))
        shown = ", ".join(headers[:HEADERS_SHOWN])
        if len(headers) > HEADERS_SHOWN:
            shown += f" and {len(headers) - HEADERS_SHOWN} more"
        values = {
            "count": str(len(batch)),
            "severity": SEVERITY_NAMES.get(top, str(top)),
            "header": shown,
            "hostname": hostname,
        }
        subject = "".join(
            one_line(values[part])[:VALUE_MAX] if n % 2 else part
            for n, part in enumerate(self.parts)
        )
        return subject.strip() or "kisalert"


@dataclass(frozen=True, slots=True)
class Options:
    server: Peer
    starttls: bool | None  # as aiosmtplib's start_tls: required, never, if offered
    sender: Mailbox
    recipients: tuple[Mailbox, ...]
    subject: SubjectTemplate
    username: str | None = None
    password: str | None = None
    ssl_context: ssl.SSLContext | None = None

    def scrub(self, text: str) -> str:
        """`text` (an error, a server's reply) as one line, without the password."""
        text = one_line(text)
        if self.password is not None and len(self.password) >= 4:
            text = text.replace(self.password, "…")
        return text


def _starttls(options: Mapping[str, str], scheme: str) -> bool | None:
    text = options.get("starttls")
    if text is None:
        return scheme == "smtp"  # required unless the connection is TLS from the start
    mode = text.strip().lower()
    if mode not in STARTTLS:
        raise SpecError(f"starttls needs true, false or auto, not {text!r}")
    if scheme == "smtps":
        raise SpecError("starttls= is for smtp://; smtps:// is TLS from the start")
    return {"true": True, "false": False, "auto": None}[mode]


def parse_options(options: Mapping[str, str]) -> Options:
    server = parse_server(options["smtp"])
    starttls = _starttls(options, server.scheme)
    username, password = options.get("username") or None, options.get("password")
    if password is not None and username is None:
        raise SpecError("password= needs username=")
    if username is not None and server.scheme == "smtp" and starttls is False:
        # Not even to a server on this machine: a login that needs no secret needs none.
        raise SpecError("username= needs an encrypted connection: smtps://, or starttls=true")
    return Options(
        server,
        starttls,
        Mailbox.parse("from", options["from"]),
        parse_recipients(options["to"]),
        SubjectTemplate.parse(options.get("subject", DEFAULT_SUBJECT)),
        username,
        password,
        tls_context(
            options,
            server.scheme == "smtps" or starttls is not False,
            "smtps:// or STARTTLS",
        ),
    )
