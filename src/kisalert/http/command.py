"""Reading a request: the command dictionary (form `json=` or a JSON body) and the
HTTP variables beside it (query string and other form fields)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from kisalert.http.errors import HttpError
from kisalert.http.scope import header

MAX_BODY = 1 << 20
MAX_FIELDS = 1000
NOT_AN_OBJECT = "Invalid request: command must be a JSON object"


@dataclass(frozen=True, slots=True)
class Command:
    """A command dictionary and the request's HTTP variables."""

    args: dict[str, Any]
    variables: dict[str, str]


async def read_body(request: Request) -> bytes:
    declared = header(request, b"content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY:
                raise HttpError(413, "Request body too large (limit 1 MiB)")
        except ValueError:
            raise HttpError(400, "Invalid request: bad Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise HttpError(413, "Request body too large (limit 1 MiB)")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode_object(text: str | bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise HttpError(400, NOT_AN_OBJECT) from None
    if not isinstance(value, dict):
        raise HttpError(400, NOT_AN_OBJECT)
    return value


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise HttpError(400, "Invalid request: too many form fields") from None


async def read_command(request: Request) -> Command:
    variables: dict[str, str] = {}
    query = request.scope.get("query_string", b"")
    if query:
        variables.update(_pairs(query.decode("latin-1")))
    json_text: str | bytes | None = variables.pop("json", None)
    if request.method != "GET":
        body = await read_body(request)
        if body:
            media = (header(request, b"content-type") or "").split(";", 1)[0].strip().lower()
            if media == "application/json":
                json_text = body
            else:
                try:
                    form = _pairs(body.decode("utf-8"))
                except UnicodeDecodeError:
                    raise HttpError(400, "Invalid request: form body is not UTF-8") from None
                form_vars = dict(form)
                if "json" in form_vars:
                    json_text = form_vars.pop("json")
                variables.update(form_vars)
    args = _decode_object(json_text) if json_text is not None else {}
    return Command(args, variables)
