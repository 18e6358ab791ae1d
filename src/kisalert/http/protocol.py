"""uvicorn's HTTP protocol (httptools) with a bound on the request head.

httptools gathers a request line and headers however long they grow, so one client
sending an endless URL or header could take all of the server's memory. Past
`MAX_HEAD` bytes before the end of the headers the request is answered 414 (the URL
alone is too long) or 431 and the connection is closed.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 64 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _head_bytes = 0
    _in_head = True  # between requests too: what comes next is a head
    _line_done = False  # the request line has ended: what follows are headers

    def data_received(self, data: bytes) -> None:
        if not self._in_head:
            super().data_received(data)
            return
        if not self._line_done and b"\n" in data[: MAX_HEAD + 1]:
            self._line_done = self._head_bytes + data.index(b"\n") < MAX_HEAD
        self._head_bytes += len(data)
        # Parse first: the chunk may end the head and carry a body (up to 1 MiB is
        # fine). What is held meanwhile is at most the limit plus one read.
        super().data_received(data)
        if self._in_head and self._head_bytes > MAX_HEAD:
            self._refuse()

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._line_done = True, 0, False

    def _refuse(self) -> None:
        if self.transport.is_closing():
            return
        if self._line_done:
            status, reason = b"431 Request Header Fields Too Large", "Request headers too large"
        else:
            status, reason = b"414 URI Too Long", "Request URI too long"
        text = f"{reason} (limit {MAX_HEAD // 1024} KiB)\n".encode()
        self.transport.write(
            b"HTTP/1.1 %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, len(text), text)
        )
        self.transport.close()
