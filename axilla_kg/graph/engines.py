"""SPARQL engines behind one small interface.

Oxigraph (Rust, via pyoxigraph) answers each named query in about a millisecond or less and
loads the graph in milliseconds, so it is the default. rdflib's pure-Python engine is kept as
a second, independent implementation: tests run every named query on both and require the
same answers, which guards the queries against engine-specific behaviour. Engines register
themselves by name, in the spirit of rdflib's plugin registry.

Neither engine may make a request to another host, whatever the query. Both screen the text first
(:func:`axilla_kg.graph.sparql_text.screen`: SERVICE, FROM and updates refused, size and nesting capped).
rdflib is also stopped where it would act: its evaluator is given a hook that refuses a
``ServiceGraphPattern`` in the algebra it is about to evaluate, and it is told never to load
``FROM`` graphs over the network. The CLI and the server's workers add a third barrier that does not
depend on any parser (:mod:`axilla_kg.sandbox`: no network sockets in the process).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from axilla_kg.errors import DataError, QuerySyntaxError
from axilla_kg.graph.results import XSD_STRING, QueryResult, Row, Term
from axilla_kg.graph.sparql_text import QueryRefused, screen
from axilla_kg.inputs.rdfscreen import screen_rdf_file
from axilla_kg.vocab import PREFIXES

if TYPE_CHECKING:
    import pyoxigraph as ox

FORMATS_BY_SUFFIX = {
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".nq": "nquads",
    ".trig": "trig",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
}


def rdf_format(path: Path) -> str:
    """The RDF syntax of a file, from its suffix; an unknown suffix is a usage error."""
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS_BY_SUFFIX))
        raise DataError(f"{path}: unknown RDF file type '{path.suffix}' (expected one of {known})")
    return fmt


class Engine(Protocol):
    """What the knowledge graph needs from a SPARQL engine."""

    name: str

    def load(self, path: Path) -> None: ...

    def query(self, text: str, bindings: Mapping[str, Term] | None = None) -> QueryResult: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class EngineInfo:
    """A registered engine: its name, a one-line description (the CLI's ``--engine`` help) and
    how to make one."""

    name: str
    description: str
    factory: Callable[[], Engine]


_REGISTRY: dict[str, EngineInfo] = {}
#: the engine a graph is loaded into unless one is named
DEFAULT = "oxigraph"


def register(name: str, factory: Callable[[], Engine], description: str = "") -> None:
    """Add an engine; ``KnowledgeGraph.load(engine=name)`` and the CLI's ``--engine`` offer it."""
    _REGISTRY[name] = EngineInfo(name, description, factory)


def create(name: str) -> Engine:
    if name not in _REGISTRY:
        raise ValueError(f"unknown engine '{name}' (available: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name].factory()


def available() -> list[str]:
    """Names of the registered engines, sorted."""
    return sorted(_REGISTRY)


def described() -> list[EngineInfo]:
    """The registered engines, default first, then by name."""
    return sorted(_REGISTRY.values(), key=lambda info: (info.name != DEFAULT, info.name))


# --- Oxigraph ---------------------------------------------------------------------------------
class OxigraphEngine:
    name = "oxigraph"

    def __init__(self, store: Any = None) -> None:
        import pyoxigraph as ox  # here, not at module level: the CLI's parser and --version never load it

        self._ox = ox
        self._store = ox.Store() if store is None else store
        self._formats = {
            "turtle": ox.RdfFormat.TURTLE,
            "ntriples": ox.RdfFormat.N_TRIPLES,
            "nquads": ox.RdfFormat.N_QUADS,
            "trig": ox.RdfFormat.TRIG,
            "xml": ox.RdfFormat.RDF_XML,
        }

    @classmethod
    def over(cls, store: Any) -> OxigraphEngine:
        """An engine over an existing ``pyoxigraph.Store`` (a registry or definitions file loaded
        on its own), so the named queries of :mod:`axilla_kg.graph.reads` run on it too."""
        return cls(store)

    @property
    def store(self) -> Any:
        return self._store

    def load(self, path: Path) -> None:
        fmt = self._formats[rdf_format(path)]
        try:
            # quads of named-graph formats are merged into the default graph: one graph to query
            self._store.bulk_load(path=str(path), format=fmt, to_graph=self._ox.DefaultGraph())
        except MemoryError as exc:  # the parser's buffer cap: one token (a literal, an IRI) over 16 MiB
            if "buffer maximal size" not in str(exc):
                raise
            raise DataError(f"{path}: a literal or IRI longer than 16 MiB (the parser's limit for one term)") from None
        except SyntaxError as exc:
            raise DataError(f"{path}: {_oxigraph_location(str(exc))}") from None
        except OSError as exc:
            raise DataError(f"{path}: cannot read ({exc})") from None

    def query(self, text: str, bindings: Mapping[str, Term] | None = None) -> QueryResult:
        """Run a query; the answer's pyoxigraph terms are kept as they come (no conversion)."""
        import pyoxigraph as ox

        screen(text)
        substitutions: dict[ox.Variable, Term | ox.Triple] = {ox.Variable(k): v for k, v in (bindings or {}).items()}
        answer: Any
        try:
            answer = self._store.query(text, prefixes=PREFIXES, substitutions=substitutions or None)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"malformed SPARQL: {_oneline(str(exc))}") from None
        if isinstance(answer, ox.QueryBoolean):
            return QueryResult("ask", boolean=bool(answer))
        if isinstance(answer, ox.QuerySolutions):
            return QueryResult("select", variables=[v.value for v in answer.variables], rows=[tuple(s) for s in answer])
        return QueryResult("graph", triples=[tuple(t) for t in answer])

    def __len__(self) -> int:
        return len(self._store)


# --- term conversion: the one place pyoxigraph's terms meet rdflib's ------------------------------
def to_rdflib(term: Term) -> Any:
    """The rdflib term for a pyoxigraph term, as rdflib's own parsers build it (a plain
    ``xsd:string`` literal has no datatype, a language-tagged one no ``rdf:langString``): the rdflib
    engine's bindings, rdflib's writers (CONSTRUCT answers, the exports)."""
    import pyoxigraph as ox
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return rdflib.Literal(term.value, datatype=None if datatype == XSD_STRING else rdflib.URIRef(datatype))


def from_rdflib(term: Any) -> Term:
    """The pyoxigraph term for an rdflib IRI, blank node or literal (the rdflib engine's answers,
    rdflib-built statements the exports canonicalise). pyoxigraph validates as it builds: an IRI or
    language tag rdflib let through but RDF does not allow raises ``ValueError``."""
    import pyoxigraph as ox
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD_STRING)))
    raise TypeError(f"not an RDF term: {term!r}")


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _oxigraph_location(message: str) -> str:
    """Oxigraph reports 'error at 12:5: ...'; say 'line 12, column 5: ...' as users expect."""
    match = re.search(r"(?:at|on line)\s+(\d+):(\d+)", message)
    text = _oneline(message)
    if match:
        return f"line {match.group(1)}, column {match.group(2)}: {text}"
    return text


