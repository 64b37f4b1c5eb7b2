"""The request limits every route shares, as one ASGI middleware: head size, body size, body deadline.

Why a middleware: the limits were enforced by the SPARQL endpoint's own body reader, so routes
added beside it (the CDS Hooks service, the pages) had none — a ``Content-Length: 99999999999``,
a half-sent body or an endless chunked body kept a connection (and a concurrency slot) as long as
the client liked. Here every request passes the same checks before any route sees it, whatever
the route does with its body:

* the request head (request line and headers, counted as sent) at most ``HEAD_LIMIT`` bytes, else
  431 — h11's own cap only applies to a head that arrives in pieces, so one 60 kB packet passed;
* a declared ``Content-Length`` over ``max_body`` is refused with 413 before a byte is read, and a
  body (chunked or not) that grows past it while being read, with 413;
* the whole body must arrive within ``body_timeout`` seconds of the first read, else 408;
* a response sent while the request body is still unread carries ``Connection: close``: the rest of
  that body would otherwise be read as the next request, or trickle in to keep the connection.

Refusals close the connection. The deadlines for the head itself and for idle keep-alive
connections are the HTTP listener's (:mod:`axilla_kg.server.listener`, uvicorn).
"""

from __future__ import annotations

import time

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from axilla_kg.server.listener import HEAD_LIMIT
from axilla_kg.server.protocol import HTTPError


def head_size(scope: Scope) -> int:
    """Bytes of the request head as the client sent it (request line, headers, line ends)."""
    target = len(scope.get("raw_path") or scope.get("path", "").encode())
    query = scope.get("query_string") or b""
    line = len(scope.get("method", "")) + 1 + target + (1 + len(query) if query else 0) + len(" HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in scope.get("headers", [])) + 2


class RequestLimits:
    """The middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, max_body: int, body_timeout: float) -> None:
        self.app = app
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = head_size(scope)
        if size > HEAD_LIMIT:
            raise HTTPError(431, f"request head of {size} bytes exceeds the limit of {HEAD_LIMIT}")
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            message = f"request body of {int(declared)} bytes exceeds the limit of {self.max_body} (--max-body)"
            raise HTTPError(413, message)
        expects_body = declared not in (None, b"0") or b"transfer-encoding" in headers
        complete = not expects_body
        read = 0
        deadline = 0.0

        async def limited_receive() -> Message:
            nonlocal complete, read, deadline
            if complete:
                return await receive()  # after the body: only http.disconnect is left to wait for
            if not deadline:
                deadline = time.monotonic() + self.body_timeout
            with anyio.move_on_after(max(deadline - time.monotonic(), 0.0)) as waited:
                message = await receive()
            if waited.cancelled_caught:
                raise HTTPError(408, f"request body not received within {self.body_timeout:g} s (--body-timeout)")
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.max_body:
                    raise HTTPError(413, f"request body exceeds the limit of {self.max_body} bytes (--max-body)")
                if not message.get("more_body", False):
                    complete = True
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not complete:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, limited_receive, closing_send)
