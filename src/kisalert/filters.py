"""Regex filters: the `regex` command key keeps records whose fields match any pattern;
kisalert's `regex_all` keeps those that match every one (the console's filters)."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Any

from kisalert.errors import AlertError
from kisalert.fields import field_texts
from kisalert.patterns import Pattern, PatternError, compile_bounded

Filter = Callable[[dict[str, Any]], bool]

# Each rule is compiled and then run over every record read: thousands of them held
# the event loop for seconds. Real filters have a handful.
MAX_RULES = 64
MAX_PATTERN = 1024  # characters
# Parsing and compiling hold the interpreter, so all of a request's patterns together
# are bounded: in length, where a Unicode class (`\pL`, `\P{Greek}`) costs as much to
# parse as UNICODE_CLASS_COST characters (each letter class is a table of hundreds of
# ranges), and in the RE2 instructions they compile to (`.{500}` is 8 000, `\pL` 2 400).
# Each bound is some 10-20 ms of work; before them, 64 patterns of `\pL{0}` repeated
# (which compiles to nothing) held the loop for over a second, and one `\pL{400}` half
# a second. It also bounds what re2's cache of 128 compiled patterns can hold.
MAX_PATTERN_COST = 16 * 1024
UNICODE_CLASS_COST = 256
MAX_INSTRUCTIONS = 8 * 1024
# Seconds one request's filters may run, whatever the patterns and texts.
MAX_FILTER_SECONDS = 10.0


def pattern_cost(pattern: str) -> int:
    r"""The pattern's length, with each `\p`/`\P` counted UNICODE_CLASS_COST times."""
    classes, escaped = 0, False
    for char in pattern:
        if escaped:
            classes += char in "pP"
            escaped = False
        else:
            escaped = char == "\\"
    return len(pattern) + classes * (UNICODE_CLASS_COST - 2)


class InvalidRegex(AlertError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid regex: {reason}")


class FilterTooCostly(AlertError):
    """Filters that ran past MAX_FILTER_SECONDS (413): RE2 is linear in the text, but
    a pattern that overflows its DFA cache falls back to ~1 MB/s, and 64 of them
    over a large backlog held a read worker for 50 s."""

    def __init__(self) -> None:
        super().__init__(
            f"Request too costly: its regex filters ran past {MAX_FILTER_SECONDS:g} s; "
            "narrow them, or read fewer alerts"
        )


Rules = list[tuple[tuple[str, ...], Pattern]]


class _Budget:
    """What all of one request's patterns may cost together, `regex` and `regex_all`."""

    __slots__ = ("cost", "instructions")

    def __init__(self) -> None:
        self.cost = 0
        self.instructions = MAX_INSTRUCTIONS


def _rules(spec: object, key: str, budget: _Budget) -> Rules:
    if not isinstance(spec, list):
        raise InvalidRegex(f"{key} must be an array of [field, pattern] pairs")
    if len(spec) > MAX_RULES:
        raise InvalidRegex(f"{key} may hold at most {MAX_RULES} [field, pattern] pairs")
    rules: Rules = []
    for entry in spec:
        if (
            not isinstance(entry, list)
            or len(entry) != 2
            or not all(isinstance(part, str) for part in entry)
        ):
            raise InvalidRegex("each filter must be a [field, pattern] pair of strings")
        path = tuple(part for part in entry[0].split("/") if part)
        if not path:
            raise InvalidRegex("empty field path")
        if len(entry[1]) > MAX_PATTERN:
            raise InvalidRegex(f"a pattern may be at most {MAX_PATTERN} characters")
        budget.cost += pattern_cost(entry[1])
        if budget.cost > MAX_PATTERN_COST:
            raise InvalidRegex(
                f"patterns longer than {MAX_PATTERN_COST} characters in all "
                f"(a \\p class counts as {UNICODE_CLASS_COST})"
            )
        try:
            pattern, size = compile_bounded(entry[1], budget.instructions)
        except PatternError as exc:
            raise InvalidRegex(str(exc)) from None
        budget.instructions -= size
        if budget.instructions < 0:
            raise InvalidRegex(
                f"patterns too large: at most {MAX_INSTRUCTIONS} RE2 instructions in all"
            )
        rules.append((path, pattern))
    return rules


# Plain loops rather than any()/all() over generators: these run for every record of
# a filtered read, and a generator costs each record a third more.
def _matches(record: dict[str, Any], path: tuple[str, ...], pattern: Pattern) -> bool:
    for text in field_texts(record, path):  # noqa: SIM110
        if pattern.search(text) is not None:
            return True
    return False


def regex_filter(spec: object, all_spec: object = None) -> Filter | None:
    """A predicate over records for a `regex` spec (any rule matches) and a
    `regex_all` spec (every rule matches); None when neither has a rule."""
    budget = _Budget()
    rules = _rules(spec, "regex", budget) if spec is not None else []
    every = _rules(all_spec, "regex_all", budget) if all_spec is not None else []
    if not rules and not every:
        return None

    deadline = 0.0

    def keep(record: dict[str, Any]) -> bool:
        nonlocal deadline
        now = monotonic()
        if not deadline:
            deadline = now + MAX_FILTER_SECONDS
        elif now > deadline:
            raise FilterTooCostly
        if rules:
            for path, pattern in rules:
                if _matches(record, path, pattern):
                    break
            else:
                return False
        for path, pattern in every:  # noqa: SIM110
            if not _matches(record, path, pattern):
                return False
        return True

    return keep


def request_filter(args: dict[str, Any]) -> Filter | None:
    """The filter of a command dictionary's `regex` and `regex_all` keys."""
    return regex_filter(args.get("regex"), args.get("regex_all"))
