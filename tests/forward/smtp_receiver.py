"""A real mail server for the e-mail tests: aiosmtpd on a thread, on a free loopback
port, keeping every mail it accepts (envelope, bytes, whether the session was
encrypted and who logged in) in order, and answering MAIL, RCPT and DATA as the test
tells it. It can offer STARTTLS or speak TLS from the start, and require a login.
Closing it refuses connections until a new one is started on the same port."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Self, TypeVar, cast

import orjson
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.server import wait_for

# (command, argument) -> a reply such as "451 4.3.0 later", or None to accept.
Answer = Callable[[str, str], str | None]
T = TypeVar("T")


def accept(_command: str, _argument: str) -> str | None:
    return None


def _at_least(count: int, get: Callable[[], list[T]], timeout: float, what: str) -> list[T]:
    found: list[T] = wait_for(lambda: got if len(got := get()) >= count else None, timeout, what)
    return found


@dataclass(frozen=True, slots=True)
class Mail:
    sender: str
    recipients: tuple[str, ...]
    content: bytes
    tls: bool  # the session was encrypted (STARTTLS or TLS from the start)
    login: str | None  # the user it logged in as
    at: float  # time.monotonic() when it was accepted

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.content)

    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return cast(str, part.get_content()).replace("\r\n", "\n")

    def records(self) -> list[dict[str, Any]]:
        """The records of the attached alerts.json."""
        attached = [
            part
            for part in self.message.iter_attachments()
            if part.get_content_type() == "application/json"
        ]
        assert len(attached) == 1, self.content[:500]
        found: list[dict[str, Any]] = orjson.loads(attached[0].get_content())
        return found

    def ids(self) -> list[int]:
        return [record["kismet.alert.hash"] for record in self.records()]


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.receiver._answer("MAIL", address)
        if reply is None:
            envelope.mail_from = address
            envelope.mail_options.extend(options)
        return reply or "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.receiver._answer("RCPT", address)
        if reply is None:
            envelope.rcpt_tos.append(address)
        return reply or "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.receiver._answer("DATA", "")
        if reply is not None:
            return reply
        assert server.transport is not None and envelope.mail_from is not None
        content = envelope.original_content or b""
        tls = server.transport.get_extra_info("sslcontext") is not None
        login = session.auth_data if session.authenticated else None
        recipients = tuple(envelope.rcpt_tos)
        self.receiver._got(
            Mail(envelope.mail_from, recipients, content, tls, login, time.monotonic())
        )
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Bound to port 0: the port the system chose, before the first connection.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpReceiver:
    """`answer(command, argument)` decides each MAIL, RCPT and DATA; it may be swapped
    at any time. `tls=(cert, key)` offers STARTTLS (required with `require_tls`), or
    with `implicit_tls` speaks TLS from the start; `users` requires a login after
    STARTTLS, or, with `login_in_clear`, offers one without."""

    def __init__(
        self,
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
        implicit_tls: bool = False,
        require_tls: bool = False,
        users: dict[str, str] | None = None,
        login_in_clear: bool = False,
    ) -> None:
        self.answer: Answer = accept
        self._refusals: list[tuple[str, str, str]] = []
        self.logins: list[tuple[str, bool]] = []  # (user, accepted), as tried
        self._mails: list[Mail] = []
        self._lock = threading.Lock()
        self._users = users
        self._closed = False
        context = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
        extra: dict[str, Any] = {}
        if users is not None:
            extra.update(
                authenticator=self._authenticate,
                # Offered in the clear, a login cannot also be required (aiosmtpd warns).
                auth_required=not login_in_clear,
                auth_require_tls=not login_in_clear,
            )
        self._controller = _Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=port,
            server_hostname="mail.test",
            ssl_context=context if implicit_tls else None,
            tls_context=None if implicit_tls else context,
            require_starttls=require_tls,
            **extra,
        )
        self._controller.start()
        self.port: int = self._controller.port
        self.url = f"{'smtps' if implicit_tls else 'smtp'}://127.0.0.1:{self.port}"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword) and self._users is not None
        user, password = data.login.decode(), data.password.decode()
        accepted = self._users.get(user) == password
        with self._lock:
            self.logins.append((user, accepted))
        # handled=False: aiosmtpd answers a refusal (535) itself.
        return AuthResult(success=accepted, handled=False, auth_data=user if accepted else None)

    def _answer(self, command: str, argument: str) -> str | None:
        reply = self.answer(command, argument)
        if reply is not None:
            with self._lock:
                self._refusals.append((command, argument, reply))
        return reply

    def _got(self, mail: Mail) -> None:
        with self._lock:
            self._mails.append(mail)

    def mails(self) -> list[Mail]:
        with self._lock:
            return list(self._mails)

    def ids(self) -> list[int]:
        """The alerts of every mail, each once, in the order they were first taken."""
        seen: dict[int, None] = {}
        for mail in self.mails():
            for alert_id in mail.ids():
                seen.setdefault(alert_id, None)
        return list(seen)

    def wait_for_ids(self, count: int, timeout: float = 20.0) -> list[int]:
        return _at_least(count, self.ids, timeout, f"{count} alerts mailed")

    def refusals(self) -> list[tuple[str, str, str]]:
        """(command, argument, reply) of each refusal `answer` gave, in order."""
        with self._lock:
            return list(self._refusals)

    def wait_for_refusals(self, count: int, timeout: float = 20.0) -> list[tuple[str, str, str]]:
        return _at_least(count, self.refusals, timeout, f"{count} refusals")

    def close(self) -> None:
        if not self._closed:  # once: a test may close it before its `with` ends
            self._closed = True
            self._controller.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
