"""The HTTP listener: uvicorn (h11) with the deadlines uvicorn itself does not enforce.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``), caps concurrent connections
and requests (``limit_concurrency``: 503 beyond), caps the size of a request head
(``h11_max_incomplete_event_size``) and, through h11, refuses a malformed request line, malformed
headers and a Content-Length that is not plain digits (``1_0`` is a 400, not 10). It has no deadline
for the request head itself: a client that connects and sends nothing, or sends its headers one
byte at a time, would hold a connection forever (every byte re-arms nothing and cancels the
keep-alive timer). :class:`DeadlineProtocol` adds that deadline: from the moment a connection opens,
and from the first byte of each later request, the request line and headers must be complete
within ``header_timeout`` seconds, or the server answers 408 and closes. (Between requests an idle
connection is uvicorn's: it closes after ``timeout_keep_alive``.) The body has its own deadline,
enforced by the application while it reads (``app.read_body``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_LIMIT = 16 * 1024  # bytes of a request line plus headers


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head; see the module docstring."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_head_deadline()

    def _arm_head_deadline(self) -> None:
        self._cancel_head_deadline()
        self._head_deadline = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def data_received(self, data: bytes) -> None:
        if self._head_deadline is None and self.conn.their_state is h11.IDLE:
            self._arm_head_deadline()  # the first byte of a request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_deadline()  # the head is complete

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.our_state is h11.IDLE:
            message = f"request line and headers not received within {self.header_timeout:g} s\n".encode()
            head = (
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                f"content-length: {len(message)}\r\nconnection: close\r\n\r\n"
            ).encode()
            self.transport.write(head + message)
        self.transport.close()


def protocol_class(header_timeout: float) -> type[Any]:
    """A :class:`DeadlineProtocol` subclass with this server's head deadline (uvicorn takes a class)."""
    return type("AxillaKGProtocol", (DeadlineProtocol,), {"header_timeout": header_timeout})
