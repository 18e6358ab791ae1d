"""The access log: one line per request, in the Common Log Format or as JSON lines.

Off unless `--access-log PATH` (`-`: standard output) or `access_log=` asks for it.

Credentials never reach it. The user is the login's user name or API key's name,
and only once the request has logged in; headers (Authorization, Cookie) are not
logged, and in the request line the values of the `password` and `KISMET` query
parameters, and a `json` parameter that names a password, read `REDACTED`.

Lines are written by a thread of their own, every `FLUSH_SECONDS` or sooner when
many pile up, so a slow disk never holds up the event loop. At most `MAX_BUFFER`
bytes wait; past that, lines are dropped and counted (on /metrics, and in a line
written once the log catches up) rather than held without bound.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote_plus

import orjson
from starlette.requests import HTTPConnection
from starlette.types import Scope

from kisalert.config import ACCESS_LOG_FORMATS, IpNetwork
from kisalert.http.endpoint import USER_KEY, client_address

STDOUT = "-"
FLUSH_SECONDS = 1.0
MAX_BUFFER = 4 << 20
WAKE_AT = 256 << 10  # bytes waiting that wake the writer before its time
REDACTED = b"REDACTED"
_SECRET_NAMES = frozenset({"password", "kismet"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# What a Common Log Format field may not hold as it is: a line is split on spaces and
# quotes, and a log reader should see no control characters.
_UNSAFE = re.compile(rb'[^\x21-\x7e]|["\\]')


class AccessLogError(Exception):
    """The access log cannot be opened; str() is one line saying why."""


def _escape(data: bytes, keep_spaces: bool = False) -> str:
    def hex_escape(found: re.Match[bytes]) -> bytes:
        char = found.group()
        return char if keep_spaces and char == b" " else b"\\x%02x" % char[0]

    return _UNSAFE.sub(hex_escape, data).decode("ascii")


def redact_query(query: bytes) -> bytes:
    """`query` with the values of credential parameters replaced by REDACTED."""
    parts = query.split(b"&")
    for index, part in enumerate(parts):
        key, eq, value = part.partition(b"=")
        if not eq:
            continue
        name = unquote_plus(key.decode("latin-1")).lower()
        if name in _SECRET_NAMES or (
            name == "json" and "password" in unquote_plus(value.decode("latin-1")).lower()
        ):
            parts[index] = key + b"=" + REDACTED
    return b"&".join(parts)


def target(scope: Scope) -> bytes:
    """The request's path and query string as the client sent them, redacted."""
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return path + b"?" + redact_query(query) if query else path


class _Clock:
    """The Common Log Format's timestamp, made once per second rather than per line."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def common(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            moment = time.localtime(second)
            offset = moment.tm_gmtoff // 60
            sign = "-" if offset < 0 else "+"
            self._text = (
                f"{moment.tm_mday:02d}/{_MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:"
                f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} "
                f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
            )
            self._second = second
        return self._text


def _open(path: Path) -> BinaryIO:
    """`path` for appending, created readable by its owner alone, as every data file is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise AccessLogError(f"cannot open the access log {path}: {exc.strerror}") from None
    return os.fdopen(fd, "ab", buffering=0)


