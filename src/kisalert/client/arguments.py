"""The client's subcommands on the `kisalert` parser, apart from the commands
themselves: every `kisalert` command builds the whole parser, and only the client's
own commands need what `kisalert.client.commands` loads (websockets' client,
urllib)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kisalert.severity import SEVERITY_NAMES

COMMANDS = ("tail", "raise", "define", "alerts")


def add_commands(commands: Any) -> None:
    """The client's subcommands, on the `kisalert` parser's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("server and login (else $KISALERT_*, else the client config)")
    where.add_argument("--server", metavar="URL", help="default http://127.0.0.1:2501")
    where.add_argument("--user", help="user name for a password login (default admin)")
    where.add_argument("--password", help="better in $KISALERT_PASSWORD or the config")
    where.add_argument("--api-key", dest="api_key", metavar="KEY", help="log in with an API key")
    where.add_argument("--ca-file", dest="ca_file", metavar="FILE", help="CA for an https server")
    where.add_argument(
        "--client-config",
        type=Path,
        metavar="FILE",
        help="key=value lines: server, user, password, api_key, ca_file "
        "(default ~/.config/kisalert/client.conf, or $KISALERT_CLIENT_CONFIG)",
    )
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="each alert as one JSON line")
    output.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour by severity (auto: on a terminal, unless $NO_COLOR is set)",
    )

    tail = commands.add_parser(
        "tail", parents=[common, output], help="print alerts as a server raises them"
    )
    tail.add_argument("--once", action="store_true", help="end when the server goes away")
    raiser = commands.add_parser("raise", parents=[common], help="raise an alert on a server")
    raiser.add_argument("name", help="a defined alert's name (see definitions.json)")
    raiser.add_argument("text", help="what happened")
    for mac in ("bssid", "source", "dest", "other"):
        raiser.add_argument(f"--{mac}", metavar="MAC", help=f"the alert's {mac} MAC address")
    raiser.add_argument("--channel", help="the channel, as text (e.g. 6)")
    definer = commands.add_parser("define", parents=[common], help="define an alert on a server")
    definer.add_argument("name", help="the new alert's name (upper-cased by the server)")
    definer.add_argument("description", help="what the alert means")
    definer.add_argument("--class", dest="klass", metavar="CLASS", help="default OTHER")
    definer.add_argument(
        "--severity",
        help="a number or a name: " + ", ".join(SEVERITY_NAMES.values()) + " (default MEDIUM)",
    )
    definer.add_argument("--throttle", metavar="RATE", help="e.g. 10/min")
    definer.add_argument("--burst", metavar="RATE", help="e.g. 1/sec")
    definer.add_argument("--phy", metavar="PHY", help="a phy name, or any (default)")
    lister = commands.add_parser(
        "alerts", parents=[common, output], help="print a server's alerts, oldest first"
    )
    lister.add_argument(
        "--since",
        metavar="WHEN",
        help="only newer ones: 15m, 2h, 1d ago, or a Unix time (negative: seconds ago)",
    )
