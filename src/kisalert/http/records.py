"""Rendering lists of records with the request's `regex` and `fields` applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from kisalert import serializers
from kisalert.fields import simplifier
from kisalert.filters import request_filter


class Serialized(Protocol):
    """A record that carries its own JSON bytes (alerts, messages)."""

    @property
    def record(self) -> dict[str, Any]: ...

    @property
    def json(self) -> bytes: ...


S = TypeVar("S", bound=Serialized)


def select(items: Sequence[S], args: dict[str, Any]) -> Sequence[S]:
    """The items whose records pass the `regex` filter, if any."""
    keep = request_filter(args)
    if keep is None:
        return items
    return [item for item in items if keep(item.record)]


def render(items: Sequence[Serialized], fmt: str, args: dict[str, Any]) -> bytes:
    """An array answer; reuses each item's bytes when no field is simplified."""
    simplify = simplifier(args.get("fields"))
    if simplify is None:
        if fmt in ("json", "itjson"):
            return serializers.array((), fmt, raw=[item.json for item in items])
        return serializers.array([item.record for item in items], fmt)
    return serializers.array([simplify(item.record) for item in items], fmt)


def render_one(record: dict[str, Any], fmt: str, args: dict[str, Any]) -> bytes:
    simplify = simplifier(args.get("fields"))
    return serializers.obj(simplify(record) if simplify else record, fmt)


def plain_array(records: list[dict[str, Any]], fmt: str, args: dict[str, Any]) -> bytes:
    """An array answer of records made for it (not kept as bytes), with the request's
    `fields` applied: every route that answers a list takes them."""
    simplify = simplifier(args.get("fields"))
    if simplify is not None:
        records = [simplify(record) for record in records]
    return serializers.array(records, fmt)
