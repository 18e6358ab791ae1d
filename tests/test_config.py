"""Kismet-format config files (model.md, "Configuration files"; api.md httpd_* keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kisalert.config import Config, ConfigError, load, unknown_alerts
from kisalert.location import NO_LOCATION
from kisalert.mac import MacMask
from kisalert.rates import Limits


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, name: str = "kismet.conf") -> Config:
    return load([write(tmp_path / name, text)])


def rates(throttle: str, burst: str) -> Limits:
    return Limits.parse(throttle, burst)


def config_error(paths: list[Path]) -> str:
    with pytest.raises(ConfigError) as info:
        load(paths)
    return str(info.value)


def assert_error_names_line(tmp_path: Path, text: str, line: int) -> str:
    """Loading text as kismet.conf fails with an error naming the file and this line."""
    path = write(tmp_path / "kismet.conf", text)
    message = config_error([path])
    assert f"{path}:{line}" in message
    return message


# Shipped defaults and alert= lines


def test_shipped_defaults_without_user_files() -> None:
    config = load([])
    assert config.rates["DEAUTHFLOOD"] == rates("5/min", "2/sec")
    assert config.rates["APSPOOF"] == rates("10/min", "1/sec")
    assert config.rates["SOURCEERROR"] == rates("1/sec", "10/sec")
    assert config.rates["BCASTDISCON"] == rates("5/min", "2/sec")
    assert config.warnings == []
    # Kismet ships KISMET and the "off" alerts without a default line.
    assert "KISMET" not in config.rates
    assert "NETSTUMBLER" not in config.rates


def test_defaults_apply_only_to_names_no_user_file_mentions(tmp_path: Path) -> None:
    config = load_text(tmp_path, "alert=DEAUTHFLOOD,1/hr,1/min\nalert=MYALERT,3/min,1/sec\n")
    assert config.rates["DEAUTHFLOOD"] == rates("1/hr", "1/min")
    assert config.rates["MYALERT"] == rates("3/min", "1/sec")
    # every other default survives the user's file
    assert config.rates["APSPOOF"] == rates("10/min", "1/sec")
    assert config.rates["BCASTDISCON"] == rates("5/min", "2/sec")


def test_user_file_can_enable_an_alert_with_no_default(tmp_path: Path) -> None:
    config = load_text(tmp_path, "alert=NETSTUMBLER,10/min,1/sec\n")
    assert config.rates["NETSTUMBLER"] == rates("10/min", "1/sec")


def test_user_line_disabling_a_default_wins(tmp_path: Path) -> None:
    config = load_text(tmp_path, "alert=DEAUTHFLOOD,0/min,0/sec\n")
    assert config.rates["DEAUTHFLOOD"] == rates("0/min", "0/sec")


def test_alert_names_are_upper_cased(tmp_path: Path) -> None:
    config = load_text(tmp_path, "alert=deauthflood,1/min,1/sec\nalert= myAlert , 7 , 1/sec\n")
    assert config.rates["DEAUTHFLOOD"] == rates("1/min", "1/sec")
    assert config.rates["MYALERT"] == rates("7/min", "1/sec")
    assert "deauthflood" not in config.rates


def test_first_alert_line_wins_within_a_file(tmp_path: Path) -> None:
    config = load_text(tmp_path, "alert=FOO,1/min,1/sec\nalert=FOO,2/min,1/sec\n")
    assert config.rates["FOO"] == rates("1/min", "1/sec")


def test_first_alert_line_wins_across_user_files(tmp_path: Path) -> None:
    first = write(tmp_path / "a.conf", "alert=FOO,1/min,1/sec\nalert=DEAUTHFLOOD,3/min,1/sec\n")
    second = write(tmp_path / "b.conf", "alert=foo,2/min,1/sec\nalert=BAR,4/min,1/sec\n")
    config = load([first, second])
    assert config.rates["FOO"] == rates("1/min", "1/sec")
    assert config.rates["BAR"] == rates("4/min", "1/sec")
    assert config.rates["DEAUTHFLOOD"] == rates("3/min", "1/sec")
    config = load([second, first])
    assert config.rates["FOO"] == rates("2/min", "1/sec")


def test_first_alert_line_wins_across_includes(tmp_path: Path) -> None:
    write(tmp_path / "early.conf", "alert=FOO,1/min,1/sec\n")
    main = write(tmp_path / "main.conf", "include=early.conf\nalert=FOO,2/min,1/sec\n")
    assert load([main]).rates["FOO"] == rates("1/min", "1/sec")


@pytest.mark.parametrize(
    "line",
    [
        "alert=FOO,5/min",
        "alert=FOO",
        "alert=FOO,5/min,1/sec,1/sec",
        "alert=,5/min,1/sec",
        "alert=FOO,10x/min,1/sec",
        "alert=FOO,5/min,-1/sec",
        "alert=FOO,1.5/min,1/sec",
        "alert=FOO,5/fortnight,1/sec",
        "alert=FOO,1000001/min,1/sec",
        "alert=FOO,1/sec,1/min",
        "alert=FOO,,1/sec",
    ],
)
def test_malformed_alert_line_names_file_and_line(tmp_path: Path, line: str) -> None:
    assert_error_names_line(tmp_path, f"# header\n\nalert=GOOD,5/min,1/sec\n{line}\n", 4)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            "alert=FOO,2/min,1/hr",
            "bad rates in alert=FOO,2/min,1/hr: burst unit (hr) is longer than the throttle "
            "unit (min); give the burst per min or shorter, e.g. 2/min,1/sec",
        ),
        (
            "alert=FOO,1/sec,10",
            "bad rates in alert=FOO,1/sec,10: burst unit (min) is longer than the throttle "
            "unit (sec) ('10' is per min); give the burst per sec or shorter, e.g. 1/sec,10/sec",
        ),
        (
            "alert=FOO,5/fortnight,1/sec",
            "bad throttle rate '5/fortnight' in alert=FOO,5/fortnight,1/sec: "
            "unknown unit 'fortnight'; use sec, min, hr or day, e.g. 5/min",
        ),
        (
            "alert=FOO,5/min,1/",
            "bad burst rate '1/' in alert=FOO,5/min,1/: "
            "no unit after '/'; use sec, min, hr or day, e.g. 5/min",
        ),
        (
            "alert=FOO,5/min,-1/sec",
            "bad burst rate '-1/sec' in alert=FOO,5/min,-1/sec: "
            "the count may not be negative (0 turns the alert off), e.g. 5/min",
        ),
        (
            "alert=FOO,1.5/min,1/sec",
            "bad throttle rate '1.5/min' in alert=FOO,1.5/min,1/sec: "
            "the count '1.5' is not a whole number; write COUNT/UNIT, e.g. 5/min",
        ),
        (
            "alert=FOO,/min,1/sec",
            "bad throttle rate '/min' in alert=FOO,/min,1/sec: "
            "no count before '/'; write COUNT/UNIT, e.g. 5/min",
        ),
        (
            "alert=FOO,,1/sec",
            "bad throttle rate '' in alert=FOO,,1/sec: "
            "the rate is empty; write COUNT/UNIT, e.g. 5/min",
        ),
        (
            "alert=FOO,1000001/min,1/sec",
            "bad throttle rate '1000001/min' in alert=FOO,1000001/min,1/sec: "
            "the count 1000001 is over the maximum of 1000000, e.g. 5/min",
        ),
        (
            "alert=FOO,5/min",
            "alert= needs NAME,throttle,burst, not 2 parts; e.g. alert=ROGUEAP,5/min,1/sec",
        ),
        (
            "alert=,5/min,1/sec",
            "alert= needs a name before the first ','; e.g. alert=ROGUEAP,5/min,1/sec",
        ),
    ],
    ids=lambda value: value if value.startswith("alert=") else "says",
)
def test_a_bad_alert_line_says_what_is_wrong(tmp_path: Path, line: str, says: str) -> None:
    """Issue 13 item 15: not just "bad rate", but why, with a rate that would do."""
    path = write(tmp_path / "kismet.conf", f"{line}\n")
    assert config_error([path]) == f"{path}:1: {says}"


def test_an_alert_line_for_no_built_in_name_is_warned_with_the_closest_name(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "kismet.conf",
        "alert=DEAUTHFLOOD,5/min,1/sec\nalert=deauthflod,5/min,1/sec\nalert=ROGUEAP,2/min,1/sec\n",
    )
    config = load([path])
    # Only the config is known: a name may still be defined over the API.
    assert unknown_alerts(config) == [
        f"{path}:2: alert=DEAUTHFLOD: no built-in alert of that name (did you mean "
        "DEAUTHFLOOD?); it applies only if the alert is defined over the API",
        f"{path}:3: alert=ROGUEAP: no built-in alert of that name; "
        "it applies only if the alert is defined over the API",
    ]
    # At a server's start, the names defined over the API are known too.
    assert unknown_alerts(config, ["ROGUEAP", "OTHER"]) == [
        f"{path}:2: alert=DEAUTHFLOD: no built-in alert of that name (did you mean "
        "DEAUTHFLOOD?), and none defined over the API; "
        "it applies once the alert is defined over the API",
    ]
    # Not among the warnings every start prints: a server start says it once, later.
    assert config.warnings == []


def test_shipped_alert_lines_are_all_built_in_and_never_warned() -> None:
    assert unknown_alerts(load([])) == []


@pytest.mark.parametrize("name", ["bad name!", "X" * 65, "A/B", "quo'te", "semi;colon", "<script>"])
def test_alert_line_with_an_invalid_name_is_an_error(tmp_path: Path, name: str) -> None:
    """model.md: alert names, from config or API, are 1-64 of [A-Za-z0-9_.-]."""
    assert_error_names_line(tmp_path, f"alert=OK,5/min,1/sec\nalert={name},5/min,1/sec\n", 2)


def test_alert_line_accepts_every_name_character(tmp_path: Path) -> None:
    config = load_text(tmp_path, f"alert=a-Z_0.9,5/min,1/sec\nalert={'N' * 64},1/min,1/sec\n")
    assert config.rates["A-Z_0.9"] == rates("5/min", "1/sec")
    assert config.rates["N" * 64] == rates("1/min", "1/sec")


def test_malformed_alert_line_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    inner = write(tmp_path / "inc" / "rates.conf", "alert=OK,1/min,1/sec\nalert=BAD,1/min\n")
    main = write(tmp_path / "main.conf", "# main\ninclude=inc/rates.conf\n")
    message = config_error([main])
    assert f"{inner}:2" in message


# File format


def test_comments_and_blank_lines(tmp_path: Path) -> None:
    text = (
        "# a comment\n"
        "\n"
        "   \n"
        "    # an indented comment with alert=FOO,1/min,1/sec\n"
        "\t\n"
        "alert=FOO,2/min,1/sec\n"
        "#alert=BAR,1/min,1/sec\n"
        "alertbacklog=7\n"
    )
    config = load_text(tmp_path, text)
    assert config.rates["FOO"] == rates("2/min", "1/sec")
    assert "BAR" not in config.rates
    assert config.backlog == 7
    assert config.warnings == []


def test_line_numbers_count_comment_and_blank_lines(tmp_path: Path) -> None:
    assert_error_names_line(tmp_path, "# one\n\n# three\nalertbacklog=-4\n", 4)


def test_line_without_equals_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    assert_error_names_line(tmp_path, "alertbacklog=5\nthis is not a setting\n", 2)


def test_include_is_relative_to_the_including_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "etc" / "sub" / "deeper.conf", "alert=DEEP,3/min,1/sec\n")
    write(tmp_path / "etc" / "sub" / "inc.conf", "include=deeper.conf\nalert=INC,2/min,1/sec\n")
    main = write(tmp_path / "etc" / "kismet.conf", "include=sub/inc.conf\nalertbacklog=9\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # a file of the same name next to the working directory must not be read
    write(elsewhere / "sub" / "inc.conf", "alert=WRONG,1/min,1/sec\n")
    monkeypatch.chdir(elsewhere)
    config = load([main])
    assert config.rates["DEEP"] == rates("3/min", "1/sec")
    assert config.rates["INC"] == rates("2/min", "1/sec")
    assert "WRONG" not in config.rates
    assert config.backlog == 9


def test_absolute_include(tmp_path: Path) -> None:
    inc = write(tmp_path / "other" / "abs.conf", "alert=ABS,4/min,1/sec\n")
    main = write(tmp_path / "etc" / "kismet.conf", f"include={inc}\n")
    assert load([main]).rates["ABS"] == rates("4/min", "1/sec")


def test_opt_include_missing_file_is_silent(tmp_path: Path) -> None:
    write(tmp_path / "present.conf", "alert=PRESENT,4/min,1/sec\n")
    main = write(
        tmp_path / "kismet.conf",
        "opt_include=missing_site.conf\nopt_include=present.conf\nalertbacklog=3\n",
    )
    config = load([main])
    assert config.rates["PRESENT"] == rates("4/min", "1/sec")
    assert config.backlog == 3
    assert config.warnings == []


def test_include_missing_file_is_an_error(tmp_path: Path) -> None:
    main = write(tmp_path / "kismet.conf", "include=missing_site.conf\n")
    message = config_error([main])
    assert "missing_site.conf" in message


def test_missing_top_level_file_is_an_error(tmp_path: Path) -> None:
    message = config_error([tmp_path / "nope.conf"])
    assert "nope.conf" in message


def test_include_loop_is_an_error_not_a_hang(tmp_path: Path) -> None:
    write(tmp_path / "a.conf", "include=b.conf\n")
    write(tmp_path / "b.conf", "include=a.conf\n")
    with pytest.raises(ConfigError):
        load([tmp_path / "a.conf"])


def test_unknown_keys_warn_once_each(tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.conf",
        "log_types=kismet\nchannel_hop=true\nchannel_hop=false\nlog_types=pcapng\nalertbacklog=5\n",
    )
    second = write(tmp_path / "b.conf", "channel_hop=true\nserver_name=Kismet\n")
    config = load([first, second])
    assert len(config.warnings) == 3
    assert sum("log_types" in w for w in config.warnings) == 1
    assert sum("channel_hop" in w for w in config.warnings) == 1
    assert sum("server_name" in w for w in config.warnings) == 1
    assert config.backlog == 5


def test_known_keys_do_not_warn(tmp_path: Path) -> None:
    text = (
        "alert=FOO,1/min,1/sec\n"
        "alertbacklog=10\n"
        "load_alert=HELLO:world\n"
        'apspoof=Corp:ssid="^corp$",validmacs="00:11:22:33:44:55"\n'
        'ssidcanary=Canary:ssid="^honeypot$"\n'
        "devicefound=00:11:22:33:44:55\n"
        "devicelost=00:11:22:00:00:00/FF:FF:FF:00:00:00\n"
        "devicefound_timeout=30\n"
        "devicelost_timeout=45\n"
        "dot11_max_signal=-20\n"
        "gps=virtual:lat=1,lon=2\n"
        "httpd_bind_address=0.0.0.0\n"
        "httpd_port=2600\n"
        "httpd_username=admin\n"
        "httpd_password=secret\n"
        "httpd_uri_prefix=/kismet\n"
        "httpd_session_timeout=60\n"
        "httpd_allow_cors=true\n"
        "httpd_allowed_origin=https://example.org\n"
        "httpd_allow_auth_view=false\n"
        "kis_log_alert_timeout=86400\n"
        "kis_log_sync=strict\n"
        "kis_log_commit_ms=50\n"
        "store=memory\n"
        "eventbus_queue=64\n"
        "eventbus_ping=2.5\n"
        "eventbus_ping_timeout=10\n"
        "httpd_head_timeout=2.5\n"
        "httpd_body_timeout=60\n"
        "httpd_console=false\n"
    )
    config = load_text(tmp_path, text)
    assert config.warnings == []
    assert config.backlog == 10
    assert config.devicefound_timeout == 30
    assert config.devicelost_timeout == 45
    assert config.dot11_max_signal == -20
    assert config.log_alert_timeout == 86400
    assert config.log_sync == "strict"
    assert config.log_commit_ms == 50
    assert config.store == "memory"
    assert config.eventbus_queue == 64
    assert config.eventbus_ping == 2.5
    assert config.eventbus_ping_timeout == 10.0
    assert (config.head_timeout, config.body_timeout) == (2.5, 60.0)
    assert config.console is False
    assert config.devicefound == [MacMask.parse("00:11:22:33:44:55")]
    assert config.devicelost[0].matches("00:11:22:AB:CD:EF")
    assert not config.devicelost[0].matches("00:11:23:AB:CD:EF")


def test_defaults_of_an_empty_config(tmp_path: Path) -> None:
    config = load_text(tmp_path, "# nothing\n")
    assert config.backlog == 50
    assert config.load_alerts == []
    assert config.apspoof == []
    assert config.ssidcanary == []
    assert config.dot11_max_signal == -10
    assert config.devicefound_timeout == 60
    assert config.devicelost_timeout == 60
    assert config.location == NO_LOCATION
    assert config.session_timeout == 7200
    assert config.allow_cors is False
    assert config.allow_auth_view is False
    assert config.log_alert_timeout == 0
    assert config.eventbus_queue == 1024
    assert config.eventbus_ping == 20.0
    assert config.eventbus_ping_timeout == 20.0
    assert (config.head_timeout, config.body_timeout) == (10.0, 20.0)
    assert config.console is True
    assert config.store == "memory"


@pytest.mark.parametrize(
    "line",
    [
        "alertbacklog=-1",
        "alertbacklog=lots",
        "devicefound=not-a-mac",
        "devicelost=00:11:22:33:44:55/zz",
        "kis_log_sync=sometimes",
        "eventbus_queue=0",
        "eventbus_ping=0",
        "eventbus_ping=often",
        "eventbus_ping=nan",
        "eventbus_ping_timeout=-1",
        "httpd_head_timeout=0",
        "httpd_body_timeout=slow",
        "httpd_body_timeout=7200",
        "httpd_console=sometimes",
        "httpd_port=0",
        "httpd_port=65536",
        "httpd_port=http",
        "httpd_allow_cors=maybe",
        # check-config took it, and the log writer died at its first prune
        "kis_log_alert_timeout=10000000000000",
        "kis_log_alert_timeout=-1",
    ],
)
def test_bad_values_name_file_and_line(tmp_path: Path, line: str) -> None:
    assert_error_names_line(tmp_path, f"alert=FOO,1/min,1/sec\n{line}\n", 2)


def test_alertbacklog_zero_is_allowed(tmp_path: Path) -> None:
    assert load_text(tmp_path, "alertbacklog=0\n").backlog == 0


# load_alert


def test_load_alert_lines(tmp_path: Path) -> None:
    text = "load_alert=STARTUP:Sensor 3 came up\nload_alert=boot: time: 12:00 \n"
    config = load_text(tmp_path, text)
    assert config.load_alerts == [("STARTUP", "Sensor 3 came up"), ("BOOT", "time: 12:00")]


@pytest.mark.parametrize("value", ["no colon here", ":text without header", "bad name!:text"])
def test_malformed_load_alert_is_an_error(tmp_path: Path, value: str) -> None:
    assert_error_names_line(tmp_path, f"load_alert={value}\n", 1)


# apspoof and ssidcanary rules


def test_apspoof_rule_with_commas_inside_quotes(tmp_path: Path) -> None:
    text = (
        'apspoof=CorpSpoof:ssid="^(corp|guest){1,2}$",'
        'validmacs="00:11:22:33:44:55,aa:bb:cc:00:00:00/ff:ff:ff:00:00:00"\n'
    )
    (rule,) = load_text(tmp_path, text).apspoof
    assert rule.name == "CorpSpoof"
    assert rule.ssid.search("corpguest") is not None
    assert rule.ssid.search("corp") is not None
    assert rule.ssid.search("corpguestcorp") is None
    assert rule.ssid.search("my corp") is None
    assert len(rule.valid_macs) == 2
    assert rule.valid_macs[0].matches("00:11:22:33:44:55")
    assert not rule.valid_macs[0].matches("00:11:22:33:44:56")
    assert rule.valid_macs[1].matches("AA:BB:CC:12:34:56")
    assert not rule.valid_macs[1].matches("AA:BB:CD:12:34:56")


def test_apspoof_ssid_pattern_is_a_search(tmp_path: Path) -> None:
    (rule,) = load_text(
        tmp_path, 'apspoof=Foo:ssid="Foobar",validmacs="00:11:22:33:44:55"\n'
    ).apspoof
    assert rule.ssid.search("My Foobar AP") is not None
    assert rule.ssid.search("foobar") is None


def test_kismet_example_lines_with_ssidregex_and_unquoted_mac(tmp_path: Path) -> None:
    # As Kismet's own documentation writes them.
    text = (
        'apspoof=Foo1:ssidregex="(?i:foobar)",validmacs=00:11:22:33:44:55\n'
        'apspoof=Foo2:ssid="Foobar",validmacs="00:11:22:33:44:55,AA:BB:CC:DD:EE:FF"\n'
        'ssidcanary=Honey:ssidregex="^honeypot$"\n'
    )
    config = load_text(tmp_path, text)
    first, second = config.apspoof
    assert first.ssid.search("FooBar") is not None
    assert [mask.matches("00:11:22:33:44:55") for mask in first.valid_macs] == [True]
    assert len(second.valid_macs) == 2
    (canary,) = config.ssidcanary
    assert canary.ssid.search("honeypot") is not None


def test_apspoof_case_insensitive_flag(tmp_path: Path) -> None:
    (rule,) = load_text(tmp_path, 'apspoof=Foo:ssid="(?i)foobar",validmacs=""\n').apspoof
    assert rule.ssid.search("FOOBAR") is not None
    assert rule.valid_macs == ()


def test_apspoof_rules_keep_file_order(tmp_path: Path) -> None:
    text = (
        'apspoof=First:ssid="a",validmacs="00:00:00:00:00:01"\n'
        'apspoof=Second:ssid="b",validmacs="00:00:00:00:00:02"\n'
    )
    assert [rule.name for rule in load_text(tmp_path, text).apspoof] == ["First", "Second"]


def test_ssidcanary_rule(tmp_path: Path) -> None:
    text = 'ssidcanary=Canary:ssid="^honey,pot{1,3}$"\nssidcanary=Other:ssid="x"\n'
    rules = load_text(tmp_path, text).ssidcanary
    assert [rule.name for rule in rules] == ["Canary", "Other"]
    assert rules[0].ssid.search("honey,pott") is not None
    assert rules[0].ssid.search("honeypot") is None
    assert rules[0].valid_macs == ()


@pytest.mark.parametrize(
    "line",
    [
        'apspoof=Foo:ssid="(unclosed",validmacs="00:11:22:33:44:55"',
        'apspoof=Foo:ssid="(a)\\1",validmacs="00:11:22:33:44:55"',
        'apspoof=Foo:ssid="foo(?=bar)",validmacs="00:11:22:33:44:55"',
        'apspoof=Foo:ssid="Foobar",validmacs="00:11:22:33:44:55,nonsense"',
        'apspoof=Foo:ssid="Foobar,validmacs="00:11:22:33:44:55"',
        'apspoof=Foo:validmacs="00:11:22:33:44:55"',
        'apspoof=:ssid="Foobar"',
        'apspoof=ssid="Foobar"',
        'ssidcanary=Canary:ssid="[z-a]"',
        'ssidcanary=Canary:ssid="unterminated',
        "ssidcanary=Canary",
    ],
)
def test_bad_ssid_rules_name_file_and_line(tmp_path: Path, line: str) -> None:
    assert_error_names_line(tmp_path, f"# rules\n{line}\n", 2)


# gps


def test_gps_virtual(tmp_path: Path) -> None:
    location = load_text(tmp_path, "gps=virtual:lat=52.5,lon=13.25,alt=34\n").location
    assert (location.lat, location.lon, location.alt, location.fix) == (52.5, 13.25, 34.0, 3)
    record = location.record(1_764_420_000_500_000)
    assert record["kismet.common.location.geopoint"] == [13.25, 52.5]
    assert record["kismet.common.location.fix"] == 3


def test_gps_virtual_without_altitude(tmp_path: Path) -> None:
    location = load_text(tmp_path, "gps=virtual:lat=-33.9,lon=151.2\n").location
    assert (location.lat, location.lon, location.fix) == (-33.9, 151.2, 3)


@pytest.mark.parametrize(
    "value",
    [
        "serial:device=/dev/ttyACM0",
        "virtual:lat=52.5",
        "virtual:lon=13.4",
        "virtual:lat=north,lon=13.4",
        "virtual:lat=91,lon=0",
        "virtual:lat=0,lon=181",
    ],
)
def test_bad_gps_names_file_and_line(tmp_path: Path, value: str) -> None:
    assert_error_names_line(tmp_path, f"gps={value}\n", 1)


# httpd_* and store


def test_httpd_keys(tmp_path: Path) -> None:
    text = (
        "httpd_bind_address=0.0.0.0\n"
        "httpd_port=2600\n"
        "httpd_username=admin\n"
        "httpd_password=s3cret=yes\n"
        "httpd_uri_prefix=/kismet/\n"
        "httpd_session_timeout=600\n"
        "httpd_allow_cors=true\n"
        "httpd_allowed_origin=https://console.example.org\n"
        "httpd_allow_auth_view=true\n"
    )
    config = load_text(tmp_path, text)
    assert config.bind_address == "0.0.0.0"
    assert config.port == 2600
    assert config.username == "admin"
    assert config.password == "s3cret=yes"
    assert config.uri_prefix == "/kismet"
    assert config.session_timeout == 600
    assert config.allow_cors is True
    assert config.allowed_origin == "https://console.example.org"
    assert config.allow_auth_view is True
    assert config.warnings == []


def test_httpd_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, "alertbacklog=1\n")
    assert config.bind_address is None
    assert config.port is None
    assert config.username is None
    assert config.password is None
    assert config.uri_prefix == ""


def test_username_without_password_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_text(tmp_path, "httpd_username=admin\n")


def test_store_redis_is_rejected_with_a_clear_error(tmp_path: Path) -> None:
    message = assert_error_names_line(tmp_path, "alertbacklog=5\nstore=redis\n", 2)
    assert "store" in message
    assert "redis" in message
