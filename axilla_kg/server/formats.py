"""Result formats of the endpoint and content negotiation.

SELECT/ASK answers: SPARQL 1.1 Query Results JSON (default), XML, CSV and TSV. CONSTRUCT/DESCRIBE
answers: Turtle (default), N-Triples, JSON-LD and RDF/XML. Solutions are written here while they
are read from the engine, one at a time, so the result-size cap stops a huge answer before it is
built; graphs are collected up to the cap and written by pyoxigraph's own serializers.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# format key -> media type sent back
RESULT_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_FORMATS = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
# media types a client may ask for -> format key, per answer kind
_RESULT_ACCEPT = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
_GRAPH_ACCEPT = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "text/plain": "ntriples",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/xml": "rdfxml",
    "text/xml": "rdfxml",
}
# short names for the ?format= parameter (handy in a browser or with curl)
_SHORT = {
    "json": ("json", "jsonld"),
    "xml": ("xml", "rdfxml"),
    "csv": ("csv", None),
    "tsv": ("tsv", None),
    "turtle": (None, "turtle"),
    "ttl": (None, "turtle"),
    "ntriples": (None, "ntriples"),
    "nt": (None, "ntriples"),
    "jsonld": (None, "jsonld"),
    "json-ld": (None, "jsonld"),
    "rdfxml": (None, "rdfxml"),
}


class NotAcceptable(Exception):
    """None of the media types the client accepts can carry this kind of answer."""


def negotiate(accept: str | None, is_graph: bool, short: str | None = None) -> str:
    """Pick the format key for an answer from a ``format`` parameter or an Accept header.

    ``*/*``, a missing header, or types we cannot produce alongside ones we can all resolve to the
    best acceptable type we support; only a header that excludes every supported type is refused.
    """
    table = _GRAPH_ACCEPT if is_graph else _RESULT_ACCEPT
    default = "turtle" if is_graph else "json"
    if short:
        pair = _SHORT.get(short.lower())
        choice = (pair[1] if is_graph else pair[0]) if pair else None
        if choice is None:
            kinds = sorted(k for k, v in _SHORT.items() if v[1 if is_graph else 0])
            raise NotAcceptable(f"format '{short}' is not available for this query (use one of {', '.join(kinds)})")
        return choice
    if not accept:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        quality = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, media))
    for _q, _pos, media in sorted(ranked):
        if media in table:
            return table[media]
        if media in ("*/*", "application/*", "text/*"):
            return default
    wanted = ", ".join(sorted(set((GRAPH_FORMATS if is_graph else RESULT_FORMATS).values())))
    raise NotAcceptable(f"cannot answer with any of: {accept} (this query can be returned as {wanted})")


def media_type(fmt: str) -> str:
    return RESULT_FORMATS.get(fmt) or GRAPH_FORMATS[fmt]


# --- writing answers (inside a worker) ---------------------------------------------------------
class ResultTooLarge(Exception):
    pass


def serialize_answer(result: Any, fmt: str, max_results: int) -> Any:
    """Turn a pyoxigraph answer into a worker Reply in format ``fmt``, enforcing the row cap."""
    import pyoxigraph as ox

    from axilla_kg.server.worker import Reply

    try:
        if isinstance(result, ox.QueryBoolean):
            body = _boolean(bool(result), fmt if fmt in RESULT_FORMATS else "json")
            return Reply(200, _with_charset(fmt if fmt in RESULT_FORMATS else "json"), body)
        if isinstance(result, ox.QuerySolutions):
            fmt = fmt if fmt in RESULT_FORMATS else "json"
            return Reply(200, _with_charset(fmt), _solutions(result, fmt, max_results))
        fmt = fmt if fmt in GRAPH_FORMATS else "turtle"
        triples = []
        for triple in result:
            triples.append(triple)
            if len(triples) > max_results:
                raise ResultTooLarge
        from axilla_kg.turtle import PREFIXES

        ox_format = {
            "turtle": ox.RdfFormat.TURTLE,
            "ntriples": ox.RdfFormat.N_TRIPLES,
            "jsonld": ox.RdfFormat.JSON_LD,
            "rdfxml": ox.RdfFormat.RDF_XML,
        }[fmt]
        prefixes = PREFIXES if fmt in ("turtle", "rdfxml") else None
        body = ox.serialize(triples, format=ox_format, prefixes=prefixes) or b""
        return Reply(200, _with_charset(fmt), body)
    except ResultTooLarge:
        message = (
            f"result too large: more than {max_results} rows/triples (the server's --max-results); "
            "add a LIMIT or narrow the query\n"
        )
        return Reply(413, "text/plain; charset=utf-8", message.encode())


def _with_charset(fmt: str) -> str:
    return media_type(fmt) + "; charset=utf-8"


def _boolean(value: bool, fmt: str) -> bytes:
    text = "true" if value else "false"
    if fmt == "xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{text}</boolean></sparql>\n"
        ).encode()
    if fmt == "csv":
        return f"_askResult\r\n{text}\r\n".encode()
    if fmt == "tsv":
        return f"?_askResult\n{text}\n".encode()
    return json.dumps({"head": {}, "boolean": value}).encode()


def _solutions(result: Any, fmt: str, max_results: int) -> bytes:
    import pyoxigraph as ox

    names = [v.value for v in result.variables]
    named = ox.NamedNode
    blank = ox.BlankNode

    def json_term(term: Any) -> dict[str, str]:
        if isinstance(term, named):
            return {"type": "uri", "value": term.value}
        if isinstance(term, blank):
            return {"type": "bnode", "value": term.value}
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out

    def xml_term(term: Any) -> str:
        if isinstance(term, named):
            return f"<uri>{escape(term.value)}</uri>"
        if isinstance(term, blank):
            return f"<bnode>{escape(term.value)}</bnode>"
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"

    count = 0
    if fmt == "json":
        rows = []
        for solution in result:
            count += 1
            if count > max_results:
                raise ResultTooLarge
            row = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = json_term(term)
            rows.append(row)
        return json.dumps(
            {"head": {"vars": names}, "results": {"bindings": rows}}, ensure_ascii=False, separators=(",", ":")
        ).encode()
    if fmt == "xml":
        parts = [
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>',
            *(f"<variable name={quoteattr(n)}/>" for n in names),
            "</head><results>",
        ]
        for solution in result:
            count += 1
            if count > max_results:
                raise ResultTooLarge
            parts.append("<result>")
            for name in names:
                term = solution[name]
                if term is not None:
                    parts.append(f"<binding name={quoteattr(name)}>{xml_term(term)}</binding>")
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(names)
        for solution in result:
            count += 1
            if count > max_results:
                raise ResultTooLarge
            cells = []
            for name in names:
                term = solution[name]
                if term is None:
                    cells.append("")
                elif isinstance(term, blank):
                    cells.append("_:" + term.value)
                else:
                    cells.append(term.value)
            writer.writerow(cells)
        return buffer.getvalue().encode()
    lines = ["\t".join("?" + n for n in names)]
    for solution in result:
        count += 1
        if count > max_results:
            raise ResultTooLarge
        lines.append("\t".join("" if (t := solution[n]) is None else str(t) for n in names))
    return ("\n".join(lines) + "\n").encode()
