"""Rendering answers: tables for people; SPARQL 1.1 JSON/CSV/TSV, JSON and Turtle for programs.

SELECT/ASK results follow the W3C "SPARQL 1.1 Query Results" JSON, CSV and TSV formats, so any
SPARQL tool can read what ``axilla-kg query --format json|csv|tsv`` prints. Who writes what, and
why (one writer per syntax; the server, ``server/formats.py``, uses pyoxigraph's writers too):

- CSV and TSV of a SELECT: pyoxigraph's writers. The CLI renders answers from three engines
  (Oxigraph, rdflib, a remote endpoint) as :class:`QueryResult` rows of pyoxigraph terms, and
  pyoxigraph cannot build its results object (``QuerySolutions``) from terms; so the answer goes to
  pyoxigraph as SPARQL JSON (below) and pyoxigraph writes the CSV or TSV. (Our own TSV writer,
  replaced by it, left tabs in literals unescaped and wrote a decimal without a point as a bare
  integer.)
- SPARQL JSON: ours, because it is only ``json.dumps`` of the W3C structure, indented for people
  reading a terminal (pyoxigraph writes it on one line); pyoxigraph reads it back in the tests.
- ASK as CSV/TSV: ours. The W3C CSV/TSV formats define SELECT results only; we print the
  ``_askResult`` header and a line end that other tools (Jena) print, where pyoxigraph prints a
  bare ``true``.
- CONSTRUCT/DESCRIBE: rdflib's Turtle and JSON-LD writers. rdflib compacts JSON-LD with the
  project's prefixes and writes only the prefixes a Turtle answer uses; pyoxigraph 0.5 writes
  expanded JSON-LD only, which is much harder to read.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox

from axilla_kg.errors import DataError
from axilla_kg.graph.engines import to_rdflib
from axilla_kg.graph.results import XSD_STRING, QueryResult, Term
from axilla_kg.vocab import PREFIXES, curie

FORMATS = ("table", "csv", "tsv", "json")


# --- plain tables (lists of dicts) ----------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_cell(v)}" for k, v in value.items())
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap(text: str, width: int) -> list[str]:
    """A cell as lines of at most ``width`` columns, broken between words; a single word longer
    than the column is split (a URL, say), never cut off."""
    if _width(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _width(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while _width(word) > width:
            cut = _fit(word, width)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    lines.append(current)
    return lines


def _fit(word: str, width: int) -> int:
    """How many leading characters of ``word`` fill at most ``width`` columns (at least one)."""
    used = 0
    for index, ch in enumerate(word):
        used += _width(ch)
        if used > width:
            return max(index, 1)
    return len(word)


def text_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], max_width: int | None = 60) -> str:
    """A fixed-width table for people. A cell wider than ``max_width`` columns wraps onto more
    lines of its row, between words (nothing is cut off, no title ends in "…"); ``None`` keeps
    every cell on one line however long (``--wide``). Programs read csv, tsv or json instead."""
    cells = [[_cell(v) for v in row] for row in rows]
    wrapped = [[_wrap(c, max_width) if max_width else [c] for c in row] for row in cells]
    widths = [
        max([_width(col)] + [_width(part) for row in wrapped for part in row[i]]) for i, col in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(columns), line(["-" * w for w in widths])]
    for row in wrapped:
        height = max((len(parts) for parts in row), default=1)
        out += [line([parts[i] if i < len(parts) else "" for parts in row]) for i in range(height)]
    return "\n".join(out) + "\n"


def records_table(records: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> str:
    """Render a list of dicts in one of the plain formats (table, csv, tsv, json)."""
    if fmt == "json":
        return json.dumps(list(records), ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt in ("csv", "tsv"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow([_cell(record.get(c)) for c in columns])
        return buffer.getvalue()
    return text_table(columns, [[record.get(c) for c in columns] for record in records])


# --- SPARQL results ----------------------------------------------------------------------------
def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _json_body(result: QueryResult) -> dict[str, Any]:
    if result.kind == "ask":
        return {"head": {}, "boolean": bool(result.boolean)}
    bindings = [
        {name: _json_term(cell) for name, cell in zip(result.variables, row, strict=True) if cell is not None}
        for row in result.rows
    ]
    return {"head": {"vars": result.variables}, "results": {"bindings": bindings}}


def sparql_json(result: QueryResult) -> str:
    if result.kind == "ask":
        return json.dumps(_json_body(result)) + "\n"
    return json.dumps(_json_body(result), ensure_ascii=False, indent=1) + "\n"


def _ask_table(result: QueryResult, header: str, line_end: str) -> str:
    return f"{header}{line_end}{'true' if result.boolean else 'false'}{line_end}"


def _written_by_pyoxigraph(result: QueryResult, fmt: str) -> str:
    """A SELECT answer as CSV or TSV, written by pyoxigraph from the answer's SPARQL JSON."""
    import pyoxigraph as ox

    writer = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}[fmt]
    body = json.dumps(_json_body(result), ensure_ascii=False).encode("utf-8")
    try:
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        text = solutions.serialize(format=writer)  # bytes: no output file given
    except (SyntaxError, ValueError) as exc:  # a remote store may return a term that is not valid RDF
        raise DataError(f"the answer cannot be written as {fmt.upper()}: {exc}") from None
    return (text or b"").decode("utf-8")


def sparql_csv(result: QueryResult) -> str:
    if result.kind == "ask":
        return _ask_table(result, "_askResult", "\r\n")
    return _written_by_pyoxigraph(result, "csv")


def sparql_tsv(result: QueryResult) -> str:
    if result.kind == "ask":
        return _ask_table(result, "?_askResult", "\n")
    return _written_by_pyoxigraph(result, "tsv")


def _short(term: Term | None) -> str:
    """Human form of a term: prefixed IRIs, bare literal values."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return curie(term.value) or f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def sparql_table(result: QueryResult) -> str:
    if result.kind == "ask":
        return ("true" if result.boolean else "false") + "\n"
    table = text_table(result.variables, [[_short(c) for c in row] for row in result.rows])
    return table + f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})\n"


def graph_text(result: QueryResult, fmt: str) -> str:
    """CONSTRUCT/DESCRIBE answers: Turtle for people and most tools, JSON-LD for --format json."""
    import rdflib

    graph = rdflib.Graph()
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri)

    for s, p, o in result.triples:
        graph.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    if fmt == "json":
        return graph.serialize(format="json-ld", context=dict(PREFIXES), indent=2) + "\n"
    if fmt == "tsv" or fmt == "csv":
        return graph.serialize(format="nt")
    return graph.serialize(format="turtle")


def render_result(result: QueryResult, fmt: str) -> str:
    if result.kind == "graph":
        return graph_text(result, fmt)
    return {"json": sparql_json, "csv": sparql_csv, "tsv": sparql_tsv, "table": sparql_table}[fmt](result)
