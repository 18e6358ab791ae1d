"""type=email on a real server, to a real mail server (aiosmtpd): the alerts of a window
arrive as one mail listing them in raise order, only the high ones by default; a 4xx
reply is retried and a 5xx gives that mail up; after the mail server was down every
alert arrives, in order; and STARTTLS with a login delivers."""

from __future__ import annotations

from pathlib import Path

from tests.certs import self_signed
from tests.forward.smtp_receiver import SmtpReceiver
from tests.forward.status import FAST_RETRY, failing, messages, settled, status
from tests.http.helpers import define_fast, raise_ok, raise_pipelined
from tests.server import BASE_CONFIG, Server, wait_for
from tests.slack import slack

FROM = "kisalert@example.net"
# Only this file's alerts: a server run as root raises ROOTUSER (HIGH) on its own.
MINE = "headers=MAILHIGH|MAILCRIT|MAILLOW"


def mail_line(url: str, *options: str, name: str = "mail") -> str:
    return f"forward={name}:type=email,smtp={url},from={FROM},{','.join(options)}\n"


def define_mine(server: Server) -> None:
    define_fast(server, "MAILHIGH", severity=15)
    define_fast(server, "MAILCRIT", severity=20)
    define_fast(server, "MAILLOW", severity=5)


def high_ids(server: Server) -> list[int]:
    """The server's MAILHIGH and MAILCRIT alerts, in raise order."""
    return [
        alert["kismet.alert.hash"]
        for alert in server.alerts()
        if alert["kismet.alert.header"] in ("MAILHIGH", "MAILCRIT")
    ]


def test_a_window_of_alerts_is_one_mail_listing_the_high_ones_in_raise_order(
    tmp_path: Path,
) -> None:
    with SmtpReceiver() as smtp:
        # No min_severity=: an e-mail output takes HIGH and CRITICAL by default.
        line = mail_line(
            smtp.url, "starttls=false", 'to="soc@example.net|Night <oncall@example.net>"', MINE,
            f"window={slack(0.5)}",
        )  # fmt: skip
        with Server(tmp_path, BASE_CONFIG + line) as server:
            define_mine(server)
            burst = ["MAILHIGH", "MAILLOW", "MAILCRIT", "MAILHIGH", "MAILLOW", "MAILHIGH"]
            raise_pipelined(
                server, [{"name": name, "text": f"burst {n}"} for n, name in enumerate(burst)]
            )
            first = high_ids(server)
            assert len(first) == 4
            settled(server, "mail", 4)
            (mail,) = smtp.mails()
            # The next window is a mail of its own.
            for n in range(2):
                raise_ok(server, "MAILHIGH", f"later {n}")
            everything = high_ids(server)
            settled(server, "mail", 6)
            mails = smtp.mails()
    assert mail.ids() == first
    assert mail.sender == FROM
    assert mail.recipients == ("soc@example.net", "oncall@example.net")
    assert mail.message["Subject"].endswith("CRITICAL: MAILHIGH, MAILCRIT (4)")
    text = mail.text()
    blocks = [text.index(f"burst {n}") for n in (0, 2, 3, 5)]
    assert blocks == sorted(blocks)
    assert "burst 1" not in text and "burst 4" not in text  # LOW: filtered out
    assert [m.ids() for m in mails] == [first, everything[4:]]


