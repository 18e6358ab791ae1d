"""Hypothesis strategies for plausible-but-hostile input: values shaped like what the
API expects (command dictionaries, `fields`, `regex`, rates, MACs, path numbers)
with the edges a hostile client would try, rather than uniformly random text.

JSON is written by `to_json`, not `json.dumps`, so that a body can hold what no
encoder emits: raw number tokens (`1e308`, `-0.0`, `NaN`, 5 000-digit integers),
escaped lone surrogates, and objects with repeated keys.
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.records import ALERT_KEYS, DEFINITION_KEYS


@dataclass(frozen=True)
class Raw:
    """A JSON token written as it is."""

    text: str


@dataclass(frozen=True)
class Pairs:
    """A JSON object written key by key, so a key may repeat."""

    items: tuple[tuple[str, Any], ...]


def to_json(value: Any, ascii_only: bool = True) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Pairs | dict):
        items = value.items if isinstance(value, Pairs) else tuple(value.items())
        inner = ",".join(
            json.dumps(key, ensure_ascii=ascii_only) + ":" + to_json(item, ascii_only)
            for key, item in items
        )
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(item, ascii_only) for item in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)  # NaN and Infinity as bare tokens


def encode(text: str) -> bytes:
    """UTF-8, with lone surrogates written as the bytes a careless encoder would emit."""
    return text.encode("utf-8", "surrogatepass")


# Text

TRICKY_TEXT = [
    "",
    " ",
    "ſsid",  # upper-cases to SSID
    "ıd",
    "ﬃ",
    "\u212a",  # Kelvin sign, upper-cases to K
    "ß",
    "İ",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # fullwidth digits
    "²",
    "\x00",
    "a\x00b",
    "\r\n",
    "line\nbreak",
    "\u2028",
    "\x85",
    "\ufeff",
    "\u202e",
    "<script>alert(1)</script>",
    "'\"\\",
    "%s%n%x",
    "%00",
    "../../etc/passwd",
    "😀",
    "e\u0301",
    "\ud800",  # a lone surrogate: not UTF-8 at all
    "\udfff\ud800",
    "A" * 64,
    "A" * 65,
    "null",
    "*",
]

short_text = st.one_of(
    st.text(max_size=24),
    st.sampled_from(TRICKY_TEXT),
    st.text(st.characters(exclude_categories=()), max_size=8),  # surrogates too
)
# Around the 16 KiB limits of alert text and `fields`, and past them.
long_text = st.builds(
    operator.mul,
    st.sampled_from(["a", "é", "😀", "\x00", "ab\n", "\ud800"]),
    st.sampled_from([1000, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 40_000]),
)
hostile_text = st.one_of(short_text, short_text, short_text, long_text)

RAW_NUMBERS = [
    "1e308",
    "-1e303",
    "1e309",
    "-1e400",
    "1e-400",
    "-0.0",
    "-0",
    "0e0",
    "2.0",
    "5.0",
    "10.0",
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "4294967295",
    "4294967296",
    "1" * 4301,
    "0x10",
    "01",
    ".5",
    "1.",
    "+1",
    "1e2",
]
RAW_STRINGS = [
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"\\ud83d\\ude00"',
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\uffff"',
    '"\\u12"',
    '"\\x41"',
    "'single'",
    '"tab\there"',
]


def _scalars(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        text,
        st.sampled_from(RAW_NUMBERS + RAW_STRINGS).map(Raw),
    )


def _pairs(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Pairs]:
    keys = st.sampled_from(["a", "name", "fields", "regex", ""])
    return st.lists(st.tuples(keys, values), max_size=4).map(lambda items: Pairs(tuple(items)))


def _nested(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8), children, max_size=4),
            _pairs(children),
        ),
        max_leaves=10,
    )


json_scalar = _scalars(hostile_text)
json_value = _nested(json_scalar)
# Without long strings: for the odd entries of lists that are themselves repeated.
small_json = _nested(_scalars(short_text))


def plausible(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `good`, sometimes any JSON value at all."""
    return st.one_of(good, good, good, json_value)


