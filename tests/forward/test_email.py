"""type=email: the options and their one-line errors, the kind's defaults, the message
(headers, a block per alert, the records attached), that nothing from an alert can
add a header, and how a real mail server's answers become outcomes: STARTTLS, TLS,
logins, 4xx and 5xx replies, refused recipients and a server that is not there."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import cast

import orjson
import pytest

from kisalert.alert import Alert
from kisalert.forward.base import Outcome, Result, SpecError
from kisalert.forward.email import EmailOutput, alert_block, compose, records
from kisalert.forward.email_options import parse_options
from kisalert.forward.spec import parse_spec, settings
from tests.certs import self_signed
from tests.forward.alerts import make_alert
from tests.forward.smtp_receiver import SmtpReceiver
from tests.server import free_port

FROM = "kisalert@example.net"
TO = "soc@example.net"
LINE = f"forward=m:type=email,smtp=smtp://127.0.0.1:2525,from={FROM},to={TO}"
NOW = datetime(2026, 12, 7, 14, 20, tzinfo=UTC)
PASSWORD = "pw, with a comma"
HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-Mailer"} | {
    "MIME-Version",
    "Content-Type",
}


def output(url: str, hostname: str = "sensor1", **options: str) -> EmailOutput:
    values = {"smtp": url, "from": FROM, "to": TO, **options}
    return EmailOutput("m", parse_options(values), hostname)


def send(mail: EmailOutput, batch: Sequence[Alert]) -> Outcome:
    async def run() -> Outcome:
        try:
            return await mail.send(batch)
        finally:
            await mail.close()
            # A TLS handshake that failed (an untrusted certificate) leaves asyncio
            # closing the socket on a later turn of the loop: this loop ends here, and
            # under load it could end first (an "unclosed transport" warning). A
            # socket nobody closes would still be reported.
            await asyncio.sleep(0.05)

    return asyncio.run(run())


def parsed(mail: EmailOutput, batch: Sequence[Alert]) -> EmailMessage:
    data = compose(mail.name, mail.options, batch, mail.hostname, NOW)
    return BytesParser(policy=policy.default).parsebytes(data)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return cast(str, part.get_content()).replace("\r\n", "\n")


# The options


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ("smtp=http://h", "smtp='http://h' must be smtp://HOST:PORT or smtps://HOST:PORT"),
        ("smtp=smtp://h:0", "smtp='smtp://h:0' has port 0: use a port from 1 to 65535"),
        ("smtp=smtp://h:x", "smtp='smtp://h:x' has a port that is not a number"),
        ("smtp=smtp://h/path", "smtp='smtp://h/path': use smtp://HOST:PORT"),
        ("smtp=smtp://h?x=1", "smtp='smtp://h?x=1': use smtp://HOST:PORT"),
        ("starttls=maybe", "starttls needs true, false or auto, not 'maybe'"),
        (
            "smtp=smtps://h,starttls=true",
            "starttls= is for smtp://; smtps:// is TLS from the start",
        ),
        ("password=x", "password= needs username="),
        (
            "username=u,password=x,starttls=false",
            "username= needs an encrypted connection: smtps://, or starttls=true",
        ),
        ("starttls=false,tls_ca=/x.pem", "tls_ca and tls_verify need smtps:// or STARTTLS"),
        ("tls_verify=perhaps", "tls_verify needs true or false, not 'perhaps'"),
        ("from=nobody", "from='nobody' is not an address such as alerts@example.net"),
        (
            "from=Sensor <a b@c>",
            "from='Sensor <a b@c>' is not an address such as alerts@example.net",
        ),
        ("to=a@b.c|A <A@b.c>", "to= names A@b.c twice"),
        ("to=|", "to= needs one or more addresses separated by '|'"),
        ("to=a@b.c|x@", "to='x@' is not an address such as alerts@example.net"),
        ("to=" + "|".join(f"u{n}@b.c" for n in range(101)), "to= may name at most 100 addresses"),
        (
            "subject={nope}",
            "subject='{nope}': unknown placeholder {nope}; "
            "use {count}, {severity}, {header}, {hostname}",
        ),
        ("subject=a}b", "subject='a}b': a '{' or '}' outside a placeholder"),
        ("subject=", "subject= needs 1 to 256 characters"),
        ("subject=" + "x" * 257, "subject= needs 1 to 256 characters"),
        ("subject=a\tb", "subject='a\\tb' holds a control character"),
        ("window=-1", "window=-1 is out of range (0 to 86400)"),
        ("colour=red", "unknown option 'colour' for type=email"),
    ],
)
def test_bad_options_say_why_in_one_line(options: str, says: str) -> None:
    values = {"smtp": "smtp://h", "from": FROM, "to": TO}
    for pair in options.split(","):
        key, _, value = pair.partition("=")
        values[key] = value
    line = "m:type=email," + ",".join(f'{key}="{value}"' for key, value in values.items())
    with pytest.raises(SpecError) as caught:
        parse_spec(line)
    assert str(caught.value) == f"forward=m: {says}"


@pytest.mark.parametrize("missing", ["smtp", "from", "to"])
def test_the_server_and_both_addresses_are_required(missing: str) -> None:
    line = ",".join(part for part in LINE.split(",") if not part.startswith(f"{missing}="))
    with pytest.raises(SpecError, match=f"^forward=m: type=email needs {missing}=$"):
        parse_spec(line.removeprefix("forward="))


def test_credentials_in_the_url_are_refused_without_repeating_them() -> None:
    line = LINE.replace("smtp://127.0.0.1", "smtp://me:hunter22@127.0.0.1")
    with pytest.raises(SpecError) as caught:
        parse_spec(line.removeprefix("forward="))
    assert str(caught.value) == (
        "forward=m: give the mail server's credentials as username= and password="
    )


def test_ports_tls_and_starttls_by_default() -> None:
    plain = parse_options({"smtp": "smtp://mail.example.net", "from": FROM, "to": TO})
    assert (str(plain.server), plain.starttls) == ("smtp://mail.example.net:25", True)
    assert plain.ssl_context is not None  # STARTTLS is verified like any TLS
    tls = parse_options({"smtp": "smtps://mail.example.net", "from": FROM, "to": TO})
    assert (str(tls.server), tls.starttls, tls.ssl_context is not None) == (
        "smtps://mail.example.net:465",
        False,
        True,
    )
    auto = parse_options({"smtp": "smtp://h:587", "from": FROM, "to": TO, "starttls": "AUTO"})
    assert auto.starttls is None
    off = parse_options({"smtp": "smtp://h", "from": FROM, "to": TO, "starttls": "false"})
    assert (off.starttls, off.ssl_context) == (False, None)


def test_email_is_for_high_severities_one_mail_a_minute_unless_the_line_says() -> None:
    mail = settings(parse_spec(LINE.removeprefix("forward=")))
    assert (mail.filter.min_severity, mail.window) == (15, 60.0)
    mine = settings(parse_spec(LINE.removeprefix("forward=") + ",min_severity=INFO,window=0.5"))
    assert (mine.filter.min_severity, mine.window) == (0, 0.5)
    syslog = settings(parse_spec("s:type=syslog,target=udp://127.0.0.1:514"))
    assert (syslog.filter.min_severity, syslog.window) == (0, 0.0)


# The message


def sample_batch() -> list[Alert]:
    return [
        make_alert(0, header="ROGUEAP", severity=15, channel="6", transmitter="00:11:22:33:44:55"),
        make_alert(1, header="DEAUTHFLOOD", severity=20, klass="DENIAL", text="deauth storm"),
        make_alert(2, header="ROGUEAP", severity=15, source="66:77:88:99:aa:bb"),
    ]


def test_one_message_with_headers_a_block_per_alert_and_the_records_attached() -> None:
    mail = output(
        "smtp://127.0.0.1:25",
        starttls="false",
        to="soc@example.net|Night Shift <oncall@example.net>",
        **{"from": "Sensor 1 <kisalert@example.net>"},
    )
    batch = sample_batch()
    message = parsed(mail, batch)
    assert message["From"] == "Sensor 1 <kisalert@example.net>"
    assert message["To"] == "soc@example.net, Night Shift <oncall@example.net>"
    assert message["Subject"] == "[kisalert sensor1] CRITICAL: ROGUEAP, DEAUTHFLOOD (3)"
    assert message["Date"] == "Mon, 07 Dec 2026 14:20:00 +0000"
    assert message["Auto-Submitted"] == "auto-generated"
    assert str(message["Message-ID"]).endswith("@example.net>")
    text = body_of(message)
    assert text.startswith("3 alerts from kisalert on sensor1, in the order raised")
    assert text.index("ROGUEAP\n") < text.index("DEAUTHFLOOD") < text.index("3. ")
    assert alert_block(1, batch[0]) in text
    assert alert_block(1, batch[0]) == (
        "1. 2025-11-29T12:40:00.000000Z HIGH ROGUEAP\n"
        "   text:        corp from 00:11:22:33:44:55\n"
        "   class:       SPOOF\n"
        "   phy:         IEEE802.11\n"
        "   channel:     6\n"
        "   transmitter: 00:11:22:33:44:55\n"
        "   id:          1000"
    )
    assert "   source:      66:77:88:99:aa:bb\n   id:          1002" in text
    (attached,) = message.iter_attachments()
    assert attached.get_content_type() == "application/json"
    assert attached.get_filename() == "alerts.json"
    assert attached.get_content() == records(batch)
    assert orjson.loads(attached.get_content()) == [orjson.loads(a.json) for a in batch]


def test_the_same_batch_keeps_its_message_id_and_another_gets_its_own() -> None:
    mail = output("smtp://127.0.0.1:25", starttls="false")
    batch = sample_batch()
    first, again = parsed(mail, batch), parsed(mail, list(batch))
    assert first["Message-ID"] == again["Message-ID"]
    assert parsed(mail, batch[:2])["Message-ID"] != first["Message-ID"]
    other = EmailOutput("other", mail.options, "sensor1")
    assert parsed(other, batch)["Message-ID"] != first["Message-ID"]


def test_the_subject_template_names_at_most_three_headers() -> None:
    mail = output("smtp://h", subject="{count} on {hostname}: {header} (up to {severity})")
    batch = [make_alert(n, header=f"H{n % 5}", severity=5 * (n % 3)) for n in range(7)]
    assert parsed(mail, batch)["Subject"] == "7 on sensor1: H0, H1, H2 and 2 more (up to MEDIUM)"


def test_nothing_an_alert_says_can_add_a_header_or_a_fake_alert() -> None:
    mail = output("smtp://h", hostname="sensor\r\nBcc: evil@example.org")
    evil = make_alert(
        0,
        header="ROGUE\r\nBcc: evil@example.org",
        klass="SPOOF\nX-Injected: 1",
        text="ssid\r\n\r\n2. 2026-01-01T00:00:00.000000Z CRITICAL FAKE\r\nBcc: evil@example.org",
    )
    message = parsed(mail, [evil])
    assert set(message.keys()) == HEADERS
    assert message["Subject"] == (
        "[kisalert sensor  Bcc: evil@example.org] HIGH: ROGUE  Bcc: evil@example.org (1)"
    )
    text = body_of(message)
    assert "\n2. " not in text and "\nBcc" not in text and "\nX-Injected" not in text
    assert "ssid    2. 2026-01-01T00:00:00.000000Z CRITICAL FAKE  Bcc: evil@example.org" in text
    # The record keeps the text as raised.
    assert orjson.loads(records([evil]))[0]["kismet.alert.text"].startswith("ssid\r\n")


def test_text_that_is_not_ascii_arrives_intact() -> None:
    mail = output("smtp://h")
    alert = make_alert(0, text="Café's Wi-Fi — ünïcode ✓")
    message = parsed(mail, [alert])
    assert "Café's Wi-Fi — ünïcode ✓" in body_of(message)
    part = message.get_body(("plain",))
    assert part is not None and part["Content-Transfer-Encoding"] == "quoted-printable"


def test_long_lines_go_quoted_printable_short_ascii_as_it_is_and_no_text_ends_a_part() -> None:
    mail = output("smtp://h")
    short = make_alert(0, text="corp")
    assert b"Content-Transfer-Encoding: 7bit" in compose(mail.name, mail.options, [short],
                                                         mail.hostname, NOW)  # fmt: skip
    # A long line, and text that reads like the end of the part and of the mail.
    tricky = "x" * 300 + "\n--=_k0\n--=_k0--\n." + "=" * 90
    batch = [make_alert(1, text=tricky), make_alert(2, text="after")]
    data = compose(mail.name, mail.options, batch, mail.hostname, NOW)
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only, as SMTP has it
    message = parsed(mail, batch)
    part = message.get_body(("plain",))
    assert part is not None and part["Content-Transfer-Encoding"] == "quoted-printable"
    text = body_of(message)
    assert "x" * 300 + " --=_k0 --=_k0-- ." + "=" * 90 in text
    assert "2. " in text and "after" in text
    (attached,) = message.iter_attachments()
    assert attached.get_content() == records(batch)


# Sending to a real server


def test_starttls_and_a_login_deliver_the_mail(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    users = {"kisalert": PASSWORD}
    with SmtpReceiver(tls=(cert, key), require_tls=True, users=users) as server:
        mail = output(server.url, tls_ca=str(cert), username="kisalert", password=PASSWORD)
        batch = sample_batch()
        assert send(mail, batch) == Outcome.delivered(3)
        (got,) = server.mails()
    assert (got.sender, got.recipients, got.tls, got.login) == (FROM, (TO,), True, "kisalert")
    assert got.ids() == [1000, 1001, 1002]


def test_a_refused_login_is_retried_without_showing_the_password(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with SmtpReceiver(tls=(cert, key), require_tls=True, users={"kisalert": "right"}) as server:
        mail = output(server.url, tls_ca=str(cert), username="kisalert", password=PASSWORD)
        outcome = send(mail, [make_alert(0)])
        assert server.logins and not server.logins[-1][1]
        assert server.mails() == []
    assert outcome.result is Result.RETRY
    assert outcome.reason == (
        f"smtp://127.0.0.1:{server.port}: the server refused the credentials of 'kisalert': "
        "535 5.7.8 Authentication credentials invalid"
    )


def test_tls_from_the_start(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with SmtpReceiver(tls=(cert, key), implicit_tls=True) as server:
        assert server.url.startswith("smtps://")
        assert (
            send(output(server.url, tls_ca=str(cert)), [make_alert(0)]).result is Result.DELIVERED
        )
        assert send(output(server.url, tls_verify="false"), [make_alert(1)]).result is (
            Result.DELIVERED
        )
        untrusted = send(output(server.url), [make_alert(2)])
        assert [mail.tls for mail in server.mails()] == [True, True]
    assert untrusted.result is Result.RETRY
    assert "certificate verify failed" in untrusted.reason


def test_an_untrusted_starttls_certificate_is_retried_not_sent_in_the_clear(
    tmp_path: Path,
) -> None:
    cert, key = self_signed(tmp_path)
    with SmtpReceiver(tls=(cert, key)) as server:
        for starttls in ("true", "auto"):
            outcome = send(output(server.url, starttls=starttls), [make_alert(0)])
            assert outcome.result is Result.RETRY
            assert "certificate verify failed" in outcome.reason
        assert server.mails() == []


def test_starttls_is_required_unless_the_line_says_auto_or_false() -> None:
    with SmtpReceiver() as server:  # offers no STARTTLS
        required = send(output(server.url), [make_alert(0)])
        assert server.mails() == []
        for starttls in ("auto", "false"):
            assert send(output(server.url, starttls=starttls), [make_alert(1)]).result is (
                Result.DELIVERED
            )
        assert [mail.tls for mail in server.mails()] == [False, False]
    assert required.result is Result.RETRY
    assert required.reason == (
        f"smtp://127.0.0.1:{server.port}: the server does not offer STARTTLS (starttls=true)"
    )


def test_credentials_are_never_sent_unencrypted() -> None:
    # A server that would take a login in the clear, and offers no STARTTLS.
    with SmtpReceiver(users={"kisalert": PASSWORD}, login_in_clear=True) as server:
        mail = output(server.url, starttls="auto", username="kisalert", password=PASSWORD)
        outcome = send(mail, [make_alert(0)])
        assert server.logins == []
    assert outcome.result is Result.RETRY
    assert outcome.reason.endswith(
        "the server does not offer STARTTLS, and the credentials of 'kisalert' "
        "are never sent unencrypted"
    )


@pytest.mark.parametrize(
    ("command", "reply", "result"),
    [
        ("MAIL", "451 4.3.0 Try again later", Result.RETRY),
        ("MAIL", "553 5.7.1 Sender not allowed", Result.GIVE_UP),
        ("RCPT", "452 4.2.2 Mailbox full", Result.RETRY),
        ("RCPT", "550 5.1.1 No such user", Result.GIVE_UP),
        ("DATA", "451 4.3.0 Queue full", Result.RETRY),
        ("DATA", "554 5.7.1 Message rejected", Result.GIVE_UP),
    ],
)
def test_4xx_is_retried_and_5xx_gives_the_mail_up(command: str, reply: str, result: Result) -> None:
    with SmtpReceiver() as server:
        server.answer = lambda said, _argument: reply if said == command else None
        outcome = send(output(server.url, starttls="false"), [make_alert(0), make_alert(1)])
        assert server.mails() == []
    assert outcome.result is result
    assert outcome.sent == 0
    where = {"MAIL": f"MAIL FROM:<{FROM}>", "RCPT": f"RCPT TO:<{TO}>", "DATA": "DATA"}
    assert outcome.reason == f"smtp://127.0.0.1:{server.port}: {reply} ({where[command]})"


def test_one_refused_recipient_refuses_the_mail_for_all() -> None:
    def answer(command: str, argument: str) -> str | None:
        if command == "RCPT" and argument == "typo@example.net":
            return "550 5.1.1 No such user"
        if command == "RCPT" and argument == "full@example.net":
            return "452 4.2.2 Mailbox full"
        return None

    with SmtpReceiver() as server:
        server.answer = answer
        everyone = "soc@example.net|full@example.net|typo@example.net"
        outcome = send(output(server.url, starttls="false", to=everyone), [make_alert(0)])
        temporary = send(
            output(server.url, starttls="false", to="soc@example.net|full@example.net"),
            [make_alert(0)],
        )
        assert server.mails() == []
    assert outcome.result is Result.GIVE_UP  # the permanent refusal decides
    assert outcome.reason == (
        f"smtp://127.0.0.1:{server.port}: 452 4.2.2 Mailbox full (RCPT TO:<full@example.net>); "
        "550 5.1.1 No such user (RCPT TO:<typo@example.net>)"
    )
    assert temporary.result is Result.RETRY


def test_no_server_is_a_retry_saying_why() -> None:
    port = free_port()
    outcome = send(output(f"smtp://127.0.0.1:{port}", starttls="false"), [make_alert(0)])
    assert outcome == Outcome.retry(f"smtp://127.0.0.1:{port}: Connection refused")
