"""Where the client connects and how it logs in: flags first, then the environment,
then the client config file, then the defaults (the local server, no login)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:2501"
# key in the file -> environment variable
KEYS = {
    "server": "KISALERT_SERVER",
    "user": "KISALERT_USER",
    "password": "KISALERT_PASSWORD",
    "api_key": "KISALERT_API_KEY",
    "ca_file": "KISALERT_CA_FILE",
}
CONFIG_ENV = "KISALERT_CLIENT_CONFIG"


class SettingsError(Exception):
    """A setting is unusable; str() is one line saying which and why."""


@dataclass(frozen=True)
class Settings:
    server: str = DEFAULT_URL
    user: str | None = None
    password: str | None = None
    api_key: str | None = None
    ca_file: str | None = None


def default_config_path(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kisalert" / "client.conf"


def read_config(path: Path) -> dict[str, str]:
    """`key=value` lines; `#` starts a comment line. Raises SettingsError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the client config {path}: {exc}") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        key = key.strip()
        if not eq or key not in KEYS:
            known = ", ".join(KEYS)
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE with KEY one of {known}")
        values[key] = value.strip()
    return values


def resolve(
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    config: Path | None = None,
) -> Settings:
    """The settings from `flags` (None: not given), `environ` and the config file
    (`config`, else $KISALERT_CLIENT_CONFIG, else ~/.config/kisalert/client.conf)."""
    path = config or Path(environ.get(CONFIG_ENV) or default_config_path(environ))
    from_file = read_config(path)
    chosen: dict[str, str | None] = {}
    for key, variable in KEYS.items():
        value = flags.get(key)
        if value is None:
            value = environ.get(variable) or from_file.get(key)
        chosen[key] = value or None
    server = (chosen.pop("server") or DEFAULT_URL).rstrip("/")
    try:
        parts = urlsplit(server)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018  # raises ValueError for a port that is none
    except ValueError:  # "Invalid IPv6 URL", a port out of range or not a number
        usable = False
    if not usable:
        raise SettingsError(f"server {server!r}: give it as http://HOST:PORT or https://HOST:PORT")
    if chosen["password"] is not None and chosen["user"] is None:
        chosen["user"] = "admin"
    return Settings(server=server, **chosen)
