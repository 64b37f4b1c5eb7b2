"""A read-only, screened SPARQL 1.1 endpoint over the knowledge graph (``axilla-kg serve``).

The server is a Starlette ASGI application under uvicorn. Layout: ``app`` is the application
(routes, request parsing, answers; :func:`build_app`; :func:`assemble` puts any routes under the
same middleware), ``listener`` uvicorn with the request-head deadline (:func:`listener.run`, which
every way of starting a server uses), ``worker`` the self-healing pool of query processes, ``formats`` content
negotiation and pyoxigraph's writers under a byte cap, ``protocol`` the configuration and the
service description, ``page`` the HTML query page (at ``/query``); screening lives in
:mod:`axilla_kg.graph.sparql_text` and the network barrier in :mod:`axilla_kg.sandbox`.

To serve other Starlette routes beside the endpoint (the lookup pages, the CDS Hooks service), pass
them to ``build_app(config, pool, extra_routes=[...])`` or to ``serve(config, extra_routes=[...])``,
or pass ``serve(config, front_door=F)``: ``F(config)`` is called once the server listens (the
configuration then holds the real port) and returns the routes. This package never imports the
front door: ``axilla-kg serve`` (the CLI) hands it ``axilla_kg.web.frontdoor.front_door_routes``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from axilla_kg.errors import DataError, UsageError
from axilla_kg.server.protocol import ServerConfig

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from axilla_kg.server.worker import WorkerPool

__all__ = ["ServerConfig", "assemble", "build_app", "listen", "serve"]


def build_app(config: ServerConfig, pool: WorkerPool, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The endpoint as a Starlette application (see :mod:`axilla_kg.server.app`).

    Imported lazily: a query worker imports this package too, and must start without Starlette.
    """
    from axilla_kg.server.app import build_app as build

    return build(config, pool, extra_routes)


def assemble(routes: Sequence[BaseRoute], config: ServerConfig) -> Starlette:
    """Routes under the middleware every server of this project runs (see :mod:`axilla_kg.server.app`)."""
    from axilla_kg.server.app import assemble as assembled

    return assembled(routes, config)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def graph_ntriples(data: Sequence[str]) -> bytes:
    """The graph a server serves, read once (shipped files plus ``--data``) as N-Triples for the workers."""
    import pyoxigraph as ox

    from axilla_kg.graph.knowledge import KnowledgeGraph

    kg = KnowledgeGraph.load(list(data))  # DataError names a bad or missing file
    store = kg.engine.store  # type: ignore[attr-defined]
    return bytes(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()))


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one); UsageError names the reason it failed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family = infos[0][0]
        sock = socket.create_server((host, port), family=family, backlog=128)
        # accepted connections inherit it on Linux; uvicorn given a socket does not set it, and
        # Nagle plus delayed ACKs would hold each small answer back about 40 ms
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    except (OSError, IndexError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None


def serve(
    config: ServerConfig,
    announce: Callable[[str], None] | None = None,
    extra_routes: Sequence[Any] = (),
    front_door: Callable[[ServerConfig], Sequence[Any]] | None = None,
) -> None:
    """Run the endpoint until interrupted (Ctrl+C, or SIGTERM: then it returns after a graceful
    stop); announce the URL once listening.

    ``extra_routes`` are served beside the endpoint, and so are ``front_door(config)``'s."""
    from axilla_kg.server.listener import run, stopped_by_sigterm
    from axilla_kg.server.worker import WorkerPool

    with stopped_by_sigterm():
        graph = graph_ntriples(config.data)
        sock = listen(config.host, config.port)
        host, port = sock.getsockname()[:2]
        config = dataclasses.replace(config, port=int(port))
        try:
            pool = WorkerPool(config.workers, graph, config.memory_mb)
        except RuntimeError as exc:
            sock.close()
            raise DataError(str(exc)) from None
        try:
            routes = [*extra_routes, *(front_door(config) if front_door is not None else ())]
            app = build_app(config, pool, routes)
            shown = f"[{host}]" if ":" in str(host) else str(host)
            if not _is_loopback(str(host)):
                print(f"axilla-kg serve: warning: listening on {host}, reachable from other machines", file=sys.stderr)
            (announce or _print)(
                f"axilla-kg: serving {pool.triples} triples at http://{shown}:{port}/sparql "
                f"(query page http://{shown}:{port}/query; {pool.size} workers, time limit {config.timeout:g} s, "
                f"answers up to {config.max_answer_mb} MiB)"
            )
            run(app, sock, config)
        finally:
            sock.close()
            pool.close()


def _print(line: str) -> None:
    print(line, flush=True)
