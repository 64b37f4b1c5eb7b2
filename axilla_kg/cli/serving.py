"""``serve`` and ``push``: the graph as a SPARQL endpoint, and the graph loaded into a triple store.

(``query`` and ``sparql`` take ``--endpoint`` to run against a store; see ``querying.py``.)
"""

from __future__ import annotations

import argparse
import os
import re
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING

from axilla_kg.cli.common import Wanted, add_command, add_data, bounded_int
from axilla_kg.errors import UsageError

if TYPE_CHECKING:
    from axilla_kg.graph.knowledge import KnowledgeGraph


def _seconds(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,6})?", text.strip()):
            raise argparse.ArgumentTypeError(f"expected seconds as a plain decimal number, got '{text[:40]}'")
        value = float(text)
        if not low < value <= high:
            raise argparse.ArgumentTypeError(f"expected seconds above {low:g} and at most {high:g}, got '{text}'")
        return value

    return parse


def _memory(text: str) -> int:
    value = bounded_int(0, 1_048_576, "MiB")(text)
    if 0 < value < MIN_WORKER_MB:
        raise argparse.ArgumentTypeError(
            f"a worker needs at least {MIN_WORKER_MB} MiB of address space (0 = no limit), got {value}"
        )
    return value


MIN_WORKER_MB = 512
_DEFAULT_WORKERS = max(2, min(4, os.cpu_count() or 2))


def register(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "serve",
        "serve the graph as a read-only SPARQL 1.1 endpoint",
        "Serve the graph (with inferred triples) over the SPARQL 1.1 Protocol at /sparql, with a query "
        "page at /. Read-only and screened: updates, SERVICE, LOAD and FROM are refused, and query workers cannot "
        "open network sockets; each query runs in a worker process that is killed when it overruns --timeout.",
    )
    p.set_defaults(run=run_serve)
    if wanted("serve"):
        _serve_arguments(p)

    p = add_command(
        sub,
        "push",
        "load the graph into a SPARQL 1.1 store",
        "Replace a graph in a triple store with this knowledge graph: HTTP PUT to a Graph Store "
        "Protocol endpoint (atomic replace), or SPARQL Update (DROP + INSERT DATA in one request) as fallback.",
    )
    p.set_defaults(run=run_push)
    if wanted("push"):
        p.add_argument(
            "--endpoint", help="Graph Store Protocol URL (Oxigraph: http://HOST:7878/store; Fuseki: .../ds/data)"
        )
        p.add_argument("--graph", metavar="IRI", help="named graph to replace (default: the store's default graph)")
        p.add_argument(
            "--update-endpoint", metavar="URL", help="SPARQL Update URL, used when the store has no Graph Store"
        )
        add_data(p, "include")
        p.add_argument("--no-inferred", action="store_true", help="leave out the reasoner-derived triples")


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument(
        "--port", type=bounded_int(0, 65535, "a port"), default=7070, help="port (default 7070; 0 picks a free port)"
    )
    add_data(p, "serve with the shipped graph")
    p.add_argument(
        "--workers",
        type=bounded_int(1, 64, "a number of workers"),
        default=_DEFAULT_WORKERS,
        help="query worker processes, 1-64 (default: CPU count, 2-4)",
    )
    p.add_argument(
        "--timeout", type=_seconds(0, 3600), default=10.0, help="seconds a query may run (default 10, at most 3600)"
    )
    p.add_argument(
        "--max-results",
        type=bounded_int(1, 10_000_000, "a number of triples"),
        default=100_000,
        help="most triples in a CONSTRUCT/DESCRIBE answer (default 100000)",
    )
    p.add_argument(
        "--max-answer-mb",
        type=bounded_int(1, 1024, "MiB"),
        default=16,
        help="largest answer in MiB, any query form and format (default 16)",
    )
    p.add_argument(
        "--max-body",
        type=bounded_int(1024, 64 * 1048576, "bytes"),
        default=1_048_576,
        help="largest POST body in bytes (default 1 MiB)",
    )
    p.add_argument(
        "--memory-mb",
        type=_memory,
        default=2048,
        help=f"address-space limit per worker in MiB (default 2048; at least {MIN_WORKER_MB}; 0 = none)",
    )
    p.add_argument(
        "--max-connections",
        type=bounded_int(1, 10_000, "a number of connections"),
        default=64,
        help="open connections and running requests before new ones get 503 (default 64)",
    )
    p.add_argument(
        "--header-timeout",
        type=_seconds(0, 300),
        default=10.0,
        help="seconds for a request line and headers to arrive (default 10)",
    )
    p.add_argument(
        "--body-timeout", type=_seconds(0, 600), default=30.0, help="seconds for a request body to arrive (default 30)"
    )
    p.add_argument(
        "--idle-timeout",
        type=_seconds(0, 600),
        default=5.0,
        help="seconds an idle keep-alive connection stays open (default 5)",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the /sparql URL as clients reach it (behind a reverse proxy); used in the service description",
    )
    p.add_argument(
        "--cds-trust",
        action="append",
        default=[],
        metavar="ISSUER=JWKS_FILE",
        help="only EHRs whose bearer JWT (ES384/RS384) is signed by a key of ISSUER (a local JWKS file) may call "
        "CDS Hooks; repeatable; needs --public-url (the JWT audience). Without it CDS Hooks are open",
    )
    p.add_argument(
        "--cds-feedback-db",
        metavar="FILE",
        help="SQLite file keeping CDS Hooks feedback and the cards issued (default: in memory); "
        "read it with 'axilla-kg feedback-report --db FILE'",
    )
    p.add_argument("--cors", action="store_true", help="allow cross-origin requests (e.g. from YASGUI in a browser)")
    p.add_argument("--access-log", action="store_true", help="log each request to standard error")


