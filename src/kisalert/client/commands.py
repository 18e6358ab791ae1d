"""`kisalert tail`, `raise`, `define` and `alerts`: the client's commands."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException
from websockets.sync.client import connect

from kisalert.client.api import Api, ClientError, one_line
from kisalert.client.settings import Settings, SettingsError, resolve
from kisalert.client.show import alert_line, json_line
from kisalert.severity import SEVERITY_NAMES

RETRY_MAX = 5.0  # seconds between tries to reach the eventbus again, at most
_AGO = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def run(args: argparse.Namespace) -> int:
    """Run the client command `args.command`; its exit status."""
    command: Callable[[Api, argparse.Namespace], int] = {
        "tail": tail,
        "raise": raise_alert,
        "define": define,
        "alerts": alerts,
    }[args.command]
    try:
        flags = {key: getattr(args, key) for key in ("server", "user", "password", "api_key")}
        flags["ca_file"] = args.ca_file
        settings = resolve(flags, os.environ, args.client_config)
        return command(Api(settings), args)
    except (ClientError, SettingsError) as exc:
        print(f"kisalert: {exc}", file=sys.stderr)
        return 1


def _colour(args: argparse.Namespace) -> bool:
    if args.color != "auto":
        return bool(args.color == "always")
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _print(records: list[dict[str, Any]], args: argparse.Namespace) -> None:
    colour = _colour(args)
    for record in records:
        print(json_line(record) if args.json else alert_line(record, colour), flush=True)


def raise_alert(api: Api, args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"name": args.name, "text": args.text}
    for key in ("bssid", "source", "dest", "other", "channel"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    api.command("/alerts/raise_alerts.cmd", body)
    return 0


def define(api: Api, args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"name": args.name, "description": args.description}
    if args.klass is not None:
        body["class"] = args.klass
    if args.severity is not None:
        body["severity"] = _severity(args.severity)
    for key, value in (("throttle", args.throttle), ("burst", args.burst), ("phyname", args.phy)):
        if value is not None:
            body[key] = value
    answer = api.command("/alerts/definitions/define_alert.cmd", body).strip()
    if answer:
        print(answer)
    return 0


def _severity(text: str) -> int | str:
    by_name = {name: value for value, name in SEVERITY_NAMES.items()}
    if text.upper() in by_name:
        return by_name[text.upper()]
    try:
        return int(text)
    except ValueError:
        return text  # the server says what the valid ones are


def alerts(api: Api, args: argparse.Namespace) -> int:
    if args.since is None:
        records = api.get("/alerts/all_alerts.json")
    else:
        records = api.get(f"/alerts/last-time/{_since(args.since)}/alerts.json")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ClientError(f"{api.settings.server}: the answer is not a list of alert records")
    _print(records, args)
    return 0


def _since(text: str) -> str:
    ago = _AGO.match(text.strip())
    if ago:
        return f"-{float(ago.group(1)) * _UNITS[ago.group(2)]:g}"
    try:
        return f"{float(text):g}"
    except ValueError:
        raise ClientError(f"--since {text!r}: give 15m, 2h, 1d or a Unix time") from None


def tail(api: Api, args: argparse.Namespace) -> int:
    """Subscribe to ALERT on the eventbus and print each alert; after the server goes
    away, reach it again (with a line on standard error) unless --once."""
    url = _eventbus_url(api.settings)
    delay = 0.5
    said_lost = False
    while True:
        try:
            with connect(
                url,
                additional_headers=api.headers,
                ssl=api.tls_context(),
                open_timeout=10,
                max_size=2**22,
            ) as websocket:
                websocket.send(json.dumps({"SUBSCRIBE": "ALERT"}))
                if said_lost:
                    print(f"kisalert: following {api.settings.server} again", file=sys.stderr)
                said_lost, delay = False, 0.5
                for frame in websocket:
                    _frame(frame, args)
        except InvalidURI as exc:
            raise ClientError(f"eventbus: {exc}") from None
        except InvalidStatus as exc:
            status = exc.response.status_code
            text = (
                one_line(exc.response.body.decode("utf-8", "replace")) if exc.response.body else ""
            )
            raise ClientError(f"eventbus {url}: {status} {text}".rstrip()) from None
        except (OSError, WebSocketException, TimeoutError) as exc:
            if args.once:
                raise ClientError(f"eventbus {url}: {exc or type(exc).__name__}") from None
            if not said_lost:
                print(
                    f"kisalert: lost {api.settings.server} ({exc}); trying again", file=sys.stderr
                )
                said_lost = True
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
            continue
        if args.once:
            return 0
        if not said_lost:  # the server closed the eventbus: it stops or restarts
            print(f"kisalert: lost {api.settings.server}; trying again", file=sys.stderr)
            said_lost = True
        time.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)


def _frame(frame: str | bytes, args: argparse.Namespace) -> None:
    try:
        event = json.loads(frame)
    except ValueError:
        return
    record = event.get("ALERT") if isinstance(event, dict) else None
    if isinstance(record, dict):
        _print([record], args)


def _eventbus_url(settings: Settings) -> str:
    scheme = "wss" if settings.server.startswith("https:") else "ws"
    return f"{scheme}:{settings.server.partition(':')[2]}/eventbus/events.ws"
