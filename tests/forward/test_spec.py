"""`forward=` lines: the name, the kind, the options, and one-line errors naming the
file and line, as every other config key gives them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kisalert.config import ConfigError, build, check, parse_text
from kisalert.forward import OUTPUTS
from kisalert.forward.base import OutputSpec, SpecError
from kisalert.forward.spec import parse_options, parse_spec, settings
from kisalert.rates import Rate, Unit

UDP = "target=udp://127.0.0.1:514"
KINDS = ", ".join(sorted(OUTPUTS))  # as errors list them


def config_of(text: str) -> list[OutputSpec]:
    return build(parse_text(text, "k.conf", Path(".")), []).forward


def config_error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        config_of(text)
    return str(caught.value)


def test_a_line_becomes_a_spec_with_its_options() -> None:
    specs = config_of(f"forward=siem:type=syslog,{UDP},min_severity=HIGH,rate=10/min\n")
    assert specs == [
        OutputSpec(
            "siem",
            "syslog",
            {"type": "syslog", "target": "udp://127.0.0.1:514", "min_severity": "HIGH",
             "rate": "10/min"},
        )
    ]  # fmt: skip


def test_lines_keep_their_order() -> None:
    text = f"forward=b:type=syslog,{UDP}\nforward=a:type=SYSLOG,{UDP}\n"
    specs = config_of(text)
    assert [(spec.name, spec.kind) for spec in specs] == [("b", "syslog"), ("a", "syslog")]


def test_quoted_values_hold_commas_and_keep_spaces() -> None:
    options = parse_options('type=syslog, text="a, b ,c", headers = "X|Y" ,hostname=h')
    assert options == {"type": "syslog", "text": "a, b ,c", "headers": "X|Y", "hostname": "h"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('text="abc', "unterminated quote in option 'text'"),
        ('text="a"b', "expected ',' after option 'text'"),
        ("text=a,text=b", "option 'text' given twice"),
        ("=a", "an option with no name before '='"),
        ("type=syslog,oops", "expected option=value, not 'oops'"),
    ],
)
def test_unreadable_options(text: str, problem: str) -> None:
    with pytest.raises(SpecError, match="^" + problem.replace("|", r"\|") + "$"):
        parse_options(text)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("forward=siem", "forward= needs NAME:type=KIND,...; e.g. forward=siem:type=syslog,"),
        ("forward=:type=syslog", "forward= needs NAME:type=KIND"),
        ("forward=a/b:type=syslog", "bad output name 'a/b'"),
        ("forward=..:type=syslog", "bad output name '..'"),
        ("forward=siem:target=udp://h:1", f"forward=siem needs type=KIND ({KINDS})"),
        ("forward=siem:type=pigeon", f"forward=siem: unknown type 'pigeon'; use {KINDS}"),
        ("forward=siem:type=syslog", "forward=siem: type=syslog needs target="),
        (f"forward=siem:type=syslog,{UDP},colour=red", "unknown option 'colour' for type=syslog"),
        ("forward=siem:type=syslog,target=ftp://h", "target='ftp://h' must be udp://HOST:PORT"),
        ("forward=siem:type=syslog,target=udp://:514", "target='udp://:514' names no host"),
        ("forward=siem:type=syslog,target=tcp://h:x", "has a port that is not a number"),
        ("forward=siem:type=syslog,target=unix://", "the socket file needs an absolute path"),
        # The one slash short became the relative path dev/log.
        ("forward=siem:type=syslog,target=unix://dev/log", "write unix:///PATH (three slashes)"),
        ("forward=siem:type=syslog,target=unix:dev/log", "needs an absolute path"),
        ("forward=siem:type=syslog,target=tcp://h:65536", "a port that is out of range (1-65535)"),
        ("forward=siem:type=syslog,target=tcp://h:0", "has port 0: use a port from 1 to 65535"),
        # Both were dropped without a word.
        ("forward=siem:type=syslog,target=tcp://u:pw@h:514", "syslog takes no user or password"),
        ("forward=siem:type=syslog,target=tcp://h:514?token=x", "has no ?query or #fragment"),
        (f"forward=siem:type=syslog,{UDP},facility=local9", "facility='local9': use 0-23"),
        (f"forward=siem:type=syslog,{UDP},format=xml", "format='xml': use text or json"),
        (f"forward=siem:type=syslog,{UDP},tls_verify=false", "need a tls:// target"),
        ("forward=siem:type=syslog,target=tls://h:1,tls_verify=maybe", "true or false"),
        ("forward=siem:type=syslog,target=tls://h:1,tls_ca=/no/such.pem", "tls_ca='/no/such"),
        (f"forward=siem:type=syslog,{UDP},min_severity=LOUD", "min_severity needs a number"),
        (f"forward=siem:type=syslog,{UDP},phys=Wifi", "unknown phy 'Wifi'"),
        (f"forward=siem:type=syslog,{UDP},headers=|", "headers needs one or more names"),
        (f'forward=siem:type=syslog,{UDP},text="a("', "bad text pattern: missing )"),
        (f"forward=siem:type=syslog,{UDP},rate=5/fortnight", "bad rate '5/fortnight'"),
        (f"forward=siem:type=syslog,{UDP},rate=0/min", "rate=0 would forward nothing"),
        (f"forward=siem:type=syslog,{UDP},queue=1.5", "queue needs a whole number"),
        (f"forward=siem:type=syslog,{UDP},retry_max=0", "retry_max=0 is out of range"),
        (f"forward=siem:type=syslog,{UDP},timeout=nan", "timeout=nan is out of range"),
    ],
)
def test_config_errors_name_the_line_and_say_why(line: str, message: str) -> None:
    problem = config_error(f"# comment\n{line}\n")
    assert problem.startswith("k.conf:2: "), problem
    assert message in problem
    assert "\n" not in problem


def test_a_second_output_of_one_name_is_an_error() -> None:
    problem = config_error(f"forward=siem:type=syslog,{UDP}\nforward=siem:type=syslog,{UDP}\n")
    assert problem == "k.conf:2: forward=siem: an output of that name is already defined"


def test_check_config_lists_every_bad_forward_line(tmp_path: Path) -> None:
    conf = tmp_path / "k.conf"
    conf.write_text(
        f"forward=a:type=syslog,{UDP}\nforward=b:type=nope\nforward=a:type=syslog,{UDP}\n"
    )
    errors, _ = check([conf])
    assert errors == [
        f"{conf}:2: forward=b: unknown type 'nope'; use {KINDS}",
        f"{conf}:3: forward=a: an output of that name is already defined",
    ]


def test_settings_have_defaults_and_take_the_runner_options() -> None:
    plain = settings(parse_spec(f"x:type=syslog,{UDP}"))
    assert (plain.rate, plain.queue, plain.retry_max, plain.timeout) == (None, 10_000, 60.0, 30.0)
    assert plain.cap() is None
    tuned = settings(
        parse_spec(f"x:type=syslog,{UDP},rate=10,queue=5,retry_max=2.5,timeout=1,min_severity=10")
    )
    assert tuned.rate == Rate(10, Unit.MINUTE)  # a bare count is per minute, as in alert=
    assert (tuned.queue, tuned.retry_max, tuned.timeout) == (5, 2.5, 1.0)
    assert tuned.filter.min_severity == 10
    assert tuned.cap() is not None