def test_4xx_is_retried_and_5xx_gives_that_mail_up(tmp_path: Path) -> None:
    with SmtpReceiver() as smtp:
        window = f"window={slack(0.3)}"  # the two refused alerts are one mail
        line = mail_line(smtp.url, "starttls=false", "to=soc@example.net", MINE, window)
        with Server(tmp_path, BASE_CONFIG + line.rstrip() + f",{FAST_RETRY}\n") as server:
            define_mine(server)
            # Busy: the mail waits, and goes once the server takes it.
            smtp.answer = lambda command, _: "451 4.3.0 Busy" if command == "DATA" else None
            raise_ok(server, "MAILHIGH", "first")
            smtp.wait_for_refusals(2)
            assert status(server)["mail"]["state"] == "failing"
            smtp.answer = lambda _command, _argument: None
            settled(server, "mail", 1)
            # Refused for good: that mail is given up, and the next one goes.
            smtp.answer = lambda command, _: "550 5.1.1 No such user" if command == "RCPT" else None
            raise_pipelined(
                server, [{"name": "MAILCRIT", "text": f"refused {n}"} for n in range(2)]
            )
            report = wait_for(
                lambda: (s := status(server)["mail"])["failed"] == 2 and s["backlog"] == 0 and s,
                what="the refused mail to be given up",
            )
            smtp.answer = lambda _command, _argument: None
            raise_ok(server, "MAILHIGH", "after")
            settled(server, "mail", 2)
            ids = high_ids(server)
            found = messages(server)
            mails = smtp.mails()
    assert [m.ids() for m in mails] == [ids[:1], ids[3:]]
    assert report["last_error"] == (
        f"smtp://127.0.0.1:{smtp.port}: 550 5.1.1 No such user (RCPT TO:<soc@example.net>)"
    )
    assert f"forward mail: gave up on 2 alerts: {report['last_error']}" in found
    failing_at = [m for m in found if m.startswith("forward mail: failing, will retry: ")]
    assert failing_at == [
        f"forward mail: failing, will retry: smtp://127.0.0.1:{smtp.port}: 451 4.3.0 Busy (DATA)"
    ]
    assert any(m.startswith("forward mail: delivering again after") for m in found)


def test_after_the_mail_server_was_down_every_alert_arrives_in_order(tmp_path: Path) -> None:
    with SmtpReceiver() as smtp:
        line = mail_line(smtp.url, "starttls=false", "to=soc@example.net", MINE, "window=0.1")
        with Server(tmp_path, BASE_CONFIG + line.rstrip() + f",{FAST_RETRY}\n") as server:
            define_mine(server)
            raise_ok(server, "MAILHIGH", "before")
            settled(server, "mail", 1)
            smtp.close()  # down: connections refused
            for n in range(3):
                raise_ok(server, "MAILCRIT", f"while down {n}")
            report = failing(server, "mail", 3)
            assert report["last_error"] == f"smtp://127.0.0.1:{smtp.port}: Connection refused"
            with SmtpReceiver(smtp.port) as again:
                raise_ok(server, "MAILHIGH", "after")
                everything = high_ids(server)
                assert again.wait_for_ids(4) == everything[1:]
                report = settled(server, "mail", 5)
    assert smtp.ids() == everything[:1]
    assert (report["state"], report["failed"]) == ("ok", 0)


def test_starttls_and_a_login(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    users = {"kisalert": "s3cret, with a comma"}
    with SmtpReceiver(tls=(cert, key), require_tls=True, users=users) as smtp:
        common = ("to=soc@example.net", MINE, "window=0", f"tls_ca={cert}", "username=kisalert")
        config = (
            BASE_CONFIG
            + mail_line(smtp.url, *common, 'password="s3cret, with a comma"')
            + mail_line(smtp.url, *common, "password=not-the-password", name="wrong")
        )
        with Server(tmp_path, config) as server:
            define_mine(server)
            raise_ok(server, "MAILHIGH", "over TLS")
            (alert_id,) = high_ids(server)
            assert smtp.wait_for_ids(1) == [alert_id]
            wrong = wait_for(
                lambda: (s := status(server)["wrong"])["state"] == "failing" and s,
                what="the wrong password to be refused",
            )
        (mail,) = smtp.mails()
    assert (mail.tls, mail.login) == (True, "kisalert")
    assert wrong["last_error"] == (
        f"smtp://127.0.0.1:{smtp.port}: the server refused the credentials of 'kisalert': "
        "535 5.7.8 Authentication credentials invalid"
    )
