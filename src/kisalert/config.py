"""Kismet-format config files: `key=value` lines, `#` comments, `include=`/`opt_include=`.

kisalert reads the keys it knows and warns once about each key it does not.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import time
import urllib.parse
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kisalert.auth import username_problem
from kisalert.catalog import BUILTIN_ALERTS
from kisalert.definition import valid_name
from kisalert.forward.base import OutputSpec, SpecError
from kisalert.forward.silences import Silence, SilenceError, from_config
from kisalert.forward.spec import parse_options, parse_spec
from kisalert.location import NO_LOCATION, Location, LocationError
from kisalert.mac import MacError, MacMask
from kisalert.options import OptionError, option_pairs
from kisalert.patterns import Pattern, PatternError, compile_pattern
from kisalert.rates import Limits, RateError

MAX_INCLUDE_DEPTH = 16
BUILTIN_NAMES = frozenset(builtin.name for builtin in BUILTIN_ALERTS)
ACCESS_LOG_FORMATS = ("common", "json")
ALERT_EXAMPLE = "e.g. alert=ROGUEAP,5/min,1/sec"

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """A config problem that stops the server; str() names the file and line."""


@dataclass(frozen=True, slots=True)
class Line:
    key: str
    value: str
    path: str
    number: int

    def error(self, message: str) -> ConfigError:
        return ConfigError(f"{self.path}:{self.number}: {message}")


@dataclass(frozen=True, slots=True)
class SsidRule:
    """An `apspoof=` or `ssidcanary=` rule."""

    name: str
    ssid: Pattern
    valid_macs: tuple[MacMask, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A capture source as Kismet writes one: `VALUE[:option=value,...]`."""

    value: str  # a capture file or a network interface
    name: str
    realtime: bool = False  # read a file at its recorded pace


def _source_options(text: str, where: str) -> list[tuple[str, str | None]]:
    try:
        return option_pairs(text, "source option")
    except OptionError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_source(text: str, where: str) -> tuple[SourceSpec, list[str]]:
    """A source definition, and one warning per option kisalert does not know.

    `where` starts every message ("FILE:LINE" or "--source"). Raises ConfigError.
    """
    value, _, options = text.strip().partition(":")
    value = value.strip()
    if not value:
        raise ConfigError(f"{where}: a source needs a capture file or an interface")
    name = value
    realtime = False
    warnings: list[str] = []
    for key, option in _source_options(options, where):
        if key == "name":
            if not option:
                raise ConfigError(f"{where}: name needs a value")
            name = option
        elif key == "realtime":
            if option is None or option.lower() not in ("true", "false"):
                raise ConfigError(f"{where}: realtime needs true or false, not {option!r}")
            realtime = option.lower() == "true"
        elif key:
            warnings.append(f"{where}: unknown source option {key!r} ignored")
    return SourceSpec(value, name, realtime), warnings


@dataclass
class Config:
    rates: dict[str, Limits] = field(default_factory=dict)
    backlog: int = 50
    load_alerts: list[tuple[str, str]] = field(default_factory=list)
    apspoof: list[SsidRule] = field(default_factory=list)
    ssidcanary: list[SsidRule] = field(default_factory=list)
    devicefound: list[MacMask] = field(default_factory=list)
    devicelost: list[MacMask] = field(default_factory=list)
    devicefound_timeout: int = 60
    devicelost_timeout: int = 60
    dot11_max_signal: int = -10
    location: Location = NO_LOCATION
    bind_address: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    uri_prefix: str = ""
    session_timeout: int = 7200
    allow_cors: bool = False
    allowed_origin: str | None = None
    allow_auth_view: bool = False
    # The browser console at `/` (the API is served either way).
    console: bool = True
    # Peers whose X-Forwarded-For names the client (the login lockout's address).
    trusted_proxies: tuple[IpNetwork, ...] = ()
    log_alert_timeout: int = 0
    log_sync: str = "batched"
    log_commit_ms: int = 100
    store: str = "memory"
    eventbus_queue: int = 1024
    eventbus_ping: float = 20.0  # seconds between pings of an idle subscriber
    eventbus_ping_timeout: float = 20.0  # seconds a ping may go unanswered
    # Seconds a connection may take to send a request head, and then its body.
    head_timeout: float = 10.0
    body_timeout: float = 20.0
    metrics_public: bool = False  # GET /metrics without a login
    access_log: str | None = None  # a file, or "-" for standard output
    access_log_format: str = "common"
    sources: list[SourceSpec] = field(default_factory=list)
    forward: list[OutputSpec] = field(default_factory=list)  # docs/forwarding.md
    silences: list[Silence] = field(default_factory=list)  # silence= lines, ditto
    warnings: list[str] = field(default_factory=list)
    # "FILE:LINE" of the user's first alert= line for each name (not the shipped ones).
    alert_lines: dict[str, str] = field(default_factory=dict)


