"""The SPARQL 1.1 Protocol over HTTP: requests in, screened jobs to workers, answers out.

Request handling happens in the server process, one thread per connection (HTTP/1.1 keep-alive,
so a client reuses its connection). A handler thread parses and screens the request, negotiates
the format and hands the query to a worker process (see ``worker.py``); it never evaluates a
query itself, so a slow query can only ever hold one worker. Handlers share nothing mutable but
the worker pool, whose queue is thread-safe.

Routes: ``/sparql`` (GET/POST queries; GET without a query returns the service description),
``/queries`` (the named queries as JSON), ``/queries/NAME?param=value`` (run a named query with
typed, engine-bound parameters), ``/health`` and ``/`` (a self-contained HTML query page).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from axilla_kg import __version__
from axilla_kg.errors import AxillaKGError
from axilla_kg.queries import QueryLibrary
from axilla_kg.server.formats import NotAcceptable, negotiate
from axilla_kg.server.page import render_page
from axilla_kg.server.worker import Job, PoolBusy, QueryTimeout, Reply, WorkerLost, WorkerPool
from axilla_kg.sparql_text import QueryRefused, screen
from axilla_kg.terms import Term

_TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class ServerConfig:
    """Limits and bindings of one server; every one is a command-line flag of ``axilla-kg serve``."""

    host: str = "127.0.0.1"
    port: int = 7070
    data: tuple[str, ...] = ()
    workers: int = 2
    timeout: float = 10.0  # seconds a query may run before its worker is killed
    max_results: int = 100_000  # rows (SELECT) or triples (CONSTRUCT/DESCRIBE)
    max_body: int = 1_048_576  # bytes of a POST body
    memory_mb: int = 2048  # address-space limit of each worker process; 0 = none
    cors: bool = False
    access_log: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)


class HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Endpoint:
    """Everything a request handler needs; read-only after start-up except the worker pool."""

    def __init__(self, config: ServerConfig, pool: WorkerPool) -> None:
        self.config = config
        self.pool = pool
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

    def run(self, text: str, bindings: dict[str, Term], accept: str | None, short: str | None) -> Reply:
        try:
            screened = screen(text)
        except QueryRefused as exc:  # 403 refused by policy, 400 too deep or untokenizable, 413 too large
            raise HTTPError(exc.status, str(exc)) from None
        try:
            fmt = negotiate(accept, screened.is_graph, short)
        except NotAcceptable as exc:
            raise HTTPError(406, str(exc)) from None
        job = Job(text, bindings, fmt, self.config.max_results)
        try:
            return self.pool.run(job, self.config.timeout, wait_limit=max(self.config.timeout, 5.0))
        except QueryTimeout:
            raise HTTPError(
                503, f"query stopped: it ran longer than the time limit of {self.config.timeout:g} s (--timeout)"
            ) from None
        except WorkerLost:
            raise HTTPError(500, "query aborted: its worker process died (memory limit?); the server goes on") from None
        except PoolBusy:
            raise HTTPError(503, "server busy: no query worker became free in time; retry later") from None


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise HTTPError(400, f"parameter '{name}' given {len(values)} times")
    return values[0]


def make_handler(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    config = endpoint.config

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # with keep-alive, Nagle + delayed ACK adds ~40 ms per answer
        server_version = f"axilla-kg/{__version__}"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            if config.access_log:
                sys.stderr.write(f"{self.address_string()} - {format % args}\n")

        # --- plumbing ---------------------------------------------------------------------
        def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if config.cors:
                self.send_header("Access-Control-Allow-Origin", "*")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            # status line, headers and body in one write: one TCP segment for a small answer
            buffer: list[bytes] = self.__dict__.setdefault("_headers_buffer", [])
            head = b"".join(buffer) + b"\r\n"
            buffer.clear()
            self.wfile.write(head if self.command == "HEAD" else head + body)

        def _error(self, status: int, message: str) -> None:
            self._send(status, _TEXT, (message.rstrip("\n") + "\n").encode())

        def _handle(self, method: str) -> None:
            try:
                self._dispatch(method)
            except HTTPError as exc:
                if exc.status in (411, 413):
                    self.close_connection = True  # the unread body would corrupt the next request
                self._error(exc.status, exc.message)
            except AxillaKGError as exc:
                self._error(400, str(exc))

        def do_GET(self) -> None:
            self._handle("GET")

        def do_HEAD(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._refuse_method()

        def do_DELETE(self) -> None:
            self._refuse_method()

        def do_PATCH(self) -> None:
            self._refuse_method()

        def do_OPTIONS(self) -> None:
            headers = {"Allow": "GET, HEAD, POST, OPTIONS"}
            if config.cors:
                headers |= {
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type, Accept",
                }
            self._send(204, _TEXT, b"", headers)

        def _refuse_method(self) -> None:
            self.close_connection = True
            self._send(405, _TEXT, b"read-only endpoint: only GET and POST are allowed\n", {"Allow": "GET, HEAD, POST"})

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                raise HTTPError(411, "chunked request bodies are not accepted; send Content-Length")
            length_text = self.headers.get("Content-Length")
            if length_text is None:
                raise HTTPError(411, "a POST needs a Content-Length header")
            try:
                length = int(length_text)
            except ValueError:
                raise HTTPError(400, f"bad Content-Length '{length_text}'") from None
            if length < 0:
                raise HTTPError(400, f"bad Content-Length '{length_text}'")
            if length > config.max_body:
                raise HTTPError(
                    413, f"request body of {length} bytes exceeds the limit of {config.max_body} (--max-body)"
                )
            return self.rfile.read(length)

        # --- routes -----------------------------------------------------------------------
        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            params = parse_qs(url.query, keep_blank_values=True)
            path = url.path.rstrip("/") or "/"
            if path == "/sparql":
                self._sparql(method, params)
            elif path == "/health" and method == "GET":
                body = {"status": "ok", "triples": endpoint.pool.triples, "workers": endpoint.pool.size}
                self._send(200, "application/json", json.dumps(body).encode())
            elif path == "/" and method == "GET":
                headers = {
                    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
                    "style-src 'unsafe-inline'; connect-src 'self'",
                    "X-Content-Type-Options": "nosniff",
                }
                self._send(200, "text/html; charset=utf-8", endpoint.page, headers)
            elif path == "/queries" and method == "GET":
                self._send(200, "application/json; charset=utf-8", endpoint.catalogue)
            elif path.startswith("/queries/") and method == "GET":
                self._named(path.removeprefix("/queries/"), params)
            elif method == "POST" and path in ("/", "/health", "/queries"):
                self._refuse_method()
            else:
                self._error(404, f"no such resource: {url.path} (try /sparql, /queries, /health or /)")

        def _sparql(self, method: str, params: dict[str, list[str]]) -> None:
            if "update" in params:
                raise HTTPError(403, "SPARQL Update is refused: this endpoint is read-only")
            if method == "POST":
                content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                body = self._body()
                if content_type == "application/x-www-form-urlencoded":
                    try:
                        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
                    except UnicodeDecodeError:
                        raise HTTPError(400, "form body is not UTF-8") from None
                    if "update" in form:
                        raise HTTPError(403, "SPARQL Update is refused: this endpoint is read-only")
                    for key, values in form.items():
                        params.setdefault(key, []).extend(values)
                    text = _one(params, "query")
                elif content_type == "application/sparql-query":
                    if "query" in params:
                        raise HTTPError(400, "give the query either in the body or as 'query', not both")
                    try:
                        text = body.decode("utf-8")
                    except UnicodeDecodeError:
                        raise HTTPError(400, "query body is not UTF-8") from None
                elif content_type == "application/sparql-update":
                    raise HTTPError(403, "SPARQL Update is refused: this endpoint is read-only")
                else:
                    raise HTTPError(
                        415,
                        f"unsupported Content-Type '{content_type}' "
                        "(use application/sparql-query or application/x-www-form-urlencoded)",
                    )
                if text is None:
                    raise HTTPError(400, "no query given (form field 'query')")
            else:
                text = _one(params, "query")
                if text is None:
                    self._service_description()
                    return
            for key in ("default-graph-uri", "named-graph-uri"):
                if params.get(key):
                    raise HTTPError(
                        403, f"'{key}' is refused: this endpoint serves one default graph and never fetches graphs"
                    )
            reply = endpoint.run(text, {}, self.headers.get("Accept"), _one(params, "format"))
            self._send(reply.status, reply.content_type, reply.body)

        def _named(self, name: str, params: dict[str, list[str]]) -> None:
            query = endpoint.library.get(name)  # UnknownQueryError -> 400 with the list of names
            short = _one(params, "format")
            values: dict[str, object] = {k: _one(params, k) for k in params if k != "format"}
            bindings = query.bindings(values)  # typed, validated; ParameterError -> 400
            reply = endpoint.run(query.text, bindings, self.headers.get("Accept"), short)
            self._send(reply.status, reply.content_type, reply.body)

        def _service_description(self) -> None:
            host = self.headers.get("Host") or f"{config.host}:{config.port}"
            formats = [
                "SPARQL_Results_JSON",
                "SPARQL_Results_XML",
                "SPARQL_Results_CSV",
                "SPARQL_Results_TSV",
                "Turtle",
                "N-Triples",
                "JSON-LD",
                "RDF_XML",
            ]
            lines = [
                "@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .",
                "@prefix void: <http://rdfs.org/ns/void#> .",
                "",
                "[] a sd:Service ;",
                f"  sd:endpoint <http://{host}/sparql> ;",
                "  sd:supportedLanguage sd:SPARQL11Query ;",
                "  sd:resultFormat " + ", ".join(f"<http://www.w3.org/ns/formats/{f}>" for f in formats) + " ;",
                "  sd:defaultDataset [ a sd:Dataset ;",
                f"    sd:defaultGraph [ a sd:Graph ; void:triples {endpoint.pool.triples} ] ] .",
                "",
            ]
            self._send(200, "text/turtle; charset=utf-8", "\n".join(lines).encode())

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
