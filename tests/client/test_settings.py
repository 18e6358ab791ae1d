"""Where the client connects and how it logs in: flags, then the environment, then the
client config file, then the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from kisalert.client.settings import Settings, SettingsError, resolve

NO_FLAGS: dict[str, str | None] = {}


def test_nothing_given_is_the_local_server_without_a_login(tmp_path: Path) -> None:
    assert resolve(NO_FLAGS, {}, tmp_path / "none.conf") == Settings("http://127.0.0.1:2501")


def test_flags_win_over_the_environment_which_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "client.conf"
    config.write_text(
        "# the SOC's server\nserver = https://alerts.example:2501/\nuser=soc\n"
        "password=from-file\napi_key=file-key\n"
    )
    environ = {"KISALERT_PASSWORD": "from-env", "KISALERT_API_KEY": ""}
    settings = resolve({"user": "analyst", "password": None}, environ, config)
    assert settings == Settings(
        server="https://alerts.example:2501",
        user="analyst",
        password="from-env",
        api_key="file-key",
    )


def test_the_config_file_is_found_through_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.conf"
    config.write_text("server=http://10.0.0.5:2501\n")
    environ = {"KISALERT_CLIENT_CONFIG": str(config)}
    assert resolve(NO_FLAGS, environ).server == "http://10.0.0.5:2501"
    home = tmp_path / "xdg"
    (home / "kisalert").mkdir(parents=True)
    (home / "kisalert" / "client.conf").write_text("server=http://10.0.0.6:2501\n")
    assert resolve(NO_FLAGS, {"XDG_CONFIG_HOME": str(home)}).server == "http://10.0.0.6:2501"


def test_a_password_alone_logs_in_as_admin(tmp_path: Path) -> None:
    settings = resolve({"password": "pw"}, {}, tmp_path / "none.conf")
    assert (settings.user, settings.password) == ("admin", "pw")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("colour=blue\n", "client.conf:1: expected KEY=VALUE with KEY one of server, user"),
        ("# fine\nserver\n", "client.conf:2: expected KEY=VALUE"),
        ("server=ftp://host\n", "server 'ftp://host': give it as http://HOST:PORT"),
        ("server=http://[::1\n", "server 'http://[::1': give it as http://HOST:PORT"),
        ("server=http://h:99999\n", "server 'http://h:99999': give it as"),
        ("server=http://h:port\n", "server 'http://h:port': give it as"),
    ],
)
def test_a_bad_setting_is_one_line_saying_where(tmp_path: Path, text: str, error: str) -> None:
    config = tmp_path / "client.conf"
    config.write_text(text)
    with pytest.raises(SettingsError) as refused:
        resolve(NO_FLAGS, {}, config)
    assert error in str(refused.value)