class AccessLog:
    def __init__(
        self,
        stream: BinaryIO,
        fmt: str = "common",
        trusted: tuple[IpNetwork, ...] = (),
        path: Path | None = None,
    ) -> None:
        if fmt not in ACCESS_LOG_FORMATS:
            raise ValueError(f"access log format must be one of {', '.join(ACCESS_LOG_FORMATS)}")
        self._stream = stream
        # The file `reopen` opens again (None: standard output, never reopened).
        self.path = path
        self._reopen = False
        self._json = fmt == "json"
        self._trusted = trusted
        self._clock = _Clock()
        self._lock = threading.Lock()
        self._lines: list[bytes] = []
        self._size = 0
        self._dropped_since = 0  # not yet reported in the log itself
        self.dropped = 0
        self._wake = threading.Event()
        self._stopping = False
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="kisalert-access-log", daemon=True)
        self._thread.start()

    @classmethod
    def open(
        cls, where: str | Path, fmt: str = "common", trusted: tuple[IpNetwork, ...] = ()
    ) -> AccessLog:
        """Append to file `where` (created readable by its owner alone, as every data
        file is), or write to standard output for `-`."""
        if str(where) == STDOUT:
            return cls(sys.stdout.buffer, fmt, trusted)
        return cls(_open(Path(where)), fmt, trusted, Path(where))

    # On the event loop

    def record(
        self, scope: Scope, status: int, size: int | None, seconds: float, now: float
    ) -> None:
        """Log a request answered with `status` and `size` body bytes (None: not
        known, as for a websocket's frames) that took `seconds` until `now`."""
        client = self._client(scope)
        user: str | None = scope.get(USER_KEY)
        method: str = scope.get("method", "GET")
        path = target(scope)
        if self._json:
            line = orjson.dumps(
                {
                    "time": datetime.fromtimestamp(now - seconds, UTC).isoformat(
                        timespec="milliseconds"
                    ),
                    "client": client,
                    "user": user,
                    "method": method,
                    "path": path.decode("latin-1"),
                    "status": status,
                    "bytes": size,
                    "duration": round(seconds, 6),
                },
                option=orjson.OPT_APPEND_NEWLINE,
            )
        else:
            version = scope.get("http_version", "1.1")
            request = f"{_escape(method.encode())} {_escape(path)} HTTP/{_escape(version.encode())}"
            authuser = _escape(user.encode()) if user else "-"
            line = (
                f"{_escape(client.encode()) or '-'} - {authuser} "
                f'[{self._clock.common(now - seconds)}] "{request}" {status} {size or "-"}\n'
            ).encode()
        self._add(line)

    def _client(self, scope: Scope) -> str:
        if self._trusted:
            return client_address(HTTPConnection(scope), self._trusted)
        client = scope.get("client")
        return str(client[0]) if client else ""

    def _add(self, line: bytes) -> None:
        with self._lock:
            if self._size + len(line) > MAX_BUFFER:
                self.dropped += 1
                self._dropped_since += 1
                return
            self._lines.append(line)
            self._size += len(line)
            wake = self._size >= WAKE_AT
        if wake:
            self._wake.set()

    def reopen(self) -> None:
        """Open the file again once the lines waiting now are written to the old one:
        after a log rotation (logrotate renames the file, then sends SIGHUP), new lines
        go to a new file at the configured path."""
        with self._lock:
            self._reopen = self.path is not None
        self._wake.set()

    def close(self) -> None:
        """Write what is waiting, and stop."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        # A disk that takes no more does not hold up a stop for long.
        self._thread.join(5.0)
        if self._stream is not sys.stdout.buffer:
            with contextlib.suppress(OSError):
                self._stream.close()

    # On the writer thread

    def _run(self) -> None:
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            with self._lock:
                lines, self._lines, self._size = self._lines, [], 0
                dropped, self._dropped_since = self._dropped_since, 0
                stopping = self._stopping
                reopen, self._reopen = self._reopen, False
            if dropped:
                lines.append(
                    b"kisalert: %d access log lines dropped: the log was not written "
                    b"fast enough\n" % dropped
                )
            if lines:
                self._write(b"".join(lines), len(lines))
            if reopen:
                self._swap()
            if stopping:
                return

    def _swap(self) -> None:
        assert self.path is not None
        try:
            stream = _open(self.path)
        except AccessLogError as exc:
            # Lines keep going to the file open now, wherever it was moved to.
            print(f"kisalert: {exc}; still writing to the file open before", file=sys.stderr)
            return
        old, self._stream = self._stream, stream
        with contextlib.suppress(OSError):
            old.close()

    def _write(self, data: bytes, count: int) -> None:
        try:
            view = memoryview(data)
            while view:  # a file's raw writes may take part of it
                view = view[self._stream.write(view) or 0 :]
            self._stream.flush()
        except OSError as exc:
            with self._lock:
                self.dropped += count
            if not self._failing:
                self._failing = True
                print(f"kisalert: cannot write the access log: {exc}", file=sys.stderr, flush=True)
        else:
            self._failing = False
