"""Field simplification: the `fields` command key picks, renames and orders record fields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from kisalert.errors import InvalidRequest
from kisalert.severity import SEVERITY_NAMES

SEVERITY_KEY = "kismet.alert.severity"

Simplifier = Callable[[dict[str, Any]], dict[str, Any]]


def walk(record: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` inside nested records, or None when it is not there."""
    value = record
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
        if value is None:
            return None
    return value


def field_texts(
    value: Any, path: tuple[str, ...], numbers: bool = False, key: str | None = None
) -> Iterator[str]:
    """The text forms of the values at `path` in a record, as regex filters and view
    searches see them: arrays and maps on the way and at the end are expanded, strings
    (MACs included) are themselves, a severity is its name (`HIGH`), and other numbers
    appear only when `numbers` is set."""
    if path:
        head, rest = path[0], path[1:]
        if isinstance(value, dict):
            if head in value:
                yield from field_texts(value[head], rest, numbers, head)
        elif isinstance(value, list):
            for item in value:
                yield from field_texts(item, path, numbers, key)
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and key == SEVERITY_KEY:
        name = SEVERITY_NAMES.get(value)
        if name is not None:
            yield name
        elif numbers:
            yield str(value)
    elif isinstance(value, int | float):
        if numbers:
            yield str(value)
    elif isinstance(value, list):
        for item in value:
            yield from field_texts(item, (), numbers, key)
    elif isinstance(value, dict):
        for inner_key, item in value.items():
            yield from field_texts(item, (), numbers, inner_key)


# Every record read is rebuilt with each entry, and a rename repeats the value under
# a new key: 2 000 renames turned 63 KB of request into 189 MB of answer. Real field
# lists have a few dozen entries. The eventbus holds subscriptions to the same limits.
MAX_FIELDS = 256
MAX_FIELDS_CHARS = 16 * 1024  # of every path and rename together
# The names the answer carries (renames, or each path's last part), counted as JSON
# writes them. With no field selected twice or inside another, the values of a
# simplified record are disjoint parts of the record, so its JSON is at most the
# record's plus these names and 3 bytes per entry (`:`, `,` and a missing field's
# `0`): 256 renames of a 16 KiB text can no longer multiply an answer.
MAX_FIELD_NAMES_CHARS = 4096
OUTPUT_BOUND = MAX_FIELD_NAMES_CHARS + 3 * MAX_FIELDS  # bytes over the record's JSON

Fields = list[tuple[tuple[str, ...], str]]


def parse_fields(spec: object) -> Fields:
    """`["a/b", ["c", "rename"]]` → [(("a", "b"), "b"), (("c",), "rename")]."""
    if not isinstance(spec, list):
        raise InvalidRequest("invalid field specification")
    if len(spec) > MAX_FIELDS:
        raise InvalidRequest(f"invalid field specification: more than {MAX_FIELDS} fields")
    chars = 0
    parsed = []
    for entry in spec:
        if isinstance(entry, str):
            path, key = entry, None
        elif (
            isinstance(entry, list)
            and 1 <= len(entry) <= 2
            and all(isinstance(part, str) for part in entry)
        ):
            path, key = entry[0], (entry[1] if len(entry) == 2 else None)
        else:
            raise InvalidRequest("invalid field specification")
        chars += len(path) + len(key or "")
        if chars > MAX_FIELDS_CHARS:
            raise InvalidRequest(
                f"invalid field specification: fields longer than {MAX_FIELDS_CHARS} characters"
            )
        parts = tuple(part for part in path.split("/") if part)
        if not parts:
            raise InvalidRequest("invalid field specification")
        parsed.append((parts, key or parts[-1]))
    return _disjoint(parsed)


def _disjoint(fields: Fields) -> Fields:
    """`fields` without exact repeats, refused when one field is selected under two names
    or inside another, or when the names are too long (the output bound above)."""
    first: dict[tuple[str, ...], int] = {}
    # Answer names as ekjson writes them ("." as "_"): two fields under one name
    # kept only the last, in every format.
    named: dict[str, int] = {}
    kept: Fields = []
    names = 0
    for number, (parts, key) in enumerate(fields, 1):
        seen = first.get(parts)
        if seen is not None:
            if fields[seen - 1][1] == key:
                continue  # the same entry again adds nothing to the answer
            raise InvalidRequest(
                f"invalid field specification: entry {number} selects the field of entry {seen}"
            )
        same = named.get(key.replace(".", "_"))
        if same is not None:
            raise InvalidRequest(
                f"invalid field specification: entry {number} has the name of entry {same}"
            )
        first[parts] = number
        named[key.replace(".", "_")] = number
        kept.append((parts, key))
        try:
            names += len(orjson.dumps(key))
        except TypeError:  # a lone surrogate: no answer could carry it
            raise InvalidRequest("invalid field specification") from None
        if names > MAX_FIELD_NAMES_CHARS:
            raise InvalidRequest(
                "invalid field specification: field names longer than "
                f"{MAX_FIELD_NAMES_CHARS} characters"
            )
    for parts, _ in kept:
        for depth in range(1, len(parts)):
            outer = first.get(parts[:depth])
            if outer is not None:
                raise InvalidRequest(
                    f"invalid field specification: entry {first[parts]} lies inside entry {outer}"
                )
    return kept


def simplifier(spec: object) -> Simplifier | None:
    """A function that reduces a record to the requested fields; None for no `fields`."""
    if spec is None:
        return None
    fields = parse_fields(spec)
    if not fields:
        return None

    def simplify(record: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for path, key in fields:
            value = walk(record, path)
            out[key] = 0 if value is None else value
        return out

    return simplify
