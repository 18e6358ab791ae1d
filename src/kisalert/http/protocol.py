"""uvicorn's HTTP protocol (httptools) with bounds on what one connection can hold.

- The request head: httptools gathers a request line and headers however long they
  grow. A request line over `MAX_LINE` bytes is answered 414, a header section over
  `MAX_HEADERS` bytes 431, and the connection is closed. Both are counted from the
  parser's callbacks, so the limit is the same however the bytes arrive.
- Time to send a head: a connection that has not sent a complete request head within
  `HEAD_TIMEOUT` seconds (`httpd_head_timeout`) of opening (or of the end of its
  previous response) is closed, so idle or trickling connections cannot take every
  descriptor. uvicorn's
  `timeout_keep_alive` (5 s by default) still closes a keep-alive connection that
  sends nothing at all sooner; this timer is the bound once it has sent a byte. The
  same timer then bounds the body: one that has not arrived whole `BODY_TIMEOUT`
  seconds (`httpd_body_timeout`) after its head is answered 408, and the app reading
  it is told the client went away (a trickled body would otherwise hold a connection
  and its task for ever).
- Closing while the client still sends (a refused head, or an answer such as 413
  given before the body was read): closing a socket with unread data makes the
  kernel send a reset, which can destroy the answer before the client reads it. The
  connection is half-closed instead and what comes in is read and dropped, for at
  most `LINGER_TIME` seconds and `LINGER_BYTES` bytes.
- A `Connection: Upgrade` request that is not a websocket upgrade is answered with
  `connection: close`: httptools stops parsing the connection at such a request, so
  nothing sent after it could be answered.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_LINE = 64 * 1024
MAX_HEADERS = 64 * 1024
MAX_HEAD = MAX_LINE  # the name the tests know both limits by; they are equal
HEAD_TIMEOUT = 10.0
# A body is at most 1 MiB: 20 s is 50 KiB/s, slower than any link a sensor reports on.
BODY_TIMEOUT = 20.0
LINGER_TIME = 2.0
LINGER_BYTES = 8 * 1024 * 1024

# (status line, one-line reason); the limits in the reasons are the constants'.
_Refusal = tuple[bytes, str]
_URI_TOO_LONG = (b"414 URI Too Long", f"Request URI too long (limit {MAX_LINE // 1024} KiB)")
_HEADERS_TOO_LARGE = (
    b"431 Request Header Fields Too Large",
    f"Request headers too large (limit {MAX_HEADERS // 1024} KiB)",
)


def head_timeout_refusal(seconds: float) -> _Refusal:
    return (b"408 Request Timeout", f"Request timeout (no complete request head in {seconds:g} s)")


def body_timeout_refusal(seconds: float) -> _Refusal:
    return (b"408 Request Timeout", f"Request timeout (the body did not arrive in {seconds:g} s)")


_MALFORMED = (b"400 Bad Request", "Invalid request: malformed HTTP")


class _HeadTooLarge(Exception):
    """Raised from a parser callback: stops httptools right where the limit is passed."""

    def __init__(self, refusal: _Refusal) -> None:
        super().__init__(refusal[1])
        self.refusal = refusal


class _LingeringClose:
    """The transport as a request's response cycle sees it: its close() lingers.

    Made once per connection. The methods a response calls on every request are the
    transport's own, bound here, so that they cost no `__getattr__` each time.
    """

    def __init__(self, protocol: BoundedHttpToolsProtocol) -> None:
        self._protocol = protocol
        transport = protocol.transport
        self.write = transport.write
        self.writelines = transport.writelines
        self.is_closing = transport.is_closing
        self.get_extra_info = transport.get_extra_info

    def __getattr__(self, name: str) -> Any:
        return getattr(self._protocol.transport, name)

    def close(self) -> None:
        self._protocol.close_after_response()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    # The time bounds; a server configured otherwise runs a subclass (with_timeouts).
    head_timeout = HEAD_TIMEOUT
    body_timeout = BODY_TIMEOUT
    head_refusal = head_timeout_refusal(HEAD_TIMEOUT)
    body_refusal = body_timeout_refusal(BODY_TIMEOUT)
    _head_open = False  # a request head has begun and has not ended
    _raw = 0  # bytes received while the open head was open (a lower bound)
    _begun = 0  # request heads begun, to tell whether one began inside a chunk
    _in_message = False  # between on_message_begin and on_message_complete
    _discarding = False  # nothing more is parsed: what comes is dropped
    _lingering = False
    _linger_left = 0
    _pending: _Refusal | None = None  # to send once the responses in flight are done
    _head_timer: asyncio.TimerHandle | None = None
    _head_deadline: float | None = None  # loop time by which a head must be complete
    _linger_timer: asyncio.TimerHandle | None = None
    _wrapped: _LingeringClose | None = None
    _eof = False  # the client half-closed with requests still to answer
    _body_open = False  # a request's head is in and its body is not yet

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wrapped = _LingeringClose(self)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._discarding:
            self._discard(len(data))
            return
        at_start, begun = not self._in_message, self._begun
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._refuse(exc.__context__.refusal)
            else:
                self._refuse(_MALFORMED)
            return
        except httptools.HttpParserError:
            self._refuse(_MALFORMED)
            return
        except httptools.HttpParserUpgrade:
            self._body_open = False
            self._cancel_head_timer()
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._refuse_more_after_upgrade()
            return
        if self._head_open:
            if self._begun == begun:
                self._raw += len(data)
            elif self._begun == begun + 1 and at_start:
                self._raw = len(data)
            # Otherwise it began after a request in this chunk, not known where: counting
            # from the next chunk on holds at most one more read.
            self._check_raw_head()

    def _check_raw_head(self) -> None:
        """A header still being received counts too: it is buffered meanwhile."""
        line = len(self.parser.get_method()) + 1 + len(self.url) + len(" HTTP/1.1\r\n")
        if self._raw - line > MAX_HEADERS + 2:
            self._refuse(_HEADERS_TOO_LARGE)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open, self._in_message = True, True
        self._begun, self._raw = self._begun + 1, 0

    def on_message_complete(self) -> None:
        self._in_message = False
        if self._body_open:
            self._body_open = False
            self._head_deadline = None
        super().on_message_complete()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.parser.get_method()) + 1 + len(self.url) + len(" HTTP/1.1") > MAX_LINE:
            raise _HeadTooLarge(_URI_TOO_LONG)

    # Headers are counted once the section is complete, from the list uvicorn kept,
    # rather than in an on_header override (a Python call per header of every
    # request); while a section is still arriving, data_received bounds it by its
    # raw size, which is what limits memory.

    def on_headers_complete(self) -> None:
        if sum(len(name) + len(value) + 4 for name, value in self.headers) > MAX_HEADERS:
            raise _HeadTooLarge(_HEADERS_TOO_LARGE)
        self._head_open = False
        # From here the timer bounds the body (on_message_complete ends that, at once
        # for a request without one).
        self._body_open = True
        self._set_deadline(self.body_timeout)
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous:
            self.cycle.transport = cast(asyncio.Transport, self._wrapped)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing() or self._lingering:
            return
        cycle = self.cycle
        if (
            (self._pending is not None or self._eof)
            and not self.pipeline
            and self._body_broke_off(cycle)
        ):
            # The request just started from the pipeline is the one whose body broke
            # off (or was cut short by a half-close) while it waited its turn: its app
            # would wait for that body for ever.
            self._end_body(cycle)
            if self._pending is not None:
                self._send_refusal(self._pending)
            else:
                self._close()
            return
        if self.cycle.response_complete and not self.pipeline:
            if self._pending is not None:
                self._send_refusal(self._pending)
            elif self._eof:
                self._close()  # the client half-closed: this was the last answer
            else:
                self._arm_head_timer()

    # Closing

    def close_after_response(self) -> None:
        """The response cycle closes the connection (`connection: close`, an error)."""
        if self.transport.is_closing():
            return
        if self._discarding or (self.cycle is not None and self.cycle.more_body):
            self._linger()
        else:
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._refuse(_MALFORMED)

    def _refuse(self, refusal: _Refusal) -> None:
        """Answer `refusal` and close; after the responses in flight, if there are."""
        self._discarding = True
        self._cancel_head_timer()
        cycle = self.cycle
        # Not while it waits its turn behind answers in flight: then on_response_complete
        # does this when it starts.
        if not self.pipeline and self._body_broke_off(cycle):
            # The body its app waits for broke off (a malformed chunk): it will never
            # come. The app is told the client went away, which drops whatever it
            # answers, and the refusal goes out now.
            self._end_body(cycle)
            self._send_refusal(refusal)
            return
        if (cycle is not None and not cycle.response_complete) or self.pipeline:
            self._pending = refusal
        else:
            self._send_refusal(refusal)

    def _send_refusal(self, refusal: _Refusal) -> None:
        if self.transport.is_closing():
            return
        status, reason = refusal
        text = f"{reason}\n".encode()
        self.transport.write(
            b"HTTP/1.1 %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, len(text), text)
        )
        if self._eof:
            self._close()  # the client has sent all it will: nothing to linger for
        else:
            self._linger()

    @staticmethod
    def _body_broke_off(cycle: Any) -> bool:
        """The cycle's app waits for more body and has answered nothing yet."""
        return (
            cycle is not None
            and cycle.more_body
            and not cycle.response_started
            and not cycle.response_complete
        )

    @staticmethod
    def _end_body(cycle: Any) -> None:
        cycle.disconnected = True
        cycle.message_event.set()

    # asyncio reads the answer; uvicorn typed it None as it never keeps the socket.
    def eof_received(self) -> bool | None:  # type: ignore[override]
        """The client has sent everything (a half-close). Requests it pipelined before
        are still answered, then the connection closes; uvicorn closed at once and
        dropped them. A body cut short by the end can never complete: closed now."""
        cycle = self.cycle
        if self._lingering:
            return None
        # The body its running app waits for can never come.
        if (
            cycle is not None
            and cycle.more_body
            and not cycle.response_complete
            and not self.pipeline
        ):
            self._end_body(cycle)
            return None
        if (cycle is not None and not cycle.response_complete) or self.pipeline:
            self._eof = True  # then a refusal waiting behind them, if any
            return True
        return None

    def _refuse_more_after_upgrade(self) -> None:
        self._discarding = True
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
        else:
            self._linger()

    def _linger(self) -> None:
        if self._lingering or self.transport.is_closing():
            return
        self._lingering = self._discarding = True
        self._cancel_head_timer()
        self._unset_keepalive_if_required()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self._linger_left = LINGER_BYTES
        self._linger_timer = self.loop.call_later(LINGER_TIME, self._close)

    def _discard(self, size: int) -> None:
        if self._lingering:
            self._linger_left -= size
            if self._linger_left <= 0:
                self._close()

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    # The head timer

    # Arming and disarming only move a deadline: the one timer of a connection checks
    # it when it fires and sets itself again for a later one, so a keep-alive
    # connection costs one timer per HEAD_TIMEOUT, not a new one per request.

    def _arm_head_timer(self) -> None:
        self._set_deadline(self.head_timeout)

    def _set_deadline(self, seconds: float) -> None:
        loop = self.loop
        self._head_deadline = loop.time() + seconds
        if self._head_timer is None:
            self._head_timer = loop.call_later(seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        self._head_deadline = None

    def _stop_head_timer(self) -> None:
        self._head_deadline = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        deadline = self._head_deadline
        if deadline is None:
            return  # a head completed since: armed again when its response is done
        left = deadline - self.loop.time()
        if left > 0:
            self._head_timer = self.loop.call_later(left, self._head_timed_out)
            return
        self._head_deadline = None
        if self.transport.is_closing() or self._discarding:
            return
        if self._head_open:
            self._refuse(self.head_refusal)
        elif self._body_open and not (self.cycle is not None and self.cycle.response_complete):
            self._body_open = False
            self._refuse(self.body_refusal)
        else:
            self._close()


def with_timeouts(head: float, body: float) -> type[BoundedHttpToolsProtocol]:
    """The protocol with other time bounds (`httpd_head_timeout`, `httpd_body_timeout`)."""
    if (head, body) == (HEAD_TIMEOUT, BODY_TIMEOUT):
        return BoundedHttpToolsProtocol
    attributes = {
        "head_timeout": head,
        "body_timeout": body,
        "head_refusal": head_timeout_refusal(head),
        "body_refusal": body_timeout_refusal(body),
    }
    return type("BoundedHttpToolsProtocol", (BoundedHttpToolsProtocol,), attributes)
