"""The endpoint as a Starlette ASGI application: routes, request parsing, and answers.

``build_app(config, pool, extra_routes=...)`` returns the application. Other parts of the project
(the lookup pages, the CDS Hooks service) pass their own Starlette routes as ``extra_routes``; they
are tried after the endpoint's own routes, share its middleware (security headers, CORS) and run
under the same server and limits. The endpoint's routes:

* ``/sparql``: SPARQL 1.1 Protocol queries (GET, POST form-encoded or direct); without a query, the
  service description.
* ``/queries`` (the named queries as JSON) and ``/queries/NAME?param=value`` (one named query,
  parameters bound as typed terms by the engine).
* ``/health``: the worker pool as it is (503 when no worker is alive).
* ``/query``: the self-contained HTML query page (``/`` is the lookup home when the front door
  is mounted, otherwise a redirect to ``/query``).

Every request is parsed strictly (UTF-8 query strings and bodies, one value per parameter except
``format``, a body cap and a body deadline) before anything is screened; the query is screened
(:func:`axilla_kg.graph.sparql_text.screen`) before it goes to a worker; a handler never evaluates a query
itself. Blocking pool calls run in threads, bounded by a limiter.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Sequence
from functools import partial
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from axilla_kg.errors import AxillaKGError
from axilla_kg.graph.queries import QueryLibrary
from axilla_kg.graph.results import Term
from axilla_kg.graph.sparql_text import QueryRefused, screen
from axilla_kg.server.fairness import CostBook, query_key
from axilla_kg.server.formats import Limits, NotAcceptable, negotiate
from axilla_kg.server.limits import RequestLimits
from axilla_kg.server.page import render_page
from axilla_kg.server.protocol import HTTPError, ServerConfig, service_description
from axilla_kg.server.worker import Job, PoolBusy, QueryTimeout, Reply, WorkerLost, WorkerPool

_TEXT = "text/plain; charset=utf-8"
_MAX_FIELDS = 64  # parameters in one query string or form
_PENALTY_SECONDS = 30.0


class Endpoint:
    """Everything the handlers share: read-only after start-up except the worker pool."""

    def __init__(self, config: ServerConfig, pool: WorkerPool) -> None:
        self.config = config
        self.pool = pool
        self.limits = Limits(config.max_results, config.max_answer_mb * 1024 * 1024)
        # queries recently stopped (time limit, or no long-query slot): the same text is refused at
        # once for a while instead of costing another worker; key -> monotonic expiry
        self.stopped: OrderedDict[str, float] = OrderedDict()
        self.limiter = anyio.CapacityLimiter(max(4, pool.size * 8))
        # fair admission (fairness.py): what each query cost, and permits for the costly ones
        self.costs = CostBook()
        self.costly = anyio.Semaphore(max(1, pool.size - 1))
        self.library = QueryLibrary.load()
        self.page = render_page(self.library).encode()
        self.catalogue = json.dumps(
            [
                {
                    "name": q.name,
                    "title": q.title,
                    "answers": q.answers,
                    "parameters": [
                        {"name": p.name, "type": p.type, "required": p.required, "default": p.default, "doc": p.doc}
                        for p in q.parameters
                    ],
                    "query": q.text,
                }
                for q in self.library
            ],
            ensure_ascii=False,
            indent=1,
        ).encode()

    async def run(self, text: str, bindings: dict[str, Term], accept: str | None, formats: Sequence[str]) -> Reply:
        try:
            screened = screen(text, self.config.max_query_chars)
        except QueryRefused as exc:  # 403 refused by policy, 400 too deep or untokenizable, 413 too large
            raise HTTPError(exc.status, str(exc)) from None
        try:
            fmt = negotiate(accept, screened.is_graph, formats)
        except NotAcceptable as exc:
            raise HTTPError(406, str(exc)) from None
        key = query_key(text, bindings)  # the same for any spelling of the same query (fairness.py)
        expiry = self.stopped.get(key)
        if expiry is not None and expiry > time.monotonic():
            raise HTTPError(
                503, f"this query was stopped less than {_PENALTY_SECONDS:g} s ago and is not run again yet"
            )
        job = Job(text, bindings, fmt, self.limits, self.config.base_iri)
        wait = max(self.config.timeout, 5.0)
        call = partial(self.pool.run, job, self.config.timeout, wait)
        costly = self.costs.is_costly(key)
        try:
            if not costly:
                reply = await anyio.to_thread.run_sync(call, limiter=self.limiter)
            else:  # at most workers - 1 costly queries hold a worker: one is always left for the rest
                with anyio.fail_after(wait):
                    await self.costly.acquire()
                try:
                    reply = await anyio.to_thread.run_sync(call, limiter=self.limiter)
                finally:
                    self.costly.release()
        except TimeoutError:
            raise HTTPError(
                503, "server busy: the workers this costly query may use stayed busy with costly queries; retry later"
            ) from None
        except QueryTimeout:
            self.costs.record(key, self.config.timeout)
            self._remember(key)
            raise HTTPError(
                503, f"query stopped: it ran longer than the time limit of {self.config.timeout:g} s (--timeout)"
            ) from None
        except WorkerLost:
            raise HTTPError(
                500, "query aborted: it ended two worker processes (memory limit?); the server goes on"
            ) from None
        except PoolBusy as exc:
            if exc.args and str(exc.args[0]).startswith("stopped"):
                self.costs.record(key, self.config.timeout)
                self._remember(key)
            raise HTTPError(503, f"server busy: {exc}") from None
        self.costs.record(key, reply.seconds)
        return reply

    def costly_running(self) -> int:
        """Costly queries holding a worker now (at most workers - 1, see fairness.py)."""
        return max(1, self.pool.size - 1) - int(self.costly.value)

    def _remember(self, key: str) -> None:
        self.stopped[key] = time.monotonic() + _PENALTY_SECONDS
        self.stopped.move_to_end(key)
        while len(self.stopped) > 4096:
            self.stopped.popitem(last=False)


# --- request parsing -----------------------------------------------------------------------------
def parse_pairs(raw: bytes, what: str) -> dict[str, list[str]]:
    """``a=1&b=2`` as lists of values, decoded as strict UTF-8 (a bad byte is a 400, not a guess)."""
    try:
        text = raw.decode("ascii")
        pairs = urllib.parse.parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=_MAX_FIELDS
        )
    except UnicodeDecodeError:
        raise HTTPError(400, f"{what} is not valid percent-encoded UTF-8") from None
    except ValueError:
        raise HTTPError(400, f"{what} has more than {_MAX_FIELDS} fields") from None
    params: dict[str, list[str]] = {}
    for key, value in pairs:
        params.setdefault(key, []).append(value)
    return params


def one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise HTTPError(400, f"parameter '{name}' given {len(values)} times")
    return values[0]


async def read_body(request: Request, config: ServerConfig) -> bytes:
    """The request body, refused past ``--max-body`` bytes or when it does not arrive in time."""
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) > config.max_body:  # h11 has already checked it is digits
        raise HTTPError(413, f"request body of {declared} bytes exceeds the limit of {config.max_body} (--max-body)")
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(config.body_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > config.max_body:
                    raise HTTPError(413, f"request body exceeds the limit of {config.max_body} bytes (--max-body)")
                chunks.append(chunk)
    except TimeoutError:
        raise HTTPError(408, f"request body not received within {config.body_timeout:g} s (--body-timeout)") from None
    return b"".join(chunks)


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, f"{what} is not valid UTF-8") from None


def _reply(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, media_type=None, headers={"Content-Type": reply.content_type})


def _error(status: int, message: str) -> Response:
    # after a 408 or 413 the rest of the body is unread: it would be taken for the next request
    headers = {"Connection": "close"} if status in (408, 413, 431) else None
    return Response((message.rstrip("\n") + "\n").encode(), status_code=status, media_type=_TEXT, headers=headers)


# --- handlers ------------------------------------------------------------------------------------
def _handler(endpoint: Endpoint) -> dict[str, Any]:
    config = endpoint.config

    async def sparql(request: Request) -> Response:
        params = parse_pairs(request.scope.get("query_string", b""), "the query string")
        if "update" in params:
            raise HTTPError(403, "SPARQL Update is refused: this endpoint is read-only")
        if request.method == "POST":
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            body = await read_body(request, config)
            if content_type == "application/x-www-form-urlencoded":
                form = parse_pairs(body, "the form body")
                if "update" in form:
                    raise HTTPError(403, "SPARQL Update is refused: this endpoint is read-only")
                for key, values in form.items():
                    params.setdefault(key, []).extend(values)
                text = one(params, "query")
            elif content_type == "application/sparql-query":
                if "query" in params:
                    raise HTTPError(400, "give the query either in the body or as 'query', not both")
                text = _decode(body, "the query body")
            elif content_type == "application/sparql-update":
                raise HTTPError(403, "SPARQL Update is refused: this endpoint is read-only")
            else:
                raise HTTPError(
                    415,
                    f"unsupported Content-Type '{content_type[:100]}' "
                    "(use application/sparql-query or application/x-www-form-urlencoded)",
                )
            if text is None:
                raise HTTPError(400, "no query given (form field 'query')")
        else:
            text = one(params, "query")
            if text is None:
                return await description(request, params)
        for key in ("default-graph-uri", "named-graph-uri"):
            if params.get(key):
                raise HTTPError(
                    403, f"'{key}' is refused: this endpoint serves one default graph and never fetches graphs"
                )
        reply = await endpoint.run(text, {}, request.headers.get("accept"), params.get("format", []))
        return _reply(reply)

    async def description(request: Request, params: dict[str, list[str]]) -> Response:
        try:
            fmt = negotiate(request.headers.get("accept"), True, params.get("format", []))
        except NotAcceptable as exc:
            raise HTTPError(406, str(exc)) from None
        body, media = service_description(config, endpoint.pool.triples, fmt)
        return Response(body, media_type=media)

    async def named(request: Request) -> Response:
        name = request.path_params["name"]
        params = parse_pairs(request.scope.get("query_string", b""), "the query string")
        query = endpoint.library.get(name)  # UnknownQueryError -> 400 with the list of names
        values: dict[str, object] = {k: one(params, k) for k in params if k != "format"}
        bindings = query.bindings(values)  # typed, validated; ParameterError -> 400
        reply = await endpoint.run(query.text, bindings, request.headers.get("accept"), params.get("format", []))
        return _reply(reply)

    async def health(request: Request) -> Response:
        state = endpoint.pool.health()
        body = {
            "status": "ok" if state.ok else "unavailable",
            "triples": endpoint.pool.triples,
            "workers": state.alive,
            "workers_wanted": state.size,
            "idle": state.idle,
            "restarts": state.restarts,
            "last_error": state.last_error,
            "costly_running": endpoint.costly_running(),
        }
        return JSONResponse(body, status_code=200 if state.ok else 503)

    async def page(request: Request) -> Response:
        headers = {
            "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
        }
        return Response(endpoint.page, media_type="text/html; charset=utf-8", headers=headers)

    async def catalogue(request: Request) -> Response:
        return Response(endpoint.catalogue, media_type="application/json; charset=utf-8")

    return {"sparql": sparql, "named": named, "health": health, "page": page, "catalogue": catalogue}


class _Guard:
    """Outermost middleware: maps HTTPError and the library's own errors to plain-text answers,
    and adds headers every answer carries. A client that disconnects mid-request is not an error
    (nothing is logged). Anything else is Starlette's plain 500, no traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except ClientDisconnect:
            return  # the client went away mid-request: nobody to answer, and not a server error
        except (HTTPError, AxillaKGError) as exc:
            if started:
                raise
            status = exc.status if isinstance(exc, HTTPError) else 400
            await _error(status, str(exc))(scope, receive, send_with_headers)


