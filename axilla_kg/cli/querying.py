"""``queries``, ``query`` and ``sparql``: named and ad-hoc SPARQL over the graph."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axilla_kg.cli.common import Wanted, add_command, add_common, add_format
from axilla_kg.cli.serving import add_endpoint_options, graph_for
from axilla_kg.errors import ParameterError, UsageError


def register(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "queries",
        "list the named queries and their parameters",
        "List the named SPARQL queries (queries/*.rq) with their typed parameters: name:type, '=default' for "
        "an optional parameter with a default, '?' for an optional one without.",
    )
    p.set_defaults(run=run_queries)
    if wanted("queries"):
        add_format(p, note="csv, tsv and json add the question each query answers")

    p = add_command(
        sub,
        "query",
        "run a named query",
        "Run one named query. Parameters are bound by the engine as typed RDF terms, never pasted into the "
        "query text; --format json, csv and tsv are the W3C SPARQL 1.1 results formats.",
    )
    p.set_defaults(run=run_query)
    if wanted("query"):
        p.add_argument("name", help="query name (see 'axilla-kg queries')")
        p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="query parameter (repeatable)")
        add_common(p)
        add_endpoint_options(p)

    p = add_command(
        sub,
        "sparql",
        "run any SELECT/ASK/CONSTRUCT/DESCRIBE query",
        "Run a read-only SPARQL query over the graph, with the project prefixes (ax:, axd:, rdfs:, owl:, skos:, "
        "dcterms:, prov:, xsd:) predeclared. Updates, SERVICE and FROM are refused. CONSTRUCT and DESCRIBE "
        "print Turtle, or JSON-LD with --format json.",
    )
    p.set_defaults(run=run_sparql)
    if wanted("sparql"):
        p.add_argument("query", help="query text, a .rq file, or - for standard input")
        add_common(p)
        add_endpoint_options(p)


def run_queries(args: argparse.Namespace) -> str:
    from axilla_kg.formats.output import records_table
    from axilla_kg.graph.queries import QueryLibrary

    rows = []
    for q in QueryLibrary.load():
        params = ", ".join(
            f"{p.name}:{p.type}" + ("" if p.required else (f"={p.default}" if p.default else "?")) for p in q.parameters
        )
        rows.append({"name": q.name, "parameters": params, "title": q.title, "answers": q.answers})
    columns = ["name", "parameters", "title"] if args.format == "table" else ["name", "parameters", "title", "answers"]
    return records_table(rows, columns, args.format)


def parse_params(items: list[str]) -> dict[str, str]:
    """``--param KEY=VALUE`` items as a dict; a key given twice is an error, not "the last wins"."""
    params: dict[str, str] = {}
    for item in items:
        _require_utf8(item, "--param")
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--param expects KEY=VALUE, got '{item[:80]}'")
        if key in params:
            raise ParameterError(f"--param '{key}' given more than once")
        params[key] = value
    return params


def run_query(args: argparse.Namespace) -> str:
    from axilla_kg.formats.output import render_result

    params = parse_params(args.param)
    kg = graph_for(args)
    if not getattr(args, "endpoint", None):
        forbid_network_or_fail(args)
    result = kg.query(args.name, **params)
    return render_result(result, args.format)


def read_query_argument(text: str) -> str:
    """The query: standard input for ``-``, a file for ``*.rq`` or an existing short path, else the text.

    Every source is decoded as strict UTF-8 and capped in size before anything parses it.
    """
    from axilla_kg.graph.sparql_text import MAX_QUERY_CHARS

    if text == "-":
        return _decode(sys.stdin.buffer.read(MAX_QUERY_CHARS * 4 + 1), "standard input")
    _require_utf8(text, "the query argument")
    if text.endswith(".rq") or (len(text) < 1024 and "\n" not in text and _is_file(text)):
        path = Path(text)
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_QUERY_CHARS * 4 + 1)
        except OSError as exc:
            raise UsageError(f"{text[:200]}: cannot read query file ({exc.strerror or exc})") from None
        return _decode(raw, str(path))
    return text


def _is_file(text: str) -> bool:
    """Whether the argument names a file; a text that cannot be a path name (too long, a NUL) is not."""
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def _require_utf8(text: str, what: str) -> None:
    """Arguments arrive with undecodable bytes as lone surrogates (PEP 383); refuse them by name."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{what} is not valid UTF-8 (byte at character {exc.start + 1})") from None


def _decode(raw: bytes, source: str) -> str:
    from axilla_kg.graph.sparql_text import MAX_QUERY_CHARS

    if len(raw) > MAX_QUERY_CHARS * 4:
        raise UsageError(f"{source}: query larger than {MAX_QUERY_CHARS * 4} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError(f"{source}: not valid UTF-8 (line {line}, byte {exc.start + 1})") from None


def forbid_network_or_fail(args: argparse.Namespace) -> None:
    """Install the network barrier before a local engine evaluates anything (see axilla_kg.sandbox).

    Only when the CLI owns its process (started as a program): the barrier is permanent and
    process-wide, so code that calls ``main(argv)`` in its own process keeps its network (and the
    screen in the engines still refuses SERVICE and FROM there).
    """
    if not getattr(args, "owns_process", False):
        return
    from axilla_kg.sandbox import SandboxUnavailable, forbid_network

    try:
        forbid_network()
    except SandboxUnavailable as exc:
        raise UsageError(f"{exc}; use --endpoint to query a store instead") from None


def run_sparql(args: argparse.Namespace) -> str:
    from axilla_kg.formats.output import render_result
    from axilla_kg.graph.sparql_text import screen

    text = read_query_argument(args.query)
    if getattr(args, "endpoint", None):
        return render_result(graph_for(args).sparql(text), args.format)
    screen(text)  # QueryRefused / QueryRejected: one line, exit 2
    kg = graph_for(args)
    forbid_network_or_fail(args)
    return render_result(kg.sparql(text), args.format)