def command(
    keys: dict[str, st.SearchStrategy[Any]], required: tuple[str, ...] = ()
) -> st.SearchStrategy[Any]:
    """A command dictionary with these keys (each present or not; `required` ones
    usually present), sometimes extra keys, repeated keys, or not an object at all."""
    optional = {key: plausible(value) for key, value in keys.items() if key not in required}
    mandatory = {key: plausible(keys[key]) for key in required}
    base = st.fixed_dictionaries(mandatory, optional=optional)

    def with_extras(args: dict[str, Any], extra: dict[str, Any], repeat: bool) -> Any:
        merged = {**args, **extra}
        if repeat and merged:
            first = next(iter(merged.items()))
            return Pairs((*merged.items(), first, (first[0], None)))
        return merged

    shaped = st.builds(
        with_extras,
        base,
        st.dictionaries(st.text(max_size=10), json_scalar, max_size=2),
        st.booleans(),
    )
    partial = st.fixed_dictionaries(
        {}, optional={key: plausible(value) for key, value in keys.items()}
    )
    return st.one_of(shaped, shaped, shaped, partial, json_value)


# Field paths, `fields` and `regex`

KNOWN_FIELDS = [
    *ALERT_KEYS,
    *DEFINITION_KEYS,
    "kismet.common.location.geopoint",
    "kismet.common.location.alt",
    "kismet.messagebus.message_string",
    "kismet.system.timestamp.sec",
]

field_name = st.one_of(
    st.sampled_from(KNOWN_FIELDS),
    st.sampled_from(KNOWN_FIELDS),
    st.text(max_size=12),
    st.sampled_from(TRICKY_TEXT),
)
field_path = st.builds(
    lambda parts, sep, lead, trail: lead + sep.join(parts) + trail,
    st.lists(field_name, max_size=4),
    st.sampled_from(["/", "/", "//", "\\", "."]),
    st.sampled_from(["", "", "/"]),
    st.sampled_from(["", "", "/"]),
)

known_path = st.one_of(
    st.sampled_from(KNOWN_FIELDS),
    st.sampled_from(
        ["kismet.alert.location/kismet.common.location.geopoint", "/kismet.alert.text/"]
    ),
)