def build_app(config: ServerConfig, pool: WorkerPool, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The endpoint as an ASGI application; ``extra_routes`` (Starlette routes) are served after its own."""
    endpoint = Endpoint(config, pool)
    handlers = _handler(endpoint)
    routes: list[BaseRoute] = [
        Route("/sparql", handlers["sparql"], methods=["GET", "POST"]),
        Route("/sparql/", handlers["sparql"], methods=["GET", "POST"]),
        Route("/queries", handlers["catalogue"], methods=["GET"]),
        Route("/queries/{name}", handlers["named"], methods=["GET"]),
        Route("/health", handlers["health"], methods=["GET"]),
        Route("/query", handlers["page"], methods=["GET"]),
        *extra_routes,
        # tried after the front door's own "/" (the lookup home): without it, "/" leads to the query page
        Route("/", lambda request: RedirectResponse("/query"), methods=["GET"]),
    ]
    app = assemble(routes, config)
    app.state.endpoint = endpoint
    return app


def assemble(routes: Sequence[BaseRoute], config: ServerConfig) -> Starlette:
    """``routes`` under the middleware every server of this project runs (``axilla-kg serve`` and
    ``python -m axilla_kg.web`` alike): error answers and security headers, the request limits of
    ``config`` (:mod:`.limits`), and CORS when ``config.cors``."""
    middleware = [
        Middleware(_Guard),
        Middleware(RequestLimits, max_body=config.max_body, body_timeout=config.body_timeout),
    ]
    if config.cors:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Content-Type", "Accept"],
            )
        )
    return Starlette(routes=list(routes), middleware=middleware)
