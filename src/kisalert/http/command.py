"""Reading a request: the command dictionary (form `json=` or a JSON body) and the
HTTP variables beside it (query string and other form fields)."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from kisalert.http.errors import HttpError
from kisalert.http.offload import off_loop
from kisalert.http.scope import header

MAX_BODY = 1 << 20
MAX_FIELDS = 1000
BIG_FORM = 64 * 1024  # characters of a form that is more than `json=`
NOT_AN_OBJECT = "Invalid request: command must be a JSON object"
LOOKS_LIKE_JSON = (
    "Invalid request: the body looks like JSON but was read as a form; send it with "
    "Content-Type: application/json, or as the form field json=..."
)


@dataclass(frozen=True, slots=True)
class Command:
    """A command dictionary and the request's HTTP variables."""

    args: dict[str, Any]
    variables: dict[str, str]
    # The body, when it was read as a form and no dictionary came with the request:
    # kept to explain a missing key, which it may hold as JSON sent with the wrong type.
    unread_form: str | None = None


def missing(command: Command, key: str) -> HttpError:
    """The 400 for a required key the dictionary lacks."""
    form = command.unread_form
    if form is not None and form.lstrip().startswith("{"):
        return HttpError(400, LOOKS_LIKE_JSON)
    return HttpError(400, f"Invalid request: missing '{key}'")


async def read_body(request: Request) -> bytes:
    declared = header(request, b"content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY:
                raise HttpError(413, "Request body too large (limit 1 MiB)")
        except ValueError:
            raise HttpError(400, "Invalid request: bad Content-Length") from None
    # Straight from ASGI `receive`: a body mostly comes in one message, which is then
    # the answer as it is.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise HttpError(400, "Invalid request: the connection closed before the body ended")
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if not more and not chunks:
            if len(chunk) > MAX_BODY:
                raise HttpError(413, "Request body too large (limit 1 MiB)")
            return chunk
        size += len(chunk)
        if size > MAX_BODY:
            raise HttpError(413, "Request body too large (limit 1 MiB)")
        chunks.append(chunk)
        if not more:
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


def _multipart(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """The fields of a multipart/form-data body (`curl -F`, as Kismet's server reads
    them too): each part's name and its text. Raises HttpError."""
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    try:
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        parts = list(message.iter_parts()) if message.is_multipart() else None
    except Exception:  # the email package's own errors, for any odd input
        parts = None
    if parts is None:
        raise HttpError(400, "Invalid request: unreadable multipart/form-data body")
    pairs: list[tuple[str, str]] = []
    for part in parts:
        try:
            name = part.get_param("name", header="content-disposition")
        except Exception:
            raise HttpError(400, "Invalid request: unreadable multipart/form-data body") from None
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        try:
            text = payload.decode("utf-8") if isinstance(payload, bytes) else ""
        except UnicodeDecodeError:
            raise HttpError(400, f"Invalid request: form field {name!r} is not UTF-8") from None
        pairs.append((name, text))
        if len(pairs) > MAX_FIELDS:
            raise HttpError(400, "Invalid request: too many form fields")
    return pairs


def _only_json(form: str) -> str | None:
    """The value of a form that is just `json=<percent-encoded>`, as clients send their
    commands, decoded exactly as `parse_qsl` would; None for any other form.

    parse_qsl takes ~15 µs on a typical command, more than the rest of reading it. In
    an ASCII form without backslashes, `%XX` written as `\\xXX` is what the C
    `unicode_escape` codec decodes to that byte; a `%` not followed by two hex digits
    makes it fail, and then parse_qsl decides.
    """
    if not form.startswith("json=") or "&" in form or "\\" in form or not form.isascii():
        return None
    value = form[5:].replace("+", " ")
    if "%" not in value:
        return value
    try:
        raw = value.replace("%", "\\x").encode("ascii").decode("unicode_escape")
    except UnicodeDecodeError:
        return None
    return raw.encode("latin-1").decode("utf-8", "replace")


async def read_command(request: Request) -> Command:
    variables: dict[str, str] = {}
    query = request.scope.get("query_string", b"")
    if query:
        variables.update(_pairs(query.decode("latin-1")))
    json_text: str | bytes | None = variables.pop("json", None)
    unread: str | None = None
    if request.method != "GET":
        body = await read_body(request)
        if body:
            content_type = header(request, b"content-type") or ""
            media = content_type.split(";", 1)[0].strip().lower()
            if media == "application/json":
                json_text = body
            elif media == "multipart/form-data":
                pairs = (
                    await off_loop(lambda: _multipart(body, content_type))
                    if len(body) > BIG_FORM
                    else _multipart(body, content_type)
                )
                form_vars = dict(pairs)
                if "json" in form_vars:
                    json_text = form_vars.pop("json")
                variables.update(form_vars)
            else:
                try:
                    form = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise HttpError(400, "Invalid request: form body is not UTF-8") from None
                unread = form
                only_json = _only_json(form)
                if only_json is not None:
                    json_text = only_json
                else:
                    # parse_qsl is ~300 ms per MiB of percent-encoding: a big form is
                    # decoded off the event loop.
                    pairs = (
                        await off_loop(lambda: _pairs(form))
                        if len(form) > BIG_FORM
                        else _pairs(form)
                    )
                    form_vars = dict(pairs)
                    if "json" in form_vars:
                        json_text = form_vars.pop("json")
                    variables.update(form_vars)
    if json_text is not None:
        return Command(_decode_object(json_text), variables)
    return Command({}, variables, unread)
