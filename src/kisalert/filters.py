"""Regex filters: the `regex` command key keeps records whose fields match any pattern."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kisalert.errors import AlertError
from kisalert.patterns import Pattern, PatternError, compile_pattern
from kisalert.severity import SEVERITY_NAMES

SEVERITY_KEY = "kismet.alert.severity"

Filter = Callable[[dict[str, Any]], bool]


class InvalidRegex(AlertError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid regex: {reason}")


def _strings(value: Any, path: tuple[str, ...], key: str | None) -> Iterator[str]:
    """The string values at `path`, expanding arrays and maps on the way."""
    if path:
        head, rest = path[0], path[1:]
        if isinstance(value, dict):
            if head in value:
                yield from _strings(value[head], rest, head)
        elif isinstance(value, list):
            for item in value:
                yield from _strings(item, path, key)
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, int) and key == SEVERITY_KEY and not isinstance(value, bool):
        name = SEVERITY_NAMES.get(value)
        if name is not None:
            yield name
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, (), key)
    elif isinstance(value, dict):
        for inner_key, item in value.items():
            yield from _strings(item, (), inner_key)


def regex_filter(spec: object) -> Filter | None:
    """A predicate over records for a `regex` spec; None for no `regex`."""
    if spec is None:
        return None
    if not isinstance(spec, list):
        raise InvalidRegex("regex must be an array of [field, pattern] pairs")
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
        try:
            rules.append((path, compile_pattern(entry[1])))
        except PatternError as exc:
            raise InvalidRegex(str(exc)) from None
    if not rules:
        return None

    def keep(record: dict[str, Any]) -> bool:
        for path, pattern in rules:
            for text in _strings(record, path, None):
                if pattern.search(text) is not None:
                    return True
        return False

    return keep
