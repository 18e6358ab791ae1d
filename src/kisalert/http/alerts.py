"""The /alerts routes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from kisalert import serializers, view
from kisalert.alert import Alert
from kisalert.definition_state import state_record
from kisalert.errors import UnknownAlert, UnknownSeverity
from kisalert.field_docs import WRAPPER_DOCS
from kisalert.fields import parse_fields, simplifier
from kisalert.filters import request_filter
from kisalert.http import offload
from kisalert.http.command import Command, missing
from kisalert.http.endpoint import Call
from kisalert.http.errors import HttpError, bad_request
from kisalert.http.records import plain_array, render, render_one, select
from kisalert.http.responses import empty_json, json_response
from kisalert.mac import MacError, parse_mac
from kisalert.phy import phy_by_name
from kisalert.service import Service
from kisalert.timestamps import from_micros, json_number, parse_path_timestamp, resolve, to_micros
from kisalert.tracker import RaiseRequest

RAISED = b"Alert raised\n"
# A client's value quoted in a refusal, cut to this many characters.
SHOWN_MAX = 40

ALERT_ID_MAX = 0xFFFFFFFF  # kismet.alert.hash is a uint32 (model.md)
# A paging variable is used as a 64-bit integer, the widest number the answer can echo.
VARIABLE_MIN, VARIABLE_MAX = -(2**63), 2**63 - 1
_DECIMAL = re.compile(r"[+-]?[0-9]+")


def bounded_int(text: str, low: int, high: int) -> int | None:
    """An ASCII decimal integer clamped to [low, high]; None when `text` is not one.

    Every integer the alert routes take from a request goes through here: int() alone also takes
    `1_0`, other scripts' digits, and refuses (ValueError) past 4 300 digits, and an
    unbounded value overflows SQLite and the JSON encoder.
    """
    if _DECIMAL.fullmatch(text) is None:
        return None
    negative = text[0] == "-"
    digits = text.lstrip("+-").lstrip("0")
    # Past the bounds' own length the value is surely out of range: clamp without int().
    if len(digits) > max(len(str(abs(low))), len(str(abs(high)))):
        return low if negative else high
    value = -int(digits or "0") if negative else int(digits or "0")
    return max(low, min(high, value))


def _path_time(service: Service, call: Call) -> float:
    ts = parse_path_timestamp(call.request.path_params["ts"])
    if ts is None:
        raise HttpError(400, "{}", json_body=True)
    return resolve(ts, service.clock.now())


async def definitions(service: Service, call: Call) -> Response:
    records = await service.store.definition_records(to_micros(service.clock.now()))
    return json_response(plain_array(records, call.fmt, call.command.args))


async def definition_states(service: Service, call: Call) -> Response:
    """kisalert's own view of the definitions: enabled or not, rates in words."""
    args = call.command.args
    keep = request_filter(args)
    simplify = simplifier(args.get("fields"))
    records = [state_record(d) for d in await service.store.definitions()]
    if keep is not None:
        records = [record for record in records if keep(record)]
    if simplify is not None:
        records = [simplify(record) for record in records]
    return json_response(serializers.array(records, call.fmt))


async def _rendered(call: Call, alerts: Sequence[Alert]) -> Response:
    args = call.command.args

    def make() -> bytes:
        return render(select(alerts, args), call.fmt, args)

    body = await offload.build(offload.weight(alerts, args), make)
    return json_response(body)


async def all_alerts(service: Service, call: Call) -> Response:
    return await _rendered(call, await service.store.backlog())


async def last_time(service: Service, call: Call) -> Response:
    after_us = to_micros(_path_time(service, call))
    return await _rendered(call, await service.store.since(after_us))


async def wrapped_last_time(service: Service, call: Call) -> Response:
    after_us = to_micros(_path_time(service, call))
    # Reserve T before reading, so an alert raised meanwhile is stamped after T
    # and comes with the next poll instead of being skipped.
    mark_us = await service.store.poll_mark(to_micros(service.clock.now()))
    args = call.command.args
    since = await service.store.since(after_us)

    def make() -> bytes:
        alerts = select([a for a in since if a.timestamp_us <= mark_us], args)
        simplify = simplifier(args.get("fields"))
        body = {
            "kismet.alert.list": [simplify(a.record) if simplify else a.record for a in alerts],
            "kismet.alert.timestamp": json_number(from_micros(mark_us)),
        }
        return serializers.obj(body, call.fmt, WRAPPER_DOCS)

    return json_response(await offload.build(offload.weight(since, args), make))


async def by_id(service: Service, call: Call) -> Response:
    text = call.request.path_params["id"]
    # One past the largest id: a larger number is a valid request for no alert.
    alert_id = bounded_int(text, 0, ALERT_ID_MAX + 1) if text.isdigit() else None
    if alert_id is None:
        raise bad_request("alert id must be a number")
    alert = await service.tracker.alert_by_id(alert_id) if alert_id <= ALERT_ID_MAX else None
    if alert is None:
        return empty_json(404)
    return json_response(render_one(alert.record, call.fmt, call.command.args))