def read_lines(
    path: Path, depth: int = 0, optional: bool = False, errors: list[str] | None = None
) -> list[Line]:
    """Every `key=value` line of `path` and the files it includes, in reading order.

    With `errors`, problems are added to it and reading goes on (check-config);
    without, the first one raises ConfigError.
    """
    try:
        if depth > MAX_INCLUDE_DEPTH:
            raise ConfigError(f"{path}: includes nested more than {MAX_INCLUDE_DEPTH} deep")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if optional:
                return []
            raise ConfigError(f"{path}: no such config file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    except ConfigError as exc:
        if errors is None:
            raise
        errors.append(str(exc))
        return []
    return parse_text(text, str(path), path.parent, depth, errors)


def parse_text(
    text: str, name: str, base: Path, depth: int = 0, errors: list[str] | None = None
) -> list[Line]:
    lines: list[Line] = []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, eq, value = stripped.partition("=")
        key = key.strip().lower()
        if not eq or not key:
            problem = f"{name}:{number}: expected key=value, got {stripped[:80]!r}"
            if errors is None:
                raise ConfigError(problem)
            errors.append(problem)
            continue
        line = Line(key, value.strip(), name, number)
        if key in ("include", "opt_include"):
            target = Path(os.path.expanduser(line.value))
            if not target.is_absolute():
                target = base / target
            lines.extend(read_lines(target, depth + 1, key == "opt_include", errors))
        else:
            lines.append(line)
    return lines


def default_lines() -> list[Line]:
    """The `alert=` lines shipped with the package."""
    text = resources.files("kisalert").joinpath("defaults.conf").read_text(encoding="utf-8")
    return parse_text(text, "(defaults.conf)", Path("."))


def check(paths: list[Path]) -> tuple[list[str], list[str]]:
    """Every problem in the config files, each naming its file and line: (errors,
    warnings). `load` stops at the first error; this reads on, so one run lists all."""
    errors: list[str] = []
    lines: list[Line] = []
    for path in paths:
        lines.extend(read_lines(path, errors=errors))
    warnings: list[str] = []
    good: list[Line] = []
    for line in lines:
        try:
            # Each line on its own, for the problems a line has by itself.
            alone = build([line], [], whole=False)
            warnings.extend(alone.warnings)
            # Only built-ins are known here: what is defined over the API is not.
            warnings.extend(unknown_alerts(alone))
        except ConfigError as exc:
            errors.append(str(exc))
        else:
            good.append(line)
    try:
        # Then the good lines together, for what lines mean to each other.
        build(good, default_lines())
    except ConfigError as exc:
        errors.append(str(exc))
    return sorted(errors, key=_where), warnings


def _where(problem: str) -> tuple[str, int]:
    """(file, line) of a `FILE:LINE: message` problem, to list them in reading order."""
    place = problem.partition(": ")[0]
    path, colon, number = place.rpartition(":")
    if colon and number.isdigit():
        return path, int(number)
    return place, 0


def load(paths: list[Path]) -> Config:
    user: list[Line] = []
    for path in paths:
        user.extend(read_lines(path))
    return build(user, default_lines())


def store_url(value: str, error: Callable[[str], Exception]) -> str:
    """`memory`, or a Redis URL as redis-py takes it (scale.md); `error(reason)` is
    raised for anything else."""
    if value == "memory":
        return value
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:  # an IPv6 address without its closing bracket
        raise error(f"store={value!r} is not a usable URL") from None
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise error(f"store={value!r} must be memory or a redis://host:port/db URL")
    try:
        port = parts.port
    except ValueError:
        raise error(f"store={value!r} has a port that is not a number") from None
    if port == 0:
        raise error(f"store={value!r} has port 0")
    db = parts.path.lstrip("/")
    if parts.scheme != "unix" and db and not db.isdigit():
        raise error(f"store={value!r}: the database after the / must be a number")
    if parts.scheme != "unix" and not parts.hostname:
        raise error(f"store={value!r} names no host")
    return value


MAX_LOG_ALERT_TIMEOUT = 100 * 365 * 86_400  # seconds


def _int(line: Line, low: int | None = None, high: int | None = None) -> int:
    try:
        value = int(line.value)
    except ValueError:
        raise line.error(f"{line.key} needs a whole number, not {line.value!r}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise line.error(f"{line.key}={value} is out of range")
    return value


def _seconds(line: Line, low: float, high: float) -> float:
    try:
        value = float(line.value)
    except ValueError:
        raise line.error(f"{line.key} needs a number of seconds, not {line.value!r}") from None
    if not low <= value <= high:  # also refuses nan
        raise line.error(f"{line.key}={line.value} is out of range")
    return value


def _bool(line: Line) -> bool:
    value = line.value.lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise line.error(f"{line.key} needs true or false, not {line.value!r}")


def _log_target(line: Line) -> str:
    """`-` (standard output), or a file: a relative one is taken from the directory of
    the config file that names it, as `include=` is."""
    if not line.value:
        raise line.error(f"{line.key} needs a file name, or - for standard output")
    if line.value == "-":
        return line.value
    target = Path(os.path.expanduser(line.value))
    return str(target if target.is_absolute() else Path(line.path).parent / target)


def _networks(line: Line) -> tuple[IpNetwork, ...]:
    """Comma-separated addresses and CIDR blocks."""
    networks: list[IpNetwork] = []
    for part in line.value.split(","):
        if not part.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise line.error(
                f"{line.key} needs IP addresses or CIDR blocks, not {part.strip()!r}"
            ) from None
    return tuple(networks)


def _alert_rate(line: Line) -> tuple[str, Limits]:
    parts = [part.strip() for part in line.value.split(",")]
    if len(parts) != 3:
        raise line.error(
            f"alert= needs NAME,throttle,burst, not {len(parts)} part"
            f"{'s' if len(parts) != 1 else ''}; {ALERT_EXAMPLE}"
        )
    if not parts[0]:
        raise line.error(f"alert= needs a name before the first ','; {ALERT_EXAMPLE}")
    if not valid_name(parts[0]):
        raise line.error(f"bad alert name {parts[0]!r}: use 1-64 letters, digits, '_', '-', '.'")
    try:
        return parts[0].upper(), Limits.parse(parts[1], parts[2])
    except RateError as exc:
        if exc.args[1] == "order":
            raise line.error(f"bad rates in alert={line.value}: {exc}") from None
        raise line.error(
            f"bad {exc.args[1]} rate {exc.args[0]!r} in alert={line.value}: {exc}"
        ) from None


def unknown_alerts(
    config: Config, defined: Collection[str] | None = None, replay: bool = False
) -> list[str]:
    """A warning for each user `alert=` line that names no built-in alert and none in
    `defined`, the names defined over the API; None where those are not known. A
    replay (`replay`) has no API: such a line does nothing there."""
    known = BUILTIN_NAMES.union(defined or ())
    warnings: list[str] = []
    for name, where in config.alert_lines.items():
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        if replay:
            problem = f"no built-in alert of that name{hint}"
            effect = "a replay raises only built-in alerts, so the line does nothing"
        elif defined is None:
            problem = f"no built-in alert of that name{hint}"
            effect = "it applies only if the alert is defined over the API"
        else:
            problem = f"no built-in alert of that name{hint}, and none defined over the API"
            effect = "it applies once the alert is defined over the API"
        warnings.append(f"{where}: alert={name}: {problem}; {effect}")
    return warnings


def _options(line: Line, text: str) -> dict[str, str]:
    """`key="value",key2="v,with,commas"` pairs of an apspoof/ssidcanary rule."""
    options: dict[str, str] = {}
    rest = text.strip()
    while rest:
        key, eq, rest = rest.partition("=")
        if not eq:
            raise line.error(f'expected option="value" in {line.key}=')
        rest = rest.lstrip()
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end < 0:
                raise line.error(f"unterminated quote in {line.key}=")
            value, rest = rest[1:end], rest[end + 1 :]
        else:
            value, _, rest = rest.partition(",")
            rest = "," + rest if rest else ""
        options[key.strip().lower()] = value
        rest = rest.lstrip()
        if rest.startswith(","):
            rest = rest[1:].lstrip()
        elif rest:
            raise line.error(f"expected ',' between options in {line.key}=")
    return options


def _ssid_rule(line: Line, with_macs: bool) -> SsidRule:
    name, colon, rest = line.value.partition(":")
    if not colon or not name.strip():
        raise line.error(f'{line.key}= needs NAME:ssid="REGEX"')
    options = _options(line, rest)
    # Kismet's own files write `ssidregex=` as well as `ssid=`; both are a pattern
    # searched for in the SSID.
    ssid = options.get("ssid", options.get("ssidregex"))
    if ssid is None:
        raise line.error(f'{line.key}= needs ssid="REGEX"')
    try:
        pattern = compile_pattern(ssid)
    except PatternError as exc:
        raise line.error(f"bad ssid pattern: {exc}") from None
    macs: tuple[MacMask, ...] = ()
    if with_macs:
        try:
            macs = tuple(
                MacMask.parse(m) for m in options.get("validmacs", "").split(",") if m.strip()
            )
        except MacError as exc:
            raise line.error(f"bad MAC in validmacs: {exc}") from None
    return SsidRule(name.strip(), pattern, macs)


def _forward(line: Line, others: list[OutputSpec]) -> OutputSpec:
    try:
        spec = parse_spec(line.value)
    except SpecError as exc:
        raise line.error(str(exc)) from None
    if any(other.name == spec.name for other in others):
        raise line.error(f"forward={spec.name}: an output of that name is already defined")
    return spec


def _silence(line: Line, others: list[Silence]) -> Silence:
    try:
        silence = from_config(parse_options(line.value), time.time())
    except (SpecError, SilenceError) as exc:
        raise line.error(f"silence=: {exc}") from None
    if any(other.id == silence.id for other in others):
        raise line.error("silence=: the same silence is already defined")
    return silence


def _mac_mask(line: Line) -> MacMask:
    try:
        return MacMask.parse(line.value)
    except MacError:
        raise line.error(f"bad MAC address {line.value!r}") from None


def build(user: list[Line], defaults: list[Line], whole: bool = True) -> Config:
    """Interpret user lines over the shipped defaults.

    For keys that take one value the first line wins, as it does for `alert=` lines.
    """
    config = Config()
    seen: set[str] = set()
    warned: set[str] = set()
    for line in user:
        key = line.key
        once = key not in seen
        seen.add(key)
        if key == "alert":
            name, limits = _alert_rate(line)
            config.rates.setdefault(name, limits)
            config.alert_lines.setdefault(name, f"{line.path}:{line.number}")
        elif key == "load_alert":
            header, colon, text = line.value.partition(":")
            if not colon or not valid_name(header.strip()):
                raise line.error("load_alert= needs HEADER:text")
            config.load_alerts.append((header.strip().upper(), text.strip()))
        elif key == "apspoof":
            config.apspoof.append(_ssid_rule(line, with_macs=True))
        elif key == "ssidcanary":
            config.ssidcanary.append(_ssid_rule(line, with_macs=False))
        elif key == "devicefound":
            config.devicefound.append(_mac_mask(line))
        elif key == "devicelost":
            config.devicelost.append(_mac_mask(line))
        elif key == "forward":
            config.forward.append(_forward(line, config.forward))
        elif key == "silence":
            config.silences.append(_silence(line, config.silences))
        elif key == "source":
            spec, warnings = parse_source(line.value, f"{line.path}:{line.number}")
            config.sources.append(spec)
            config.warnings.extend(warnings)
        elif not once:
            continue
        elif key == "alertbacklog":
            config.backlog = _int(line, 0, 1_000_000)
        elif key == "devicefound_timeout":
            config.devicefound_timeout = _int(line, 1)
        elif key == "devicelost_timeout":
            config.devicelost_timeout = _int(line, 1)
        elif key == "dot11_max_signal":
            config.dot11_max_signal = _int(line, -200, 0)
        elif key == "gps":
            try:
                config.location = Location.parse_gps(line.value)
            except LocationError as exc:
                raise line.error(str(exc)) from None
        elif key == "httpd_bind_address":
            config.bind_address = line.value
        elif key == "httpd_port":
            config.port = _int(line, 1, 65535)
        elif key == "httpd_username":
            problem = username_problem(line.value)
            if problem is not None:
                raise line.error(problem)
            config.username = line.value
        elif key == "httpd_password":
            config.password = line.value
        elif key == "httpd_uri_prefix":
            config.uri_prefix = "/" + line.value.strip("/") if line.value.strip("/") else ""
        elif key == "httpd_session_timeout":
            config.session_timeout = _int(line, 1)
        elif key == "httpd_console":
            config.console = _bool(line)
        elif key == "httpd_allow_cors":
            config.allow_cors = _bool(line)
        elif key == "httpd_allowed_origin":
            config.allowed_origin = line.value
        elif key == "httpd_allow_auth_view":
            config.allow_auth_view = _bool(line)
        elif key == "httpd_trusted_proxies":
            config.trusted_proxies = _networks(line)
        elif key == "kis_log_alert_timeout":
            # Up to 100 years: beyond, the oldest time to keep is no SQLite integer.
            config.log_alert_timeout = _int(line, 0, MAX_LOG_ALERT_TIMEOUT)
        elif key == "kis_log_sync":
            if line.value not in ("batched", "strict"):
                raise line.error("kis_log_sync must be batched or strict")
            config.log_sync = line.value
        elif key == "kis_log_commit_ms":
            config.log_commit_ms = _int(line, 1, 60_000)
        elif key == "store":
            config.store = store_url(line.value, line.error)
        elif key == "eventbus_queue":
            config.eventbus_queue = _int(line, 1, 1_000_000)
        elif key == "eventbus_ping":
            config.eventbus_ping = _seconds(line, 0.1, 86_400)
        elif key == "eventbus_ping_timeout":
            config.eventbus_ping_timeout = _seconds(line, 0.1, 86_400)
        elif key == "httpd_head_timeout":
            config.head_timeout = _seconds(line, 0.1, 3600)
        elif key == "httpd_body_timeout":
            config.body_timeout = _seconds(line, 0.1, 3600)
        elif key == "metrics_public":
            config.metrics_public = _bool(line)
        elif key == "access_log":
            config.access_log = _log_target(line)
        elif key == "access_log_format":
            if line.value not in ACCESS_LOG_FORMATS:
                raise line.error("access_log_format must be common or json")
            config.access_log_format = line.value
        elif key not in warned:
            warned.add(key)
            config.warnings.append(f"{line.path}:{line.number}: unknown key {key!r} ignored")
    # Shipped rates apply only to names no user line mentions.
    for line in defaults:
        if line.key == "alert":
            name, limits = _alert_rate(line)
            config.rates.setdefault(name, limits)
    if whole and config.username is not None and not config.password:
        raise ConfigError("httpd_username is set but httpd_password is not")
    return config


def command_line_sources(config: Config, texts: Sequence[str]) -> Config:
    """`config` with the `--source` definitions in place of its `source=` lines: as with
    Kismet's `-c`, a source given on the command line means the config file's are not
    wanted this time."""
    sources: list[SourceSpec] = []
    warnings = list(config.warnings)
    for text in texts:
        spec, more = parse_source(text, f"--source {text}")
        sources.append(spec)
        warnings.extend(more)
    return dataclasses.replace(config, sources=sources, warnings=warnings)