def run_serve(args: argparse.Namespace) -> None:
    from axilla_kg.server import ServerConfig, serve
    from axilla_kg.web.frontdoor import front_door_routes

    public_url = args.public_url
    if public_url is not None:
        from axilla_kg.graph.sparql_text import query_iri

        parts = urllib.parse.urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--public-url must be an http(s) URL, got '{public_url[:100]}'")
        query_iri(public_url)  # a valid IRI, or a one-line error
    if args.cds_trust:
        if public_url is None:
            raise UsageError("--cds-trust needs --public-url: the JWT audience is built from it, never from Host")
        from axilla_kg.cdshooks.trust import TrustConfigError, load_issuer

        for spec in args.cds_trust:  # a bad value or file: one line before anything starts
            try:
                load_issuer(spec)
            except TrustConfigError as exc:
                raise UsageError(str(exc)) from None
    if args.cds_feedback_db:
        import sqlite3

        from axilla_kg.cdshooks.feedback import FeedbackStore

        try:
            FeedbackStore(args.cds_feedback_db).close()
        except sqlite3.Error as exc:
            raise UsageError(f"--cds-feedback-db {args.cds_feedback_db[:200]}: {exc}") from None
    config = ServerConfig(
        host=args.host,
        port=args.port,
        data=tuple(args.data),
        workers=args.workers,
        timeout=args.timeout,
        max_results=args.max_results,
        max_answer_mb=args.max_answer_mb,
        max_body=args.max_body,
        memory_mb=args.memory_mb,
        max_connections=args.max_connections,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        idle_timeout=args.idle_timeout,
        cors=args.cors,
        access_log=args.access_log,
        public_url=public_url,
        cds_trust=tuple(args.cds_trust),
        cds_feedback_db=args.cds_feedback_db,
    )
    serve(config, front_door=front_door_routes)  # the lookup pages and CDS Hooks beside the endpoint
    return None


def run_push(args: argparse.Namespace) -> str:
    from axilla_kg.graph.remote import push

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
    from axilla_kg.graph.remote import remote_graph

    if getattr(args, "endpoint", None):
        if args.data:
            raise UsageError("--data cannot be combined with --endpoint (push the data to the store instead)")
        kg: KnowledgeGraph = remote_graph(args.endpoint, args.graph)
        return kg
    if getattr(args, "graph", None):
        raise UsageError("--graph needs --endpoint")
    return graph(args)