def _int_variable(variables: dict[str, str], name: str, default: int) -> int:
    value = variables.get(name)
    if value is None or value == "":
        return default
    # Surrounding blanks were always accepted (int() strips them).
    number = bounded_int(value.strip(), VARIABLE_MIN, VARIABLE_MAX)
    if number is None:
        raise bad_request(f"{name} must be a number")
    return number


def _path(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split("/") if part)


async def alerts_view(service: Service, call: Call) -> Response:
    backlog = await service.store.backlog()
    cost = offload.weight(backlog, call.command.args)
    return json_response(await offload.build(cost, lambda: _view(backlog, call)))


def _view(backlog: Sequence[Alert], call: Call) -> bytes:
    args, variables = call.command.args, call.command.variables
    keep = request_filter(args)
    field_spec = args.get("fields")
    simplify = simplifier(field_spec)
    search_paths = (
        [path for path, _ in parse_fields(field_spec)] if field_spec else view.DEFAULT_SEARCH
    )
    alerts = [a for a in backlog if keep is None or keep(a.record)]
    total = len(backlog)

    def found(term: str) -> list[dict[str, Any]]:
        if term:
            return view.search_alerts(alerts, term, search_paths)
        return [a.record for a in alerts]

    def shape(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [simplify(row) for row in rows] if simplify else rows

    if args.get("datatable") is True:
        start = _int_variable(variables, "start", 0)
        length = _int_variable(variables, "length", 0)
        draw = _int_variable(variables, "draw", 0)
        records = found(variables.get("search[value]", ""))
        column = variables.get("order[0][column]")
        if column:
            _int_variable(variables, "order[0][column]", 0)
            colmap = args.get("colmap")
            target = colmap.get(column) if isinstance(colmap, dict) else None
            if isinstance(target, list) and target and isinstance(target[0], str):
                target = target[0]
            if isinstance(target, str) and _path(target):
                descending = variables.get("order[0][dir]", "asc").lower() != "asc"
                records = view.sort(records, _path(target), descending, in_time_order=True)
        rows = view.window(records, max(start, 0), length)
        body: dict[str, Any] = {
            "draw": draw,
            "data": shape(rows),
            "recordsTotal": total,
            "recordsFiltered": len(records),
        }
        return serializers.obj(body, call.fmt)

    if "page" in variables:
        page = _int_variable(variables, "page", 0)
        length = _int_variable(variables, "length", _int_variable(variables, "size", 0))
        records = found(variables.get("search", ""))
        sort_path = _path(variables.get("sort", ""))
        if sort_path:
            descending = variables.get("sort_dir", "asc").lower() != "asc"
            records = view.sort(records, sort_path, descending, in_time_order=True)
        start, pages = view.page_bounds(len(records), page, length)
        body = {
            "data": shape(view.window(records, start, length)),
            "last_page": pages,
            "last_row": len(records),
            "total_row": total,
        }
        return serializers.obj(body, call.fmt)

    return serializers.array(shape(found("")), call.fmt)


def _string(args: dict[str, Any], key: str) -> str | None:
    value = args.get(key)
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"'{key}' must be a string")


def _required(command: Command, key: str) -> str:
    # On every raise, twice: the common case first, in one test.
    value = command.args.get(key)
    if isinstance(value, str):
        return value
    if value is None:
        raise missing(command, key)
    raise bad_request(f"'{key}' must be a string")


def _shown(value: Any) -> str:
    """A client's JSON value, as a refusal quotes it."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 3] + "..."


def _mac(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if value is None:
        return "00:00:00:00:00:00"
    if not isinstance(value, str):
        raise bad_request("invalid MAC address")
    try:
        return parse_mac(value)
    except MacError:
        raise bad_request("invalid MAC address") from None


async def define_alert(service: Service, call: Call) -> Response:
    command = call.command
    args = command.args
    name = _required(command, "name")
    description = _required(command, "description")
    klass = _string(args, "class") or "OTHER"
    severity = args.get("severity", 10)
    if type(severity) is not int:
        raise UnknownSeverity(_shown(severity))
    phyname = _string(args, "phyname")
    phy = phy_by_name(phyname) if phyname is not None else -1
    if phy is None:
        raise bad_request("could not find phy")
    new = await service.tracker.define(
        name,
        description,
        klass,
        severity,
        _string(args, "throttle"),
        _string(args, "burst"),
        phy,
    )
    # The tracker took the name, so it is ASCII and upper-casing it gives the stored one.
    # Kismet answers an empty 200: the Content-Type stays what its clients know.
    done = "defined" if new else "already defined with these settings"
    return json_response(f"Alert {name.upper()} {done}\n".encode())


async def raise_alert(service: Service, call: Call) -> Response:
    command = call.command
    args = command.args
    request = RaiseRequest(
        _required(command, "name"),
        _required(command, "text"),
        _mac(args, "bssid"),
        _mac(args, "source"),
        _mac(args, "dest"),
        _mac(args, "other"),
        _string(args, "channel") or "",
    )
    try:
        await service.tracker.raise_alert(request)
    except UnknownAlert as exc:
        definitions_url = f"{service.config.uri_prefix}/alerts/definitions.json"
        raise HttpError(400, f"{exc}; the defined alerts are listed at {definitions_url}") from None
    return json_response(RAISED)