def entries(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Entries of a `fields` or `regex` list: mostly `good`, else nearly right."""
    return st.one_of(
        good,
        good,
        st.tuples(field_path, short_text).map(list),
        st.lists(field_path, max_size=3),
        small_json,
    )


good_field = st.one_of(known_path, st.tuples(known_path, short_text).map(list))
fields_entry = st.one_of(entries(good_field), field_path)
fields_spec = st.one_of(
    st.lists(good_field, max_size=12),
    st.lists(fields_entry, max_size=12),
    # Near and over the limits (256 entries, 16 384 characters), cheaply.
    st.builds(operator.mul, st.lists(good_field, min_size=1, max_size=2), st.integers(120, 160)),
    st.builds(
        lambda name, n, rename: [[name * n, rename * n]],
        st.sampled_from(["a", "kismet.alert.text", "é"]),
        st.sampled_from([100, 455, 8192, 8193, 16 * 1024]),
        st.sampled_from(["", "b", "x"]),
    ),
    small_json,
)

# RE2 pieces: valid, invalid, RE2-incompatible (look-around, backreferences), and
# repetitions whose compiled programs grow large.
REGEX_PIECES = [
    "a",
    ".",
    ".*",
    "^",
    "$",
    "(?i)",
    "(?i:ab)",
    "[a-z]",
    "[^0-9]",
    "\\d",
    "\\w+",
    "\\pL",
    "\\p{Greek}",
    "\\PN",
    "[\\pL\\pN]",
    "(a|b)",
    "x{2,5}",
    "{1000}",
    "{1001}",
    "{100}",
    "{10}",
    "(",
    ")",
    "[",
    "]",
    "*",
    "+?",
    "\\1",
    "(?=a)",
    "(?<=a)",
    "(?!a)",
    "(?P<n>a)",
    "(?P=n)",
    "\\",
    "\\Q",
    "\\E",
    "\\C",
    "(?s)",
    "(?U)",
    "\\z",
    "\\Z",
    "[[:alpha:]]",
    "\x00",
    "é",
    "😀",
    "|",
    "(a*)*",
    "DEAUTH",
    "HIGH|CRITICAL",
]
# A repeated class: programs from a few instructions to past RE2's memory limit.
repetition = st.builds(
    lambda group, count: f"{group}{{{count}}}",
    st.sampled_from(["a", ".", "\\pL", "[\\pL\\pN]", "(?i)\\w", "\\PN", "(ab|\\pL)"]),
    st.one_of(st.integers(0, 1001), st.sampled_from([50, 100, 200, 400, 1000])),
)
pattern = st.one_of(
    st.builds("".join, st.lists(st.sampled_from(REGEX_PIECES), max_size=10)),
    repetition,
    repetition,
    st.text(max_size=20),
    st.builds(
        operator.mul,
        st.sampled_from(["a", ".", "\\pL", "(a|b)"]),
        st.sampled_from([255, 341, 512, 1024, 1025]),
    ),
)
good_rule = st.tuples(known_path, pattern).map(list)
regex_rule = entries(good_rule)
regex_spec = st.one_of(
    st.lists(good_rule, max_size=6),
    st.lists(regex_rule, max_size=6),
    # At and over the limit of 64 rules.
    st.builds(
        operator.mul, st.lists(good_rule, min_size=1, max_size=2), st.sampled_from([32, 33, 64])
    ),
    st.lists(good_rule, min_size=60, max_size=66),
    small_json,
)

# Rates, MACs, names

RATE_UNITS = [
    "sec",
    "second",
    "min",
    "minute",
    "hr",
    "hour",
    "day",
    "SEC",
    "Min",
    "week",
    "ms",
    "",
    "s",
]
rate = st.one_of(
    st.builds(
        lambda n, sep, unit, pad: f"{pad}{n}{pad}{sep}{pad}{unit}{pad}",
        st.one_of(
            st.integers(min_value=-5, max_value=1_000_001).map(str),
            st.sampled_from(
                ["1.5", "1e3", "10x", "", "١٠", "１０", "0x10", "99999999999999999999", "+5", "-1"]
            ),
        ),
        st.sampled_from(["/", "/", "//", "\\", " / "]),
        st.sampled_from(RATE_UNITS),
        st.sampled_from(["", "", " ", "\t"]),
    ),
    st.integers(min_value=0, max_value=2_000_000).map(str),
    hostile_text,
)


def _mac_text(groups: list[str], sep: str, case: str) -> str:
    text = sep.join(groups)
    return text.upper() if case == "upper" else text.lower() if case == "lower" else text


mac = st.one_of(
    st.builds(
        _mac_text,
        st.lists(st.from_regex(r"[0-9a-fA-F]{1,2}", fullmatch=True), min_size=4, max_size=8),
        st.sampled_from([":", "-", ".", "", ":-"]),
        st.sampled_from(["upper", "lower", "as is"]),
    ),
    st.from_regex(r"\s*[0-9a-fA-F]{10,14}\s*", fullmatch=True),
    st.sampled_from(
        [
            "",
            " ",
            "00:11:22:33:44:55",
            "00:11:22:00:00:00/FF:FF:FF:00:00:00",
            "0:1:2:3:4:5",
            "00:11:22:33:44:55:66",
            "00:11:22:33:44",
            "0011.2233.4455",
            "００:１１:２２:３３:４４:５５",
            "٠٠:١١:٢٢:٣٣:٤٤:٥٥",
            "gg:hh:ii:jj:kk:ll",
            "001122334455\x00",
            "00:11:22:33:44:55 ",
            "\t00-11-22-33-44-55\n",
            "000:11:22:33:44:55",
            "::::::",
        ]
    ),
    hostile_text,
)

# Names that could be valid come from small pools: every new valid name is a
# definition or a key the server keeps for good, which would read as a leak.
NAMES = ["FUZZ", "fuzz", "FuZz", "FUZZDEF1", "FUZZDEF2", "DEAUTHFLOOD", "NOSUCHALERT"]
NAME_RULE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
invalid_name = hostile_text.filter(lambda text: NAME_RULE.fullmatch(text) is None)
name = st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), invalid_name)
PHYS = [
    "IEEE802.11",
    "ieee802.11",
    "Bluetooth",
    "any",
    "ANY",
    "",
    "RADIATION",
    "802.15.4",
    "nosuchphy",
]

raise_command = command(
    {
        "name": name,
        "text": hostile_text,
        "bssid": mac,
        "source": mac,
        "dest": mac,
        "other": mac,
        "channel": hostile_text,
    },
    required=("name", "text"),
)
define_command = command(
    {
        "name": name,
        "description": hostile_text,
        "class": st.one_of(st.sampled_from(["OTHER", "spoof", "DENIAL"]), hostile_text),
        "severity": st.one_of(
            st.sampled_from([0, 5, 10, 15, 20]),
            st.integers(),
            st.sampled_from(["10", 10.0, True, -0.0]),
        ),
        "throttle": rate,
        "burst": rate,
        "phyname": st.one_of(st.sampled_from(PHYS), hostile_text),
    },
    required=("name", "description"),
)
# Never the suite's own readonly key. Any text of 1-128 characters names a key.
KEY_NAMES = ["fuzzkey1", "fuzzkey2", "FUZZKEY1", *TRICKY_TEXT]
apikey_command = command(
    {
        "name": st.one_of(
            st.sampled_from(KEY_NAMES), hostile_text.filter(lambda text: not 0 < len(text) <= 128)
        ),
        "role": st.one_of(
            st.sampled_from(["readonly", "admin", "logon", "nosuchrole"]), hostile_text
        ),
        "duration": st.one_of(
            st.integers(min_value=-(2**65), max_value=2**65),
            st.sampled_from(
                [0, 60, 2**64 - 1, 100 * 366 * 86400, 100 * 366 * 86400 + 1, 1.5, "60"]
            ),
        ),
    },
    required=("name", "role", "duration"),
)
moment = st.one_of(
    st.integers(min_value=-(2**65), max_value=2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "2026-12-31T18:00:00Z",
            "2026-12-31T18:00:00",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00Z",
            "1e308",
            "-1e303",
            "nan",
            "inf",
            "2h",
            "-5m",
            "10w",
            "99999999999999999999d",
            True,
            None,
        ]
    ),
    hostile_text,
)
silence_command = command(
    {
        "header": st.one_of(st.sampled_from(["FUZZ", "FUZZ|DEAUTHFLOOD", "", "|"]), hostile_text),
        "mac": mac,
        "transmitter": mac,
        "bssid": mac,
        "source": mac,
        "dest": mac,
        "other": mac,
        "channel": hostile_text,
        "text": st.one_of(pattern, hostile_text),
        "comment": hostile_text,
        "duration": moment,
        "expires": moment,
        "starts": moment,
    },
    required=("comment", "duration"),
)
view_command = command(
    {
        "fields": fields_spec,
        "regex": regex_spec,
        "datatable": st.one_of(st.booleans(), st.just(True), json_scalar),
        "colmap": st.one_of(
            st.dictionaries(
                st.sampled_from(["0", "1", "2", "-1", "x"]),
                st.one_of(field_path, st.lists(field_path, max_size=2), json_scalar),
                max_size=3,
            ),
            json_value,
        ),
    }
)

# HTTP variables of the view (query string or form fields beside `json`)

number_text = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        [
            "",
            " 5 ",
            "1e3",
            "1.5",
            "-0",
            "+3",
            "0x1f",
            "１２",
            "٣",
            "1_000",
            "9" * 5000,
            "nan",
            "inf",
            "5\x00",
        ]
    ),
)
VIEW_VARIABLES = {
    "page": number_text,
    "length": number_text,
    "size": number_text,
    "start": number_text,
    "draw": number_text,
    "order[0][column]": number_text,
    "sort": field_path,
    "sort_dir": st.sampled_from(["asc", "desc", "ASC", "", "sideways"]),
    "order[0][dir]": st.sampled_from(["asc", "desc", "", "x"]),
    "search": hostile_text,
    "search[value]": hostile_text,
}
view_variables = st.fixed_dictionaries({}, optional=VIEW_VARIABLES)

# Path parameters

FORMATS = ["json", "ekjson", "itjson", "prettyjson"]
fmt = st.one_of(
    st.sampled_from(FORMATS),
    st.sampled_from(FORMATS),
    st.sampled_from(
        [
            "JSON",
            "json.",
            "jsonp",
            "txt",
            "cmd",
            "",
            "json%00",
            "json%2Fx",
            "js%6Fn",
            "x" * 1000,
            "ｊｓｏｎ",
            "json ",
        ]
    ),
    st.text(max_size=8),
)
path_timestamp = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.sampled_from(
        [
            "1e308",
            "-1e303",
            "1e999",
            "-1e999",
            "inf",
            "-inf",
            "nan",
            "Infinity",
            "1764420000.123456.0",
            "12abc",
            "-",
            ".",
            "+5",
            "-60",
            "0x10",
            "١٢٣",
            "９",
            "9" * 5000,
            "-" + "9" * 400,
            "0." + "0" * 1000 + "1",
            "1e-999",
            "1E+5",
            "%20",
            " 5",
            "",
        ]
    ),
    st.text(max_size=10),
)
alert_id = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**65).map(str),
    st.sampled_from(
        [
            "0",
            "00000000001",
            "4294967295",
            "4294967296",
            "9223372036854775808",
            "1" * 4301,
            "0" * 5000 + "1",
            "+1",
            "-0",
            "1e3",
            "0x1",
            "١",
            "１",
            "",
            "1 ",
        ]
    ),
    st.text(max_size=10),
)

# Routes, with their parameters, and the formats they answer in

ROUTES: list[tuple[str, list[str]]] = [
    ("/alerts/definitions.{fmt}", ["GET", "POST"]),
    ("/alerts/all_alerts.{fmt}", ["GET", "POST"]),
    ("/alerts/last-time/{ts}/alerts.{fmt}", ["GET", "POST"]),
    ("/alerts/wrapped/last-time/{ts}/alerts.{fmt}", ["GET", "POST"]),
    ("/alerts/alerts_view.{fmt}", ["GET", "POST"]),
    ("/alerts/by-id/{id}/alert.{fmt}", ["GET", "POST"]),
    ("/alerts/definitions/define_alert.cmd", ["POST"]),
    ("/alerts/definitions/state.{fmt}", ["GET", "POST"]),
    ("/alerts/raise_alerts.cmd", ["POST"]),
    ("/alerts/raise_alert.cmd", ["POST"]),
    ("/messagebus/all_messages.{fmt}", ["GET", "POST"]),
    ("/messagebus/last-time/{ts}/messages.{fmt}", ["GET", "POST"]),
    ("/system/timestamp.{fmt}", ["GET"]),
    ("/sources/all_sources.{fmt}", ["GET", "POST"]),
    ("/forward/status.{fmt}", ["GET"]),
    ("/forward/silences/all_silences.{fmt}", ["GET", "POST"]),
    ("/forward/silences/create.cmd", ["POST"]),
    ("/forward/silences/by-id/{id}/expire.cmd", ["POST"]),
    ("/session/check_session", ["GET"]),
    ("/session/check_login", ["GET"]),
    ("/session/whoami.{fmt}", ["GET"]),
    ("/session/login", ["POST"]),
    ("/session/logout", ["POST"]),
    ("/session/check_setup_ok", ["GET"]),
    ("/session/set_password", ["POST"]),
    ("/healthz", ["GET"]),
    ("/auth/apikey/generate.cmd", ["POST"]),
    ("/auth/apikey/revoke.cmd", ["POST"]),
    ("/auth/apikey/list.{fmt}", ["GET", "POST"]),
    ("/eventbus/events.ws", []),
    ("/metrics", ["GET"]),
    ("/", ["GET"]),
    ("/static/{id}/{fmt}", ["GET"]),
    ("/nosuch/route.json", []),
]

METHODS = [
    "GET",
    "POST",
    "HEAD",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "TRACE",
    "get",
    "FOO",
    "PROPFIND",
    "M-SEARCH",
]


def percent_encode(text: str, style: str) -> str:
    """A path segment or query value as a client might write it: encoded, partly
    encoded, raw, or with broken escapes."""
    if style == "quoted":
        return quote(text, safe="", errors="surrogatepass")
    if style == "all":
        return "".join(f"%{b:02X}" for b in encode(text))
    if style == "broken":
        return quote(text, safe="", errors="surrogatepass") + "%"
    if style == "bad-hex":
        return "%zz" + quote(text, safe="", errors="surrogatepass") + "%f"
    if style == "invalid-utf8":
        return quote(text, safe="", errors="surrogatepass") + "%ff%fe%c0%80"
    return quote(text, safe="/:@!$&'()*+,;=-._~%", errors="surrogatepass")  # "raw"-ish


ENCODINGS = ["quoted", "quoted", "raw", "raw", "all", "broken", "bad-hex", "invalid-utf8"]

QUERY_KEYS = [
    "json",
    "KISMET",
    "user",
    "password",
    *VIEW_VARIABLES,
    "callback",
    "",
]
query_pairs = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=6)),
        st.one_of(hostile_text, number_text, st.just("admin")),
        st.sampled_from(ENCODINGS),
    ),
    max_size=6,
)


def query_string(pairs: list[tuple[str, str, str]], joiner: str) -> str:
    parts = []
    for key, value, style in pairs:
        k = percent_encode(key, "quoted")
        parts.append(
            k if style == "broken" and not value else f"{k}={percent_encode(value, style)}"
        )
    return joiner.join(parts)
