"""Running the server: binding the socket, uvicorn, clean shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from kisalert.http import logfilter
from kisalert.http.accesslog import AccessLog
from kisalert.http.app import make_app
from kisalert.http.protocol import BODY_TIMEOUT, HEAD_TIMEOUT, with_timeouts
from kisalert.http.wsprotocol import SafeWebSocketProtocol
from kisalert.service import Service

WS_MAX_FRAME = 1 << 20  # bytes of one eventbus frame from a client; larger closes 1009
TICK_SECONDS = 0.1  # uvicorn's tick: the Date header, the request limit, a stop
CONNECTIONS_CLOSE_SECONDS = 0.1  # at a stop, before the graceful wait: uvicorn's sleep
CONNECTIONS_POLL_SECONDS = 0.005

# The logger uvicorn's own `shutdown` reports on.
_uvicorn_log = logging.getLogger("uvicorn.error")


class StartupError(Exception):
    """The server cannot start; str() is the one line to print."""


def bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    try:
        sock = socket.socket(family, kind, proto)
    except OSError as exc:  # e.g. a sandbox that allows no such sockets
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, but a signal ends `serve()` instead of being re-raised after it,
    so that the service can finish its own shutdown and exit 0.

    And a stop takes no longer than it has to. uvicorn notices a signal at its next
    tick (up to 0.1 s later) and, having asked the open connections to close, sleeps
    0.1 s whether or not they have. Here the signal ends the tick's wait at once, and
    the stop waits for the connections only until they are closed (0.1 s at most, as
    before); from there on it is uvicorn's own."""

    _tick: asyncio.Future[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        signals = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        tick = self._tick
        if tick is not None:
            tick.get_loop().call_soon_threadsafe(_end_tick, tick)

    async def main_loop(self) -> None:
        """uvicorn's `main_loop`, with a tick's wait that a signal ends."""
        loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            self._tick = tick = loop.create_future()
            if not self.should_exit:  # else the signal came before there was a tick to end
                timer = loop.call_later(TICK_SECONDS, _end_tick, tick)
                try:
                    await tick
                finally:
                    timer.cancel()
            self._tick = None
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's `shutdown`, with the fixed 0.1 s sleep made a wait for the open
        connections to close, of 0.1 s at most."""
        _uvicorn_log.info("Shutting down")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECTIONS_CLOSE_SECONDS
        while self.server_state.connections and loop.time() < deadline:
            await asyncio.sleep(CONNECTIONS_POLL_SECONDS)
        for connection in list(self.server_state.connections):
            # An idle TLS connection, told to close, waits for the peer's close_notify,
            # which a client's idle pool never reads to send: the stop took the whole
            # graceful timeout (5 s) for nothing. Closing and with nothing left to
            # write, it loses no answer when cut.
            transport = getattr(connection, "transport", None)
            if (
                transport is not None
                and transport.is_closing()
                and transport.get_write_buffer_size() == 0
            ):
                transport.abort()
        try:
            await asyncio.wait_for(
                self._wait_tasks_to_complete(), timeout=self.config.timeout_graceful_shutdown
            )
        except TimeoutError:
            _uvicorn_log.error(
                "Cancel %s running task(s), timeout graceful shutdown exceeded",
                len(self.server_state.tasks),
            )
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()


def _end_tick(tick: asyncio.Future[None]) -> None:
    if not tick.done():
        tick.set_result(None)


def _loop_factory() -> type[asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported OS
        return None
    return uvloop.Loop


def server_config(
    app: ASGIApp,
    ping: float | None,
    ping_timeout: float | None,
    tls: tuple[str, str] | None = None,
    timeouts: tuple[float, float] = (HEAD_TIMEOUT, BODY_TIMEOUT),
) -> uvicorn.Config:
    """The server stack kisalert runs on; bench/raise_throughput.py serves its ceiling,
    a bare ASGI app, on exactly this."""
    return uvicorn.Config(
        app,
        http=with_timeouts(*timeouts),
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        # Requests still running after this long do not hold up a stop.
        timeout_graceful_shutdown=5,
        # uvicorn's `websockets` implementation: the eventbus relies on its flow
        # control, as its send waits while the socket's buffer is full, which is how a
        # stalled subscriber is noticed and cut off. The sans-I/O implementation uvicorn
        # recommends instead buffers without bound.
        ws=SafeWebSocketProtocol,
        # Idle eventbus connections are pinged; one that does not answer is closed.
        ws_ping_interval=ping,
        ws_ping_timeout=ping_timeout,
        # Compressing each frame once per subscriber cost more CPU than the whole
        # rest of the fan-out; alerts are small and usually on a LAN or loopback.
        ws_per_message_deflate=False,
        # A client's frames are commands of a few KiB at most; uvicorn's default of 16
        # MiB let one readonly subscriber hold the loop ~16 ms and 13 MB per frame.
        ws_max_size=WS_MAX_FRAME,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )


def run_loop(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Runs `main` on uvloop, the event loop kisalert is measured on."""
    factory = _loop_factory()
    if factory is not None:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(main())
    else:  # pragma: no cover
        asyncio.run(main())


def serve(
    service: Service,
    sock: socket.socket,
    banner: str,
    tls: tuple[str, str] | None = None,
    access_log: AccessLog | None = None,
) -> None:
    config = server_config(
        make_app(service, access_log),
        service.config.eventbus_ping,
        service.config.eventbus_ping_timeout,
        tls,
        (service.config.head_timeout, service.config.body_timeout),
    )
    server = _Server(config)
    logfilter.install()  # after uvicorn has set up its logging, in Config()

    async def main() -> None:
        await service.start()  # LogError here ends the process with a one-line message
        # What start-up made (modules, catalogue, recovered backlog) lives as long as
        # the process: out of the collector's sight, a full collection's pause shrinks
        # (75 ms to 13-54 ms measured), which every client would otherwise wait out.
        gc.freeze()
        if access_log is not None and access_log.path is not None:
            # How a rotated access log is let go (logrotate's postrotate, systemd's
            # ExecReload). Only then: a server run in a terminal still ends with it.
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, access_log.reopen)
        print(banner, flush=True)
        try:
            await server.serve(sockets=[sock])
        finally:
            await service.stop()

    run_loop(main)
    print("kisalert stopped", file=sys.stderr, flush=True)
