"""The HTTP listener: uvicorn (h11), plus the one deadline uvicorn does not enforce, built from public parts.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``), caps concurrent connections
and requests (``limit_concurrency``: 503 beyond), caps the size of a request head
(``h11_max_incomplete_event_size``) and, through h11, refuses a malformed request line, malformed
headers and a Content-Length that is not plain digits (``1_0`` is a 400, not 10). It has no setting
for a deadline on the request head itself: a client that connects and sends nothing, or sends its
headers one byte at a time (slowloris), would hold a connection forever (every byte cancels the
keep-alive timer). :class:`HeadDeadline` adds that deadline: from the moment a connection opens,
and from the first byte of each later request, the request line and headers must be complete
within ``header_timeout`` seconds, or the server answers 408 and closes. (Between requests an idle
connection is uvicorn's: it closes after ``timeout_keep_alive``.) The body has its own deadline,
enforced by the request-limits middleware while the application reads (:mod:`.limits`).

How, without touching uvicorn's internals: two public boundaries see the two events the deadline
needs. The asyncio boundary sees a connection open and its bytes arrive: the event loop that runs
uvicorn's documented ``Server.serve()`` wraps each protocol object uvicorn creates in
:class:`_Watch`, a plain ``asyncio.Protocol`` that passes every call on unchanged and owns the
timer. The ASGI boundary sees a head complete: uvicorn calls the application only once h11 has
parsed the whole head, so :meth:`HeadDeadline.middleware` (the outermost ASGI layer) disarms the
timer when it is called and re-opens the wait when the response has been sent. The two meet on the
connection's addresses, which the ASGI scope carries (``client`` and ``server``) and the transport
reports (``peername`` and ``sockname``); uvicorn's proxy-header rewriting of ``client`` is off
(:func:`run`). A head that h11 refuses (400, 431) or that finds the server full (503) never reaches
the application: uvicorn answers it and closes, and the closed connection cancels the timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from axilla_kg.errors import Terminated
from axilla_kg.server.protocol import ServerConfig

HEAD_LIMIT = 16 * 1024  # bytes of a request line plus headers

_Key = tuple[tuple[str, int], tuple[str, int]]  # (client host, port), (server host, port)


def _address(info: Any) -> tuple[str, int] | None:
    """``(host, port)`` of a socket address as the ASGI scope writes it (IPv6 addresses have four parts)."""
    if isinstance(info, (list, tuple)) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None


class _Watch(asyncio.Protocol):
    """One connection: uvicorn's protocol object, wrapped; every call is passed on unchanged."""

    def __init__(self, inner: asyncio.Protocol, owner: HeadDeadline) -> None:
        self.inner = inner
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.key: _Key | None = None
        self.waiting = True  # for a request head (at the start, and after each response)
        self.request = 0  # requests whose head arrived on this connection
        self.timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol, passed on ------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        client = _address(transport.get_extra_info("peername"))
        server = _address(transport.get_extra_info("sockname"))
        if client is not None and server is not None:
            self.key = (client, server)
            self.owner.open[self.key] = self
        self.inner.connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.waiting and self.timer is None:
            self._arm()  # the first byte of a request on a kept-alive connection
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.key is not None and self.owner.open.get(self.key) is self:
            del self.owner.open[self.key]
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # --- the deadline ---------------------------------------------------------------------------
    def head_arrived(self) -> int:
        """The application was called: the head is complete. Returns the request's number."""
        self.waiting = False
        self._disarm()
        self.request += 1
        return self.request

    def response_sent(self, request: int) -> None:
        """Request ``request`` has been answered; the next byte starts the next head's deadline."""
        if request == self.request:  # not a late signal from an earlier request (a background task)
            self.waiting = True

    def _arm(self) -> None:
        self._disarm()
        self.timer = asyncio.get_running_loop().call_later(self.owner.timeout, self._timed_out)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _timed_out(self) -> None:
        # one more turn of the loop first: a head completed by the bytes just received has had its
        # application task created, and that task's first step (which calls head_arrived) runs first
        self.timer = None
        asyncio.get_running_loop().call_soon(self._expire)

    def _expire(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing() or not self.waiting:
            return
        message = f"request line and headers not received within {self.owner.timeout:g} s\n".encode()
        head = (
            "HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(message)}\r\nconnection: close\r\n\r\n"
        ).encode()
        transport.write(head + message)
        transport.close()


class HeadDeadline:
    """The request-head deadline of one server (see the module docstring): :meth:`wrap` for each
    connection's protocol, :meth:`middleware` around the application."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.open: dict[_Key, _Watch] = {}

    def wrap(self, protocol_factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        return lambda: _Watch(protocol_factory(), self)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """``app`` behind the ASGI layer that tells each connection's watch when a head arrived."""

        async def watched(scope: Scope, receive: Receive, send: Send) -> None:
            client, server = _address(scope.get("client")), _address(scope.get("server"))
            watch = self.open.get((client, server)) if scope["type"] == "http" and client and server else None
            if watch is None:  # not a connection this listener accepted (another server, a test client)
                await app(scope, receive, send)
                return
            request = watch.head_arrived()

            async def signalling_send(message: Message) -> None:
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    watch.response_sent(request)  # before the bytes go out: the client may answer at once
                await send(message)

            try:
                await app(scope, receive, signalling_send)
            finally:
                watch.response_sent(request)  # also when the application failed (uvicorn answers 500)

        return watched

    def new_loop(self) -> asyncio.AbstractEventLoop:
        """An event loop whose servers wrap each connection's protocol in a :class:`_Watch`."""
        return _WatchingLoop(self)


class _WatchingLoop(asyncio.SelectorEventLoop):
    """The standard selector event loop; ``create_server`` wraps the protocol factory it is given."""

    def __init__(self, deadline: HeadDeadline) -> None:
        super().__init__()
        self.deadline = deadline

    async def create_server(self, protocol_factory: Any, *args: Any, **kwargs: Any) -> asyncio.Server:
        return await super().create_server(self.deadline.wrap(protocol_factory), *args, **kwargs)


def run(app: ASGIApp, sock: socket.socket, config: ServerConfig) -> None:
    """Serve ``app`` on the listening socket ``sock`` with ``config``'s limits until uvicorn stops
    (Ctrl+C or SIGTERM: uvicorn shuts down gracefully, then raises the signal again for the caller;
    see :func:`stopped_by_sigterm`)."""
    deadline = HeadDeadline(config.header_timeout)
    server = uvicorn.Server(
        uvicorn.Config(
            deadline.middleware(app),
            http="h11",
            ws="none",  # no route speaks WebSocket; an Upgrade header is an ordinary request
            lifespan="off",
            timeout_keep_alive=max(1, round(config.idle_timeout)),
            limit_concurrency=config.max_connections,
            h11_max_incomplete_event_size=HEAD_LIMIT,
            proxy_headers=False,  # the scope's client address must be the connection's (see above)
            server_header=False,
            access_log=config.access_log,
            log_level="info" if config.access_log else "warning",
            timeout_graceful_shutdown=5,
        )
    )
    with asyncio.Runner(loop_factory=deadline.new_loop) as runner:
        runner.run(server.serve(sockets=[sock]))


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM ends the block like a return, so ``finally`` blocks and ``atexit`` handlers run.

    Why: uvicorn stops gracefully on SIGTERM and then raises the signal again for the previous
    handler; with the default one the process died there, before the query pool and the CDS Hooks
    pool were closed, and the multiprocessing resource tracker reported their semaphores as leaked.
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    except Terminated:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
