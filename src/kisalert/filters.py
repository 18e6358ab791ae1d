"""Regex filters: the `regex` command key keeps records whose fields match any pattern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kisalert.errors import AlertError
from kisalert.fields import field_texts
from kisalert.patterns import Pattern, PatternError, compile_pattern

Filter = Callable[[dict[str, Any]], bool]

# Each rule is compiled and then run over every record read: thousands of them held
# the event loop for seconds. Real filters have a handful.
MAX_RULES = 64
MAX_PATTERN = 1024  # characters


class InvalidRegex(AlertError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid regex: {reason}")


def regex_filter(spec: object) -> Filter | None:
    """A predicate over records for a `regex` spec; None for no `regex`."""
    if spec is None:
        return None
    if not isinstance(spec, list):
        raise InvalidRegex("regex must be an array of [field, pattern] pairs")
    if len(spec) > MAX_RULES:
        raise InvalidRegex(f"at most {MAX_RULES} filters in one request")
    rules: list[tuple[tuple[str, ...], Pattern]] = []
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
        try:
            rules.append((path, compile_pattern(entry[1])))
        except PatternError as exc:
            raise InvalidRegex(str(exc)) from None
    if not rules:
        return None

    def keep(record: dict[str, Any]) -> bool:
        for path, pattern in rules:
            for text in field_texts(record, path):
                if pattern.search(text) is not None:
                    return True
        return False

    return keep
