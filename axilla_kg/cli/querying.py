"""``queries``, ``query`` and ``sparql``: named and ad-hoc SPARQL over the graph."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axilla_kg.cli.common import add_common
from axilla_kg.cli.serving import add_endpoint_options, graph_for
from axilla_kg.errors import ParameterError, UsageError
from axilla_kg.output import records_table, render_result
from axilla_kg.queries import QueryLibrary


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("queries", help="list the named queries and their parameters")
    p.add_argument("--format", choices=("table", "csv", "tsv", "json"), default="table")
    p.set_defaults(run=run_queries)

    p = sub.add_parser("query", help="run a named query")
    p.add_argument("name", help="query name (see 'axilla-kg queries')")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="query parameter (repeatable)")
    add_common(p)
    add_endpoint_options(p)
    p.set_defaults(run=run_query)

    p = sub.add_parser("sparql", help="run any SELECT/ASK/CONSTRUCT/DESCRIBE query")
    p.add_argument("query", help="query text, a .rq file, or - for standard input")
    add_common(p)
    add_endpoint_options(p)
    p.set_defaults(run=run_sparql)


def run_queries(args: argparse.Namespace) -> str:
    rows = []
    for q in QueryLibrary.load():
        params = ", ".join(
            f"{p.name}:{p.type}" + ("" if p.required else (f"={p.default}" if p.default else "?")) for p in q.parameters
        )
        rows.append({"name": q.name, "parameters": params, "title": q.title, "answers": q.answers})
    columns = ["name", "parameters", "title"] if args.format == "table" else ["name", "parameters", "title", "answers"]
    return records_table(rows, columns, args.format)


def parse_params(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param expects KEY=VALUE, got '{item}'")
        params[key.strip()] = value
    return params


def run_query(args: argparse.Namespace) -> str:
    kg = graph_for(args)
    result = kg.query(args.name, **parse_params(args.param))
    return render_result(result, args.format)


def read_query_argument(text: str) -> str:
    if text == "-":
        return sys.stdin.read()
    if text.endswith(".rq") or (len(text) < 4096 and "\n" not in text and Path(text).is_file()):
        path = Path(text)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read query file ({exc.strerror})") from None
    return text


def run_sparql(args: argparse.Namespace) -> str:
    kg = graph_for(args)
    return render_result(kg.sparql(read_query_argument(args.query)), args.format)
