"""The `kisalert` command: `serve`, `replay`, `passwd`, `import`, `export`."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from kisalert import __version__, auth
from kisalert.alertlog import LOG_NAME, LogError
from kisalert.client import arguments as client_arguments
from kisalert.config import (
    ACCESS_LOG_FORMATS,
    Config,
    ConfigError,
    command_line_sources,
    load,
    store_url,
    unknown_alerts,
)
from kisalert.credentials import ApiKeyError
from kisalert.datadir import LOCK_FILE, DataDirError, default_data_dir, lock, prepare
from kisalert.store import StoreError
from kisalert.timestamps import LAST_MOMENT
from kisalert.tls import TlsError, check_pair

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2501


def _listen(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or (text.startswith("[") and text.endswith("]")):
        if text.isascii() and text.isdigit():
            raise argparse.ArgumentTypeError(
                f"{text!r} has no host: give HOST:PORT, e.g. {DEFAULT_HOST}:{text}"
            )
        raise argparse.ArgumentTypeError(
            f"{text!r} has no port: give HOST:PORT, e.g. {text}:{DEFAULT_PORT}"
        )
    if not port:
        raise argparse.ArgumentTypeError(f"{text!r} has no port after the colon")
    if not (port.isascii() and port.isdigit()):
        raise argparse.ArgumentTypeError(f"port {port!r} is not a number")
    if not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"port {int(port)} is out of range (1-65535)")
    return host.strip("[]") or DEFAULT_HOST, int(port)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _when(text: str) -> float:
    """Epoch seconds, negative for "that long ago", or an ISO 8601 date and time."""
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.astimezone()  # year 1 has no local time: ValueError
            seconds = moment.timestamp()
        except (ValueError, OverflowError, OSError):
            raise argparse.ArgumentTypeError(
                f"expected epoch seconds or an ISO 8601 time, got {text!r}"
            ) from None
    else:
        seconds = time.time() + value if value < 0 else value
    # Kismet's logs stamp in whole seconds since 1970, and nothing after year 9999.
    if not 0 <= seconds <= LAST_MOMENT:  # NaN too
        raise argparse.ArgumentTypeError(f"{text!r} is not a time between 1970 and 9999")
    return seconds


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a Kismet-format config file (repeatable; the first line for a key wins)",
    )
    common.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where kisalert keeps its data (default {default_data_dir()})",
    )
    top = argparse.ArgumentParser(prog="kisalert", description="Wireless-intrusion alert server")
    top.add_argument("--version", action="version", version=f"kisalert {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", parents=[common], help="run the alert server")
    serve.add_argument(
        "--listen",
        type=_listen,
        default=None,
        metavar="HOST:PORT",
        help=f"address to listen on (default {DEFAULT_HOST}:{DEFAULT_PORT})",
    )
    serve.add_argument(
        "--tls-cert",
        type=Path,
        default=None,
        metavar="FILE",
        help="serve HTTPS with this PEM certificate (and its chain); give --tls-key too",
    )
    serve.add_argument(
        "--tls-key",
        type=Path,
        default=None,
        metavar="FILE",
        help="the certificate's private key, PEM and unencrypted (may be the same file)",
    )
    serve.add_argument(
        "--memory",
        action="store_true",
        help="keep no alert log: alerts live in memory only and are gone after a restart",
    )
    serve.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="where the shared state lives: memory (the default) or redis://[:PASSWORD@]"
        "HOST:PORT/DB for several servers as one (or store= in a config file; docs/scale.md)",
    )
    serve.add_argument(
        "--access-log",
        default=None,
        metavar="PATH",
        help="log every request to PATH, - for standard output (or access_log= in a config "
        "file; default: no access log)",
    )
    serve.add_argument(
        "--log-format",
        choices=ACCESS_LOG_FORMATS,
        default=None,
        help="the access log's lines: the Common Log Format, or one JSON object per line "
        "(or access_log_format=; default common)",
    )
    serve.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="CAPTURE|INTERFACE",
        help="a capture file to read in, or a monitor-mode interface to capture on, "
        "as Kismet writes a source: FILE[:name=NAME,realtime=true] (repeatable; replaces "
        "the config files' source= lines)",
    )
    importer = commands.add_parser(
        "import", parents=[common], help="add the alerts of a Kismet log to kisalert's log"
    )
    importer.add_argument(
        "file", type=Path, metavar="FILE.kismet", help="a log Kismet wrote, or a kisalert export"
    )
    exporter = commands.add_parser(
        "export", parents=[common], help="write the alerts of a time range to a new .kismet file"
    )
    exporter.add_argument(
        "--since",
        type=_when,
        default=None,
        metavar="T",
        help="the oldest alert time to export: epoch seconds, a negative number for that "
        "many seconds ago (-86400: a day ago), or an ISO 8601 date and time "
        "(2026-11-29T14:00, local time unless it has an offset); default: the oldest alert",
    )
    exporter.add_argument(
        "--until",
        type=_when,
        default=None,
        metavar="T",
        help="the newest alert time to export, in the same forms as --since "
        "(both ends included); default: the newest alert",
    )
    exporter.add_argument(
        "file", type=Path, metavar="OUT.kismet", help="the Kismet log to write; must not exist"
    )
    replay = commands.add_parser(
        "replay",
        help="run the WIDS detectors over capture files, with no server",
        description="Read pcap/pcapng captures (plain or gzip) through every detector "
        "and print the alerts. Exit 0 when every capture was read to its end, 1 when "
        "one was damaged (read up to the damage), 2 when one cannot be opened or is "
        "not a capture.",
    )
    replay.add_argument(
        "--config",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a Kismet-format config file (repeatable): alert rates, apspoof=, ssidcanary=, "
        "devicefound=, devicelost=, dot11_max_signal=",
    )
    replay.add_argument(
        "--json",
        action="store_true",
        help="print each alert as one line of JSON, as all_alerts.itjson gives it",
    )
    replay.add_argument(
        "--log", type=Path, default=None, metavar="OUT.kismet", help="write a Kismet log"
    )
    replay.add_argument(
        "--quiet", action="store_true", help="no progress bar and no summary on stderr"
    )
    replay.add_argument(
        "captures",
        type=Path,
        nargs="+",
        metavar="CAPTURE",
        help="pcap or pcapng files, plain or gzip, read in the order given",
    )
    checker = commands.add_parser(
        "check-config",
        help="report every problem in config files, each with its file and line",
        description="Read Kismet-format config files as `serve` would and list every "
        "problem with its file and line (not just the first). Exit 0 when there is no "
        "error (warnings, such as unknown keys, are listed but allowed), 1 otherwise.",
    )
    checker.add_argument(
        "files", type=Path, nargs="+", metavar="FILE", help="config files, read as serve reads them"
    )
    listing = commands.add_parser(
        "definitions",
        parents=[common],
        help="list the alert definitions with their rates and whether each is enabled",
        description="The built-in alerts with the config's rates, then those defined over "
        "the API (read from the data directory's alert log; a server may be running on it).",
    )
    listing.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line, as /alerts/definitions/state.itjson gives them",
    )
    client_arguments.add_commands(commands)
    passwd = commands.add_parser(
        "passwd", parents=[common], help="set the admin login kept in the data directory"
    )
    passwd.add_argument("--user", default=None, help="user name (default: keep the current one)")
    passwd.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="set the login of the servers sharing this Redis (redis://…, as serve --store; "
        "or store= in a config file)",
    )
    passwd.add_argument(
        "--generate", action="store_true", help="generate a random password and print it"
    )
    return top


EXIT_BROKEN_PIPE = 128 + 13  # as for a process ended by SIGPIPE


def _fail(message: str) -> int:
    print(f"kisalert: {message}", file=sys.stderr)
    return 2


def _setup(args: argparse.Namespace) -> tuple[Config, Path]:
    config = load(args.config)
    data_dir = prepare(args.data_dir or default_data_dir())
    return config, data_dir


def _tls(args: argparse.Namespace) -> tuple[str, str] | None:
    if (args.tls_cert is None) != (args.tls_key is None):
        raise ConfigError("--tls-cert and --tls-key go together")
    if args.tls_cert is None:
        return None
    for path in (args.tls_cert, args.tls_key):
        if not path.is_file():
            raise ConfigError(f"{path}: no such TLS file")
    check_pair(args.tls_cert, args.tls_key)
    return str(args.tls_cert), str(args.tls_key)


def cmd_serve(args: argparse.Namespace) -> int:
    from kisalert.http.accesslog import AccessLog, AccessLogError
    from kisalert.serve import StartupError, bind, serve
    from kisalert.service import Service

    config, data_dir = _setup(args)
    if args.source:
        config = command_line_sources(config, args.source)
    if args.store is not None:
        try:
            config = dataclasses.replace(config, store=store_url(args.store, ConfigError))
        except ConfigError as exc:
            return _fail(f"--store: {exc}")
    if config.store != "memory" and config.log_sync == "strict" and not args.memory:
        return _fail(
            "kis_log_sync=strict needs store=memory: with Redis, an accepted alert is kept by "
            "Redis, and the log is written behind it (docs/scale.md)"
        )
    access_target = args.access_log or config.access_log
    held = lock(data_dir)  # for as long as this process serves
    for warning in config.warnings:
        print(f"kisalert: warning: {warning}", file=sys.stderr)
    if config.password is not None and len(config.password) < auth.MIN_PASSWORD_LENGTH:
        print(
            f"kisalert: warning: httpd_password is shorter than {auth.MIN_PASSWORD_LENGTH} "
            "characters; a longer one is much harder to guess",
            file=sys.stderr,
        )
    host, port = args.listen or (config.bind_address or DEFAULT_HOST, config.port or DEFAULT_PORT)
    tls = _tls(args)
    # Bind before creating a login, so that a start that fails here does not
    # store a generated password nobody was shown.
    try:
        sock = bind(host, port)
    except StartupError as exc:
        return _fail(str(exc))
    access_log = None
    if access_target is None and args.log_format is not None:
        sock.close()
        return _fail("--log-format sets the access log's format: give --access-log PATH too")
    if access_target is not None:
        fmt = args.log_format or config.access_log_format
        try:
            access_log = AccessLog.open(access_target, fmt, config.trusted_proxies)
        except AccessLogError as exc:
            sock.close()
            return _fail(str(exc))
    if config.username is not None:
        login_note = f"log in as {config.username!r} with the password from your config file"
    else:
        try:
            login_note = _login_note(_login_keeper(config, data_dir))
        except StoreError as exc:
            sock.close()
            return _fail(str(exc))
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if tls else "http"
    banner = f"kisalert {__version__} listening on {scheme}://{shown}:{port}/\n  {login_note}"
    if config.console:
        console = f"{scheme}://{shown}:{port}{config.uri_prefix}/"
        banner += f"\n  the console: open {console} in a browser and log in there"
    try:
        service = Service(config, data_dir, use_log=not args.memory)
        serve(service, sock, banner, tls, access_log)
    finally:
        if access_log is not None:
            access_log.close()  # after the last request: writes every line
        held.close()
    return 0


def _login_keeper(config: Config, data_dir: Path) -> auth.LoginKeeper:
    """Where the admin login lives: the data directory, or the shared Redis."""
    if config.store == "memory":
        return auth.FileLogin(data_dir)
    from kisalert.store.redis_login import RedisLogin

    return RedisLogin(config.store)


def _login_note(keeper: auth.LoginKeeper) -> str:
    """How to log in, for the banner; makes a login at the very first start."""
    stored = keeper.load()
    if stored is None:
        password = auth.generate_password()
        made = auth.StoredLogin.create("admin", password, generated=True)
        if keeper.create(made):
            return (
                f"created the admin login: user 'admin', password '{password}'\n"
                f"  (shown only this once; stored hashed in {keeper.where}; "
                "change it with `kisalert passwd`)"
            )
        # Another replica made one first.
        stored = keeper.load()
        assert stored is not None
    return (
        f"log in as {stored.username!r} with "
        + {
            True: "the password shown at first start (`kisalert passwd` sets a new one)",
            False: "the password set with `kisalert passwd` or /session/set_password",
            None: "the password shown at first start, or the one set since with "
            "`kisalert passwd` or /session/set_password",
        }[stored.generated]
    )


def cmd_import(args: argparse.Namespace) -> int:
    from kisalert.alertlog.transfer import import_log

    _, data_dir = _setup(args)
    # A running server would not know the imported alerts' ids and could give them out again.
    held = lock(data_dir)
    try:
        result = import_log(args.file, data_dir / LOG_NAME)
    finally:
        held.close()
    left_out = []
    if result.present:
        left_out.append(f"{result.present} already present")
    if result.future:
        left_out.append(f"{result.future} stamped in the future (a clock set ahead?)")
    if result.unreadable:
        more = f", and {result.unreadable - 1} more" if result.unreadable > 1 else ""
        left_out.append(f"{result.unreadable} unreadable: {result.first_unreadable}{more}")
    print(
        f"imported {_plural(result.imported, 'alert')} from {args.file}"
        + (f" ({', '.join(left_out)})" if left_out else "")
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from kisalert.alertlog.transfer import export_log

    load(args.config)
    # Only read: a read-only data directory (a backup's) will do, and a mistyped
    # one is not created.
    data_dir = (args.data_dir or default_data_dir()).expanduser().absolute()
    if not (data_dir / LOG_NAME).is_file():
        return _fail(f"no alert log in {data_dir} (no {LOG_NAME} there)")
    since = round(args.since * 1_000_000) if args.since is not None else None
    until = round(args.until * 1_000_000) if args.until is not None else None
    count = export_log(data_dir / LOG_NAME, args.file, since, until)
    print(f"exported {_plural(count, 'alert')} to {args.file}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    import asyncio

    from kisalert.alert import Alert
    from kisalert.wids import report
    from kisalert.wids.capture.pcapfile import CaptureError
    from kisalert.wids.replay import Replay, open_captures

    config = load(args.config)
    for warning in [*config.warnings, *unknown_alerts(config, replay=True)]:
        print(f"kisalert: warning: {warning}", file=sys.stderr)
    try:
        captures = open_captures(args.captures)
    except CaptureError as exc:
        return _fail(str(exc))
    out = sys.stdout.buffer
    bar = report.ProgressBar() if sys.stderr.isatty() and not args.quiet else None

    def show(alert: Alert) -> None:
        if bar is not None:
            bar.clear()
        if args.json:
            out.write(alert.json + b"\n")
        else:
            out.write(report.alert_line(alert).encode("utf-8", "replace") + b"\n")
        if bar is not None:
            out.flush()

    held = None
    if args.log is not None:
        folder = args.log.expanduser().absolute().parent
        if args.log.name == LOG_NAME or (folder / LOCK_FILE).exists():
            # A server's log: while it runs it would give the replayed alerts' ids out
            # again, and it would not show them.
            try:
                held = lock(folder, instead="replay into another log")
            except DataDirError as exc:
                for capture in captures:
                    capture.close()
                return _fail(str(exc))
    run = Replay(config, on_alert=show, log_path=args.log, progress=bar)
    try:
        summary = asyncio.run(run.run(captures))
        out.flush()
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, and keep Python
        # from complaining at exit. Not 0: the captures were not read to their end
        # (and --log holds only what came before); 141 is what a shell reports for
        # other tools stopped so, by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        for capture in captures:
            capture.close()
        if held is not None:
            held.close()
    if bar is not None:
        bar.clear()
    for line in summary.damaged:
        print(f"kisalert: {line}", file=sys.stderr)
    if not args.quiet:
        print(report.summary_table(summary), file=sys.stderr)
    return 1 if summary.damaged else 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from kisalert.config import check

    errors, warnings = check(args.files)
    for problem in errors:
        print(problem)
    for warning in warnings:
        print(f"warning: {warning}")
    if errors:
        print(_plural(len(errors), "error"), file=sys.stderr)
        return 1
    print("ok" if not warnings else f"ok, {_plural(len(warnings), 'warning')}", file=sys.stderr)
    return 0


def cmd_definitions(args: argparse.Namespace) -> int:
    from kisalert.definitions_table import show

    # Only read: no data directory is made and no lock taken.
    return show(load(args.config), args.data_dir or default_data_dir(), args.json)


def cmd_passwd(args: argparse.Namespace) -> int:
    config, data_dir = _setup(args)
    if config.username is not None:
        return _fail("the admin login is fixed by httpd_username/httpd_password in a config file")
    if args.store is not None:
        config = dataclasses.replace(config, store=store_url(args.store, ConfigError))
    keeper = _login_keeper(config, data_dir)
    current = keeper.load()
    username = args.user or (current.username if current else "admin")
    if args.generate:
        password = auth.generate_password()
    elif sys.stdin.isatty():
        password = getpass.getpass(
            f"New password for {username} (at least {auth.MIN_PASSWORD_LENGTH} characters): "
        )
        problem = auth.login_problem(username, password) if password else None
        if problem is not None:  # say so before asking again
            return _fail(problem)
        if getpass.getpass("Again: ") != password:
            return _fail("the passwords differ; nothing changed")
    else:
        password = sys.stdin.readline(auth.MAX_PASSWORD_LENGTH + 2).rstrip("\r\n")
    if not password:
        return _fail("empty password; nothing changed")
    problem = auth.login_problem(username, password)
    if problem is not None:
        return _fail(problem)
    login = auth.StoredLogin.create(username, password)
    keeper.save(login)
    if args.generate:
        print(f"user {username!r}, password {password!r}")
    print(f"admin login saved in {keeper.where}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in client_arguments.COMMANDS:
        from kisalert.client import commands as client

        try:
            return client.run(args)
        except KeyboardInterrupt:
            return 130
    try:
        command = {
            "serve": cmd_serve,
            "passwd": cmd_passwd,
            "import": cmd_import,
            "export": cmd_export,
            "replay": cmd_replay,
            "check-config": cmd_check_config,
            "definitions": cmd_definitions,
        }[args.command]
        return command(args)
    except (ConfigError, DataDirError, LogError, ApiKeyError, TlsError, StoreError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
