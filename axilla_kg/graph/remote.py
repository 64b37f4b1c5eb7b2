"""The knowledge graph in a remote SPARQL 1.1 store: query it there, and load it there.

:class:`RemoteEngine` implements the same small ``Engine`` interface as the embedded engines, over
HTTP with SPARQLWrapper, so every named query, ``sparql`` and the Python API run unchanged against
Oxigraph server, Apache Jena Fuseki, Virtuoso, GraphDB or ``axilla-kg serve``. Remote endpoints
take no out-of-band bindings, so named-query parameters are written into the query text by
:func:`axilla_kg.graph.sparql_text.bind_parameters` (a ``VALUES`` block of escaped terms; never pasted
user text). The project's prefixes are declared for queries that use them without declaring them,
as the embedded engines do.

:func:`push` loads the graph with the SPARQL 1.1 Graph Store HTTP Protocol (``PUT`` replaces the
target graph in one request, atomically in Oxigraph and Fuseki), or with one SPARQL Update request
(``DROP SILENT GRAPH ...; INSERT DATA ...``) when the store has no Graph Store endpoint.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from axilla_kg.errors import QuerySyntaxError, RemoteError, UsageError
from axilla_kg.graph.queries import QueryLibrary
from axilla_kg.graph.results import XSD_STRING, QueryResult, Row, Term
from axilla_kg.graph.sparql_text import bind_parameters, query_iri, sparql_term, tokens
from axilla_kg.vocab import PREFIXES

USER_AGENT = "axilla-kg (SPARQLWrapper)"


def _check_url(url: str, what: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{what} must be an http(s) URL, got '{url}'")
    return url


def declare_prefixes(text: str) -> str:
    """Prepend PREFIX declarations for the project prefixes a query uses but does not declare."""
    toks = list(tokens(text))
    declared = {toks[i + 1].text[:-1] for i, t in enumerate(toks[:-1]) if t.keyword == "PREFIX"}
    used = {t.text.split(":", 1)[0] for t in toks if t.kind == "pname"}
    missing = [p for p in PREFIXES if p in used and p not in declared]
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in missing) + text


class RemoteEngine:
    """A SPARQL 1.1 query endpoint, spoken to with SPARQLWrapper."""

    name = "remote"

    def __init__(self, endpoint: str, graph: str | None = None, timeout: float = 60.0) -> None:
        self.endpoint = _check_url(endpoint, "--endpoint")
        self.graph = graph
        self.timeout = timeout
        if graph is not None:
            query_iri(graph)  # refuse a graph IRI that is not one

    def load(self, path: Path) -> None:
        raise UsageError(f"{path}: extra data cannot be added to a remote endpoint here; push it with 'axilla-kg push'")

    def _wrapper(self, text: str) -> Any:
        from SPARQLWrapper import POST, SPARQLWrapper

        wrapper = SPARQLWrapper(self.endpoint, agent=USER_AGENT)
        wrapper.setMethod(POST)
        wrapper.setTimeout(int(self.timeout))
        if self.graph:
            wrapper.addDefaultGraph(self.graph)
        wrapper.setQuery(text)
        return wrapper

    def _call(self, wrapper: Any) -> Any:
        from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

        try:
            return wrapper.query()
        except QueryBadFormed as exc:
            raise QuerySyntaxError(f"{self.endpoint} refused the query as malformed: {_detail(exc)}") from None
        except SPARQLWrapperException as exc:
            raise RemoteError(f"{self.endpoint}: {_detail(exc)}") from None
        except urllib.error.HTTPError as exc:
            raise RemoteError(f"{self.endpoint}: HTTP {exc.code} {_body(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RemoteError(f"cannot reach {self.endpoint}: {reason}") from None

    def query(self, text: str, bindings: Mapping[str, Term] | None = None) -> QueryResult:
        from SPARQLWrapper import JSON, TURTLE

        text = declare_prefixes(bind_parameters(text, bindings or {}))
        form = _form(text)
        wrapper = self._wrapper(text)
        if form in ("CONSTRUCT", "DESCRIBE"):
            wrapper.setReturnFormat(TURTLE)
            wrapper.setOnlyConneg(True)
            response = self._call(wrapper)
            body = response.response.read()
            content_type = response.response.headers.get("Content-Type", "text/turtle")
            return QueryResult("graph", triples=_parse_graph(body, content_type))
        wrapper.setReturnFormat(JSON)
        wrapper.setOnlyConneg(True)
        response = self._call(wrapper)
        raw = response.response.read()
        try:
            data = json.loads(raw)
        except ValueError:
            raise RemoteError(f"{self.endpoint} did not answer with SPARQL JSON results") from None
        if "boolean" in data:
            return QueryResult("ask", boolean=bool(data["boolean"]))
        names = list(data.get("head", {}).get("vars", []))
        return QueryResult("select", variables=names, rows=self._rows(data, names))

    def _rows(self, data: dict[str, Any], names: list[str]) -> list[Row]:
        """The SPARQL JSON bindings as rows of pyoxigraph terms (a term RDF does not allow, such as
        an IRI with a space, is the store's error, reported in one line)."""
        blanks: dict[str, ox.BlankNode] = {}
        try:
            return [
                tuple(_json_term(row.get(n), blanks) for n in names)
                for row in data.get("results", {}).get("bindings", [])
            ]
        except (ValueError, TypeError, AttributeError) as exc:
            raise RemoteError(f"{self.endpoint} answered a term that is not valid RDF: {_detail(exc)}") from None

    def __len__(self) -> int:
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        cell = result.rows[0][0] if result.rows else None
        return int(cell.value) if isinstance(cell, ox.Literal) else 0


def _form(text: str) -> str:
    """The query form without screening (the remote store, not this process, decides what it runs)."""
    return next((t.keyword for t in tokens(text) if t.keyword in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")), "")


def _detail(exc: Exception) -> str:
    """The server's own words when SPARQLWrapper kept them (its message wraps them in boilerplate)."""
    response = getattr(exc, "response", None)
    if isinstance(response, bytes) and response.strip():
        return " ".join(response.decode("utf-8", "replace").split())[:500]
    return " ".join(str(exc).split())[:500]


def _body(exc: urllib.error.HTTPError) -> str:
    try:
        return " ".join(exc.read().decode("utf-8", "replace").split())[:500]
    except Exception:
        return exc.reason or ""


def _json_term(cell: dict[str, str] | None, blanks: dict[str, ox.BlankNode]) -> Term | None:
    """One SPARQL JSON term as a pyoxigraph term: the one place a remote answer becomes terms.
    pyoxigraph validates IRIs and language tags as it builds them (ValueError). A blank node label
    is local to one answer and some stores write labels RDF syntax does not allow (Virtuoso's
    ``nodeID://b10007``): such a label gets a fresh blank node, the same one wherever it recurs in
    ``blanks``, the answer's labels so far."""
    if cell is None:
        return None
    kind = cell.get("type")
    value = cell.get("value", "")
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        if value not in blanks:
            try:
                blanks[value] = ox.BlankNode(value)
            except ValueError:
                blanks[value] = ox.BlankNode()
        return blanks[value]
    if "xml:lang" in cell:
        return ox.Literal(value, language=cell["xml:lang"])
    return ox.Literal(value, datatype=ox.NamedNode(cell.get("datatype", XSD_STRING)))


def _parse_graph(body: bytes, content_type: str) -> list[tuple[Term, Term, Term]]:
    media = content_type.split(";")[0].strip().lower()
    fmt = {
        "application/n-triples": ox.RdfFormat.N_TRIPLES,
        "text/plain": ox.RdfFormat.N_TRIPLES,
        "application/rdf+xml": ox.RdfFormat.RDF_XML,
        "application/ld+json": ox.RdfFormat.JSON_LD,
    }.get(media, ox.RdfFormat.TURTLE)

    try:
        return [(q.subject, q.predicate, q.object) for q in ox.parse(body, format=fmt)]
    except SyntaxError as exc:
        raise RemoteError(f"the endpoint's {media} answer does not parse: {_detail(exc)}") from None


def remote_graph(endpoint: str, graph: str | None = None) -> Any:
    """A :class:`KnowledgeGraph` whose queries run on a remote endpoint."""
    from axilla_kg.graph.knowledge import KnowledgeGraph

    return KnowledgeGraph(RemoteEngine(endpoint, graph), [], QueryLibrary.load())


# --- loading a store ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PushReport:
    triples: int
    method: str  # "graph-store" or "update"
    target: str  # the graph IRI, or "default graph"


def _graph_ntriples(data: Sequence[str | Path], include_inferred: bool) -> tuple[bytes, int]:
    """The graph as N-Triples, each literal in the lexical form its file gives.

    The files are parsed, not read back from a store: Oxigraph's store keeps values, so
    ``"2.0"^^xsd:decimal`` would come back as ``"2"`` and the pushed graph would not be isomorphic
    to the export. Quads of named-graph files join the default graph, as in ``KnowledgeGraph``.
    """
    from axilla_kg.graph.engines import rdf_format
    from axilla_kg.graph.knowledge import KnowledgeGraph

    kg = KnowledgeGraph.load(data, include_inferred=include_inferred)  # validates every file, names errors
    formats = {
        "turtle": ox.RdfFormat.TURTLE,
        "ntriples": ox.RdfFormat.N_TRIPLES,
        "nquads": ox.RdfFormat.N_QUADS,
        "trig": ox.RdfFormat.TRIG,
        "xml": ox.RdfFormat.RDF_XML,
    }
    triples: dict[Any, None] = {}
    for path in kg.files:
        fresh: dict[str, Any] = {}  # a blank node label is local to its file: never merge two files' _:b1

        def local(term: Any) -> Any:
            if isinstance(term, ox.BlankNode):
                return fresh.setdefault(term.value, ox.BlankNode())  # noqa: B023 (used within this loop)
            return term

        for quad in ox.parse(path=str(path), format=formats[rdf_format(Path(path))]):
            triples[ox.Triple(local(quad.subject), quad.predicate, local(quad.object))] = None
    body = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""
    return body, len(triples)


def _send(url: str, method: str, body: bytes, content_type: str, timeout: float) -> int:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": content_type, "User-Agent": USER_AGENT}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def push(
    endpoint: str | None,
    graph: str | None = None,
    update_endpoint: str | None = None,
    data: Sequence[str | Path] = (),
    include_inferred: bool = True,
    timeout: float = 300.0,
) -> PushReport:
    """Replace ``graph`` (or the default graph) in a store with the knowledge graph.

    Tries the Graph Store Protocol at ``endpoint`` first; falls back to SPARQL Update at
    ``update_endpoint`` if the store answers that it has no such service (404, 405, 415, 501), or
    uses Update only when no ``endpoint`` is given.
    """
    if endpoint is None and update_endpoint is None:
        raise UsageError("give --endpoint (Graph Store Protocol URL) or --update-endpoint (SPARQL Update URL)")
    target = sparql_term(query_iri(graph)) if graph else None
    body, count = _graph_ntriples(data, include_inferred)
    where = f"graph <{graph}>" if graph else "default graph"
    if endpoint is not None:
        _check_url(endpoint, "--endpoint")
        selector = ("graph=" + urllib.parse.quote(graph, safe="")) if graph else "default"
        url = endpoint + ("&" if "?" in endpoint else "?") + selector
        try:
            _send(url, "PUT", body, "application/n-triples", timeout)
            return PushReport(count, "graph-store", where)
        except urllib.error.HTTPError as exc:
            if exc.code not in (404, 405, 415, 501) or update_endpoint is None:
                raise RemoteError(f"PUT {url}: HTTP {exc.code} {_body(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteError(f"cannot reach {endpoint}: {getattr(exc, 'reason', exc)}") from None
    assert update_endpoint is not None
    _check_url(update_endpoint, "--update-endpoint")
    triples = body.decode("utf-8")
    if target:
        update = f"DROP SILENT GRAPH {target} ;\nINSERT DATA {{ GRAPH {target} {{\n{triples}}} }}\n"
    else:
        update = f"DROP SILENT DEFAULT ;\nINSERT DATA {{\n{triples}}}\n"
    try:
        _send(update_endpoint, "POST", update.encode("utf-8"), "application/sparql-update", timeout)
    except urllib.error.HTTPError as exc:
        raise RemoteError(f"SPARQL Update at {update_endpoint}: HTTP {exc.code} {_body(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise RemoteError(f"cannot reach {update_endpoint}: {getattr(exc, 'reason', exc)}") from None
    return PushReport(count, "update", where)