# --- rdflib ------------------------------------------------------------------------------------
class RdflibEngine:
    name = "rdflib"

    def __init__(self) -> None:
        import rdflib

        _guard_rdflib()
        self._rdflib = rdflib
        self._graph = rdflib.Graph()
        for prefix, iri in PREFIXES.items():
            self._graph.bind(prefix, iri)

    @property
    def graph(self) -> Any:
        return self._graph

    def load(self, path: Path) -> None:
        fmt = rdf_format(path)
        rdflib_format = {"ntriples": "nt", "nquads": "nquads", "trig": "trig"}.get(fmt, fmt)
        try:
            if rdflib_format in ("nquads", "trig"):
                dataset = self._rdflib.Dataset()
                dataset.parse(str(path), format=rdflib_format)
                for s, p, o, _g in dataset.quads():
                    self._graph.add((s, p, o))
            else:
                self._graph.parse(str(path), format=rdflib_format)
        except OSError as exc:
            raise DataError(f"{path}: cannot read ({exc})") from None
        except Exception as exc:  # rdflib raises many parser-specific types
            raise DataError(f"{path}: {_oneline(str(exc))}") from None

    def query(self, text: str, bindings: Mapping[str, Term] | None = None) -> QueryResult:
        screen(text)
        init: Any = {self._rdflib.Variable(k): to_rdflib(v) for k, v in (bindings or {}).items()}
        try:
            result: Any = self._graph.query(text, initNs=PREFIXES, initBindings=init)
            kind = result.type
            if kind == "ASK":
                return QueryResult("ask", boolean=bool(result.askAnswer))
            names = [str(v) for v in result.vars or []] if kind == "SELECT" else []
            answered = list(result)  # rdflib evaluates lazily: errors of evaluation surface here
        except QueryRefused:
            raise
        except Exception as exc:  # pyparsing.ParseException and friends
            if type(exc).__name__ in ("ParseException", "ParseSyntaxException"):
                raise QuerySyntaxError(f"malformed SPARQL: {_oneline(str(exc))}") from None
            raise
        try:
            if kind == "SELECT":
                rows: list[Row] = [tuple(None if c is None else from_rdflib(c) for c in row) for row in answered]
                return QueryResult("select", variables=names, rows=rows)
            triples = [(from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in answered]
            return QueryResult("graph", triples=triples)
        except ValueError as exc:  # pyoxigraph refused a term rdflib let through
            raise DataError(f"the rdflib engine answered a term that is not valid RDF: {_oneline(str(exc))}") from None

    def __len__(self) -> int:
        return len(self._graph)


def _refuse_service(ctx: Any, part: Any) -> Any:
    """rdflib evaluation hook: a SERVICE in the algebra being evaluated is refused, never sent.

    rdflib calls each hook for every graph pattern it evaluates and falls back to its own
    evaluation on NotImplementedError; its own evaluation of SERVICE would open a URL.
    """
    if getattr(part, "name", None) == "ServiceGraphPattern":
        raise QueryRefused("SERVICE is refused: a query here never makes requests to other hosts")
    raise NotImplementedError


def _guard_rdflib() -> None:
    """Install the rdflib guards (process-wide; called by every RdflibEngine, so rdflib's own
    import stays out of processes that never use it, such as the server's query workers)."""
    import rdflib.plugins.sparql as rdflib_sparql

    rdflib_sparql.CUSTOM_EVALS["axilla-kg-no-service"] = _refuse_service
    rdflib_sparql.SPARQL_LOAD_GRAPHS = False  # FROM <url> must never be fetched


register("oxigraph", OxigraphEngine, "Rust, fast; the default")
register("rdflib", RdflibEngine, "pure Python: the slower, independent reference engine")


def load_all(engine: Engine, paths: Sequence[Path]) -> None:
    """Load ``paths`` after screening each (size cap; no DOCTYPE/entities in RDF/XML)."""
    for path in paths:
        screen_rdf_file(path)
        engine.load(path)
