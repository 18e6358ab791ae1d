"""`forward=NAME:type=KIND,option=value,...` config lines.

A value in double quotes may hold commas (`headers="A|B"`, `text="a, b"`); it ends at
the next double quote, as in `apspoof=` rules. Every problem is one line (SpecError),
which config.py prefixes with the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kisalert.forward import OUTPUTS
from kisalert.forward.base import OutputSpec, SpecError
from kisalert.forward.filter import OutputFilter
from kisalert.forward.ratecap import RateCap
from kisalert.options import OptionError, option_pairs
from kisalert.rates import Rate, RateError

EXAMPLE = "e.g. forward=siem:type=syslog,target=udp://127.0.0.1:514"
# Also a file name (the cursor): no '/', and no name that is all dots.
NAME_RULE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
FILTER_OPTIONS = frozenset({"min_severity", "headers", "classes", "phys", "text"})
# Options the runner reads, whatever the kind.
RUNNER_OPTIONS = FILTER_OPTIONS | {"type", "rate", "queue", "retry_max", "timeout", "window"}
DEFAULT_QUEUE = 10_000
DEFAULT_RETRY_MAX = 60.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_WINDOW = 0.0  # a kind may have another (Kind.defaults)


@dataclass(frozen=True, slots=True)
class Settings:
    """What the runner makes of an output's options."""

    filter: OutputFilter
    rate: Rate | None
    queue: int  # alerts kept for it without a log (--memory)
    retry_max: float  # seconds: the longest wait between attempts
    timeout: float  # seconds a send may take before it is retried
    window: float  # seconds a batch gathers from its first alert before it goes

    def cap(self) -> RateCap | None:
        return RateCap(self.rate) if self.rate is not None else None


def parse_options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    try:
        pairs = option_pairs(text)
    except OptionError as exc:
        raise SpecError(str(exc)) from None
    for key, value in pairs:
        if value is None:
            if key:
                raise SpecError(f"expected option=value, not {key!r}")
            continue
        if not key:
            raise SpecError("an option with no name before '='")
        if key in options:
            raise SpecError(f"option {key!r} given twice")
        options[key] = value
    return options


def parse_spec(text: str) -> OutputSpec:
    """A `forward=` value, checked: the name, the kind and its options (all known,
    the required ones there, each value usable). Raises SpecError."""
    name, colon, rest = text.strip().partition(":")
    name = name.strip()
    if not colon or not name:
        raise SpecError(f"forward= needs NAME:type=KIND,...; {EXAMPLE}")
    if not NAME_RULE.fullmatch(name) or not name.isascii():
        raise SpecError(f"bad output name {name!r}: use 1-64 letters, digits, '_', '-', '.'")
    options = parse_options(rest)
    kind = options.get("type", "").lower()
    kinds = ", ".join(sorted(OUTPUTS))
    if not kind:
        raise SpecError(f"forward={name} needs type=KIND ({kinds})")
    found = OUTPUTS.get(kind)
    if found is None:
        raise SpecError(f"forward={name}: unknown type {kind!r}; use {kinds}")
    for key in options:
        if key not in RUNNER_OPTIONS and key not in found.options:
            raise SpecError(f"forward={name}: unknown option {key!r} for type={kind}")
    for key in sorted(found.required):
        if not options.get(key):
            raise SpecError(f"forward={name}: type={kind} needs {key}=")
    spec = OutputSpec(name, kind, options)
    try:
        settings(spec)
        found.build(spec)
    except SpecError as exc:
        raise SpecError(f"forward={name}: {exc}") from None
    return spec


def _number(spec: OutputSpec, key: str, default: float, low: float, high: float) -> float:
    text = spec.options.get(key)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SpecError(f"{key} needs a number, not {text!r}") from None
    if not low <= value <= high:  # also refuses nan
        raise SpecError(f"{key}={text} is out of range ({low:g} to {high:g})")
    return value


def _whole(spec: OutputSpec, key: str, default: int, low: int, high: int) -> int:
    text = spec.options.get(key)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit():
        raise SpecError(f"{key} needs a whole number, not {text!r}")
    if not low <= int(text) <= high:
        raise SpecError(f"{key}={text} is out of range ({low} to {high})")
    return int(text)


def settings(spec: OutputSpec) -> Settings:
    """The runner's options of `spec`, its kind's defaults where the line gives
    none. Raises SpecError."""
    kind = OUTPUTS.get(spec.kind)
    if kind is not None and kind.defaults:
        spec = OutputSpec(spec.name, spec.kind, {**kind.defaults, **spec.options})
    rate: Rate | None = None
    if "rate" in spec.options:
        try:
            rate = Rate.parse(spec.options["rate"])
        except RateError as exc:
            raise SpecError(f"bad rate {spec.options['rate']!r}: {exc}") from None
        if rate.count == 0:
            raise SpecError("rate=0 would forward nothing; leave the output out instead")
    return Settings(
        filter=OutputFilter.parse({k: v for k, v in spec.options.items() if k in FILTER_OPTIONS}),
        rate=rate,
        queue=_whole(spec, "queue", DEFAULT_QUEUE, 1, 10_000_000),
        retry_max=_number(spec, "retry_max", DEFAULT_RETRY_MAX, 0.1, 86_400),
        timeout=_number(spec, "timeout", DEFAULT_TIMEOUT, 0.1, 3600),
        window=_number(spec, "window", DEFAULT_WINDOW, 0, 86_400),
    )
