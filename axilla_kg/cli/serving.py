"""``serve`` and ``push``: the graph as a SPARQL endpoint, and the graph loaded into a triple store.

(``query`` and ``sparql`` take ``--endpoint`` to run against a store; see ``querying.py``.)
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from axilla_kg.errors import UsageError

if TYPE_CHECKING:
    from axilla_kg.graph import KnowledgeGraph


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got '{text}'")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got '{text}'") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"expected seconds between 0 and 86400, got '{text}'")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got '{text}'") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535 (0 = any free port), got '{text}'")
    return value


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve",
        help="serve the graph as a read-only SPARQL 1.1 endpoint",
        description="Serve the graph (with inferred triples) over the SPARQL 1.1 Protocol at /sparql, with a query "
        "page at /. Read-only and screened: updates, SERVICE, LOAD and FROM are refused; each query runs in a "
        "worker process that is killed when it overruns --timeout.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=7070, help="port (default 7070; 0 picks a free port)")
    p.add_argument("--data", action="append", default=[], metavar="FILE", help="extra RDF file to serve (repeatable)")
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=max(2, min(4, os.cpu_count() or 2)),
        help="query worker processes (default: CPU count, 2-4)",
    )
    p.add_argument("--timeout", type=_seconds, default=10.0, help="seconds a query may run (default 10)")
    p.add_argument(
        "--max-results", type=_positive_int, default=100_000, help="most rows or triples in one answer (default 100000)"
    )
    p.add_argument(
        "--max-body", type=_positive_int, default=1_048_576, help="largest POST body in bytes (default 1 MiB)"
    )
    p.add_argument(
        "--memory-mb", type=int, default=2048, help="address-space limit per worker in MiB (default 2048; 0 = none)"
    )
    p.add_argument("--cors", action="store_true", help="allow cross-origin requests (e.g. from YASGUI in a browser)")
    p.add_argument("--access-log", action="store_true", help="log each request to standard error")
    p.set_defaults(run=run_serve)

    p = sub.add_parser(
        "push",
        help="load the graph into a SPARQL 1.1 store",
        description="Replace a graph in a triple store with this knowledge graph: HTTP PUT to a Graph Store "
        "Protocol endpoint (atomic replace), or SPARQL Update (DROP + INSERT DATA in one request) as fallback.",
    )
    p.add_argument(
        "--endpoint", help="Graph Store Protocol URL (Oxigraph: http://HOST:7878/store; Fuseki: .../ds/data)"
    )
    p.add_argument("--graph", metavar="IRI", help="named graph to replace (default: the store's default graph)")
    p.add_argument("--update-endpoint", metavar="URL", help="SPARQL Update URL, used when the store has no Graph Store")
    p.add_argument("--data", action="append", default=[], metavar="FILE", help="extra RDF file to include (repeatable)")
    p.add_argument("--no-inferred", action="store_true", help="leave out the reasoner-derived triples")
    p.set_defaults(run=run_push)


def run_serve(args: argparse.Namespace) -> None:
    from axilla_kg.server import ServerConfig, serve

    if args.memory_mb < 0:
        raise UsageError(f"--memory-mb must be 0 or more, got {args.memory_mb}")
    config = ServerConfig(
        host=args.host,
        port=args.port,
        data=tuple(args.data),
        workers=args.workers,
        timeout=args.timeout,
        max_results=args.max_results,
        max_body=args.max_body,
        memory_mb=args.memory_mb,
        cors=args.cors,
        access_log=args.access_log,
    )
    serve(config)
    return None


def run_push(args: argparse.Namespace) -> str:
    from axilla_kg.remote import push

    report = push(args.endpoint, args.graph, args.update_endpoint, args.data, include_inferred=not args.no_inferred)
    how = "Graph Store PUT" if report.method == "graph-store" else "SPARQL Update"
    return f"pushed {report.triples} triples to the {report.target} ({how})\n"


def add_endpoint_options(parser: argparse.ArgumentParser) -> None:
    """``--endpoint``/``--graph`` for commands that can run against a remote store."""
    parser.add_argument("--endpoint", metavar="URL", help="run on this SPARQL endpoint instead of the embedded graph")
    parser.add_argument("--graph", metavar="IRI", help="with --endpoint: query this named graph as the default graph")


def graph_for(args: argparse.Namespace) -> KnowledgeGraph:
    """The embedded graph, or a remote one when ``--endpoint`` is given."""
    from axilla_kg.cli.common import graph
    from axilla_kg.remote import remote_graph

    if getattr(args, "endpoint", None):
        if args.data:
            raise UsageError("--data cannot be combined with --endpoint (push the data to the store instead)")
        kg: KnowledgeGraph = remote_graph(args.endpoint, args.graph)
        return kg
    if getattr(args, "graph", None):
        raise UsageError("--graph needs --endpoint")
    return graph(args)
