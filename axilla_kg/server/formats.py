"""Result formats of the endpoint and content negotiation.

SELECT/ASK answers: SPARQL 1.1 Query Results JSON (default), XML, CSV and TSV. CONSTRUCT/DESCRIBE
answers: Turtle (default), N-Triples, JSON-LD and RDF/XML. Every answer is written by pyoxigraph's
own serializers (never by pasting terms into markup) into a buffer with a byte cap, so a huge
answer is stopped while it is written; XML answers are checked for well-formedness before they go.

Negotiation follows the SPARQL 1.1 Protocol (the Accept header), plus the ``format`` parameter that
many clients send. SPARQLWrapper, with its default settings, sends ``format``, ``output`` and
``results``, repeats ``format`` with a media type for TSV, RDF/XML and JSON-LD, and asks for N3 for
graphs: every value is a preference, the first one this server can produce wins, and when none can
be produced the Accept header decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

from axilla_kg.errors import NotAcceptable, ResultTooLarge

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
    "rdf+xml": (None, "rdfxml"),
    "n3": (None, "turtle"),  # Turtle is a subset of N3: a Turtle answer is a valid N3 answer
}


def negotiate(accept: str | None, is_graph: bool, formats: Sequence[str] = ()) -> str:
    """Pick the format key for an answer from ``format`` parameter values or the Accept header.

    Each ``format`` value (a short name such as ``csv`` or a media type) is a preference: the first
    one that can carry this kind of answer wins. Otherwise the Accept header decides: ``*/*``, a
    missing header, or types we cannot produce alongside ones we can all resolve to the best
    acceptable type we support; only a header that excludes every supported type is refused.
    """
    table = _GRAPH_ACCEPT if is_graph else _RESULT_ACCEPT
    default = "turtle" if is_graph else "json"
    for value in formats:
        wanted = value.strip().lower()
        pair = _SHORT.get(wanted)
        choice = (pair[1] if is_graph else pair[0]) if pair else table.get(wanted.split(";")[0].strip())
        if choice:
            return choice
    if not accept:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")[:64]):
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
    wanted_types = ", ".join(sorted(set((GRAPH_FORMATS if is_graph else RESULT_FORMATS).values())))
    raise NotAcceptable(f"cannot answer with any of: {accept[:200]} (this query can be returned as {wanted_types})")


def media_type(fmt: str) -> str:
    return RESULT_FORMATS.get(fmt) or GRAPH_FORMATS[fmt]


# --- writing answers (inside a worker) ---------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """Caps on one answer: triples of a CONSTRUCT/DESCRIBE answer, and bytes of any answer."""

    max_results: int
    max_bytes: int


class _CappedBuffer:
    """A file-like sink for pyoxigraph's serializers that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> int:
        self._size += len(data)
        if self._size > self._limit:
            raise ResultTooLarge
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def serialize_answer(result: Any, fmt: str, limits: Limits) -> Any:
    """Turn a pyoxigraph answer into a worker Reply in format ``fmt``, written by pyoxigraph itself.

    The writer streams into a buffer that stops at ``limits.max_bytes`` (413). XML answers are then
    checked for well-formedness with expat: pyoxigraph writes a literal with a control character,
    or a predicate IRI that has no XML local name (ending in a digit or '#'), as text that is not
    XML 1.0; such an answer is refused (406) with a pointer to the formats that can carry it,
    never sent broken.
    """
    import pyoxigraph as ox

    from axilla_kg.server.worker import Reply

    sink = _CappedBuffer(limits.max_bytes)
    try:
        if isinstance(result, (ox.QueryBoolean, ox.QuerySolutions)):
            fmt = fmt if fmt in RESULT_FORMATS else "json"
            result.serialize(cast(IO[bytes], sink), format=_RESULT_WRITERS[fmt])
        else:
            fmt = fmt if fmt in GRAPH_FORMATS else "turtle"
            triples = []
            for triple in result:
                triples.append(triple)
                if len(triples) > limits.max_results:
                    return _too_large(f"more than {limits.max_results} triples (the server's --max-results)")
            from axilla_kg.vocab import PREFIXES

            prefixes = PREFIXES if fmt in ("turtle", "rdfxml") else None
            ox.serialize(triples, cast(IO[bytes], sink), format=_GRAPH_WRITERS[fmt], prefixes=prefixes)
    except ResultTooLarge:
        return _too_large(f"more than {limits.max_bytes} bytes (the server's --max-answer-mb)")
    body = sink.getvalue()
    if fmt in ("xml", "rdfxml"):
        problem = xml_problem(body)
        if problem:
            other = "JSON, CSV or TSV" if fmt == "xml" else "Turtle, N-Triples or JSON-LD"
            message = f"this answer cannot be written as well-formed XML ({problem}); ask for {other} instead\n"
            return Reply(406, "text/plain; charset=utf-8", message.encode())
    return Reply(200, _with_charset(fmt), body)


def xml_problem(body: bytes) -> str | None:
    """Why ``body`` is not well-formed, namespace-correct XML 1.0 (None when it is)."""
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError as exc:
        return str(exc)
    return None


def _too_large(what: str) -> Any:
    from axilla_kg.server.worker import Reply

    message = f"result too large: {what}; add a LIMIT or narrow the query\n"
    return Reply(413, "text/plain; charset=utf-8", message.encode())


def _with_charset(fmt: str) -> str:
    return media_type(fmt) + "; charset=utf-8"


def _writers() -> tuple[dict[str, Any], dict[str, Any]]:
    import pyoxigraph as ox

    results = {
        "json": ox.QueryResultsFormat.JSON,
        "xml": ox.QueryResultsFormat.XML,
        "csv": ox.QueryResultsFormat.CSV,
        "tsv": ox.QueryResultsFormat.TSV,
    }
    graphs = {
        "turtle": ox.RdfFormat.TURTLE,
        "ntriples": ox.RdfFormat.N_TRIPLES,
        "jsonld": ox.RdfFormat.JSON_LD,
        "rdfxml": ox.RdfFormat.RDF_XML,
    }
    return results, graphs


_RESULT_WRITERS, _GRAPH_WRITERS = _writers()
