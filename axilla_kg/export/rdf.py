"""RDF exports (Turtle, N-Triples, JSON-LD, RDF/XML, TriG, OWL) and the per-topic partition.

Determinism: parsed blank nodes get random labels and rdflib's serializers follow the store's
insertion order, so the same input could print differently on two runs. Here the statements to
be written get content-derived blank node labels (RDFC-1.0 over the statements that touch a blank
node, see ``axilla_kg.export.oxload``) and are added to a fresh graph in sorted order before any
serializer runs; N-Triples and JSON-LD are additionally sorted after serialization. The tests
check byte-identical output across interpreter hash seeds. The graph is read by pyoxigraph.

Topics: a topic's content is its ``ax:Topic`` node, its variants, everything that points at
them (ratings, variant relations, differentials...), and, transitively, the non-shared nodes
those reach (source records...). The T-box, terminology, procedures and mappings (the files in
``SHARED_FILES``) and anything no topic reaches form the shared part every topic export keeps.
A node that two topics reach (a relation between variants of two topics) belongs to both.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, cached_property
from io import BytesIO
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import RDF, Literal, Namespace, URIRef
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.plugins.serializers.turtle import TurtleSerializer
from rdflib.term import Node

from axilla_kg import vocab
from axilla_kg.errors import UnknownTopicError
from axilla_kg.export import rdfxml
from axilla_kg.export.oxload import canonical_blank_nodes, ox_triple, rdflib_triples, read_turtle
from axilla_kg.graph.engines import OxigraphEngine, to_rdflib
from axilla_kg.graph.queries import NamedQuery, parse_query_file
from axilla_kg.resources import ontology_dir, ontology_files, queries_dir
from axilla_kg.vocab import PREFIXES

AX = Namespace(PREFIXES["ax"])
AXD = Namespace(PREFIXES["axd"])
PROV = Namespace(PREFIXES["prov"])
DCTERMS = Namespace(PREFIXES["dcterms"])
GRAPH_BASE = vocab.GRAPH
SHARED_GRAPH = URIRef(GRAPH_BASE + "shared")
SHARED_FILES = ("core.ttl", "terminology.ttl", "procedures.ttl", "mappings.ttl")
RDF_FORMATS = ("ttl", "nt", "jsonld", "xml", "trig", "owl")
CONTEXT_FILE = "context.jsonld"
EXTRA_PREFIXES = {"rdf": str(RDF), "sssom": "https://w3id.org/sssom/", "void": "http://rdfs.org/ns/void#"}

Triple = tuple[Node, Node, Node]


@dataclass
class SourceGraph:
    """The shipped graph as the exporters read it: the parsed statements (rdflib terms, blank
    nodes as parsed) that the RDF writers serialise, and the same statements in a pyoxigraph store
    (the same blank node labels) that every content read goes through, as named queries
    (``queries/internal/export-*.rq``); plus what it was read from."""

    statements: list[Triple]
    store: ox.Store
    files: list[Path]
    shared_iris: set[Node] = field(default_factory=set)
    inferred: bool = False

    @cached_property
    def graph(self) -> rdflib.Graph:
        """The statements as an rdflib graph, for callers outside the exporters (the CSV import
        and the tests); the exporters read through :meth:`read` and serialise ``statements``."""
        graph = rdflib.Graph()
        for triple in self.statements:
            graph.add(triple)
        return graph

    @cached_property
    def engine(self) -> OxigraphEngine:
        return OxigraphEngine.over(self.store)

    def read_terms(self, name: str, /, **params: Any) -> list[dict[str, Node | None]]:
        """The rows of one of the exporters' named queries (:func:`export_query`; parameters bound by
        the engine), each cell as an rdflib term (blank nodes keep the statements' labels)."""
        named = export_query(name)
        result = self.engine.query(named.text, named.bindings(params))
        return [
            {var: None if cell is None else to_rdflib(cell) for var, cell in zip(result.variables, row, strict=True)}
            for row in result.rows
        ]

    def read(self, name: str, /, **params: Any) -> list[dict[str, str | None]]:
        """The rows of a named query as :meth:`read_terms`, each cell its lexical text (None: unbound)."""
        return [
            {var: None if cell is None else str(cell) for var, cell in row.items()}
            for row in self.read_terms(name, **params)
        ]

    @cached_property
    def _topic_rows(self) -> list[dict[str, Node | None]]:
        return self.read_terms("export-topics")

    @cached_property
    def topics(self) -> dict[str, URIRef]:
        """Topic key -> topic node."""
        out = {str(row["key"]): row["topic"] for row in self._topic_rows if isinstance(row["topic"], URIRef)}
        return dict(sorted(out.items(), key=lambda kv: _topic_sort_key(kv[0])))

    def topic_node(self, key: str) -> URIRef:
        if key not in self.topics:
            raise UnknownTopicError(f"unknown topic '{key}' (the graph has {', '.join(self.topics)})")
        return self.topics[key]

    @cached_property
    def _anchors(self) -> dict[str, set[Node]]:
        members: dict[Node, set[Node]] = {}
        for row in self._topic_rows:
            if row["member"] is not None and row["topic"] is not None:
                members.setdefault(row["topic"], set()).add(row["member"])
        return {key: {node, *members.get(node, set())} for key, node in self.topics.items()}

    @cached_property
    def _links(self) -> tuple[dict[Node, set[Node]], dict[Node, set[Node]]]:
        """(subject -> the nodes it points at, node -> the subjects pointing at it), read once."""
        forward: dict[Node, set[Node]] = {}
        backward: dict[Node, set[Node]] = {}
        for row in self.read_terms("export-links"):
            subject, obj = row["subject"], row["object"]
            if subject is not None and obj is not None:
                forward.setdefault(subject, set()).add(obj)
                backward.setdefault(obj, set()).add(subject)
        return forward, backward

    @cached_property
    def _subjects(self) -> set[Node]:
        return {s for s, _, _ in self.statements}

    @cached_property
    def owned(self) -> dict[str, set[Node]]:
        """Topic key -> the subjects whose triples make up that topic's content."""
        forward, backward = self._links
        all_anchors = set().union(*self._anchors.values()) if self._anchors else set()
        out: dict[str, set[Node]] = {}
        for key, anchors in self._anchors.items():
            owned = set(anchors)
            for anchor in anchors:
                for subject in backward.get(anchor, ()):
                    if subject not in all_anchors and subject not in self.shared_iris:
                        owned.add(subject)
            stack = list(owned)
            while stack:
                for obj in forward.get(stack.pop(), ()):
                    if (
                        obj not in owned
                        and obj not in all_anchors
                        and obj not in self.shared_iris
                        and obj in self._subjects
                    ):
                        owned.add(obj)
                        stack.append(obj)
            out[key] = owned
        return out

    def topic_triples(self, key: str) -> list[Triple]:
        """The triples of one topic's own content (without the shared part)."""
        self.topic_node(key)
        owned = self.owned[key]
        return sorted((t for t in self.statements if t[0] in owned), key=_triple_key)

    def shared_triples(self) -> list[Triple]:
        """The triples no topic owns: T-box, terminology, procedures, mappings and the like."""
        owned = set().union(*self.owned.values()) if self.owned else set()
        return sorted((t for t in self.statements if t[0] not in owned), key=_triple_key)

    def triples(self, topic: str | None = None) -> list[Triple]:
        """All triples, or one topic's content plus the shared part, sorted."""
        if topic is None:
            return sorted(self.statements, key=_triple_key)
        return sorted([*self.topic_triples(topic), *self.shared_triples()], key=_triple_key)

    @cached_property
    def _ontology(self) -> list[dict[str, str | None]]:
        return self.read("export-ontology")

    @cached_property
    def version(self) -> str:
        versions = sorted(v for row in self._ontology if (v := row["version"]) is not None)
        if versions:
            return versions[0]
        from axilla_kg import __version__

        return __version__

    @cached_property
    def ontology_iri(self) -> URIRef | None:
        iris = sorted(o for row in self._ontology if (o := row["ontology"]) is not None)
        return URIRef(iris[0]) if iris else None

    def generation_time(self) -> datetime:
        """A stable "generated at": ``SOURCE_DATE_EPOCH`` when set (the reproducible-builds
        convention), else the ontology's own date (``dcterms:modified``, else ``dcterms:created``).
        File modification times are not used: a fresh clone or install resets them, and the same
        content must export byte-identically on every machine."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch.isdigit():
            return datetime.fromtimestamp(int(epoch), tz=UTC)
        mine = [row for row in self._ontology if row["ontology"] == str(self.ontology_iri)]
        for prop in ("modified", "created"):
            values = sorted(v for row in mine if (v := row[prop]) is not None)
            if values:
                day = date.fromisoformat(values[-1][:10])
                return datetime(day.year, day.month, day.day, tzinfo=UTC)
        return datetime(1970, 1, 1, tzinfo=UTC)

    @cached_property
    def citations(self) -> dict[Node, tuple[set[URIRef], set[str]]]:
        """Subject -> (the pages it cites, the curated files it cites)."""
        out: dict[Node, tuple[set[URIRef], set[str]]] = {}
        for row in self.read_terms("export-sources"):
            subject, url, file = row["subject"], row["url"], row["file"]
            if subject is None:
                continue
            pages, files = out.setdefault(subject, (set(), set()))
            if isinstance(url, URIRef):
                pages.add(url)
            if file is not None:
                files.add(str(file))
        return out


class _FaithfulLiterals:
    """rdflib's Turtle/TriG writers print ``"2"^^xsd:decimal`` as ``2.0`` and reformat doubles,
    which changes the literal (a different RDF term); such literals are written in full instead."""

    def label(self, node: Node, position: int) -> str:
        if isinstance(node, Literal) and node.datatype in (rdflib.XSD.decimal, rdflib.XSD.double):
            plain = node._literal_n3(use_plain=True)
            if plain != str(node):
                return node._literal_n3(use_plain=False, qname_callback=self._datatype_name)
        return super().label(node, position)  # type: ignore[misc]

    def _datatype_name(self, iri: str) -> str | None:
        return self.get_pname(iri, False)  # type: ignore[attr-defined]


class _MemoisedNames:
    """rdflib's Turtle/TriG writers compute an IRI's prefixed name on every occurrence (~43,000
    calls for the graph, half the writing time); the answer cannot change until ``reset`` (the
    namespaces seen only grow, and registering one twice is a no-op), so it is remembered."""

    def reset(self) -> None:
        super().reset()  # type: ignore[misc]
        self._pnames: dict[tuple[Node, bool], str | None] = {}

    def get_pname(self, uri: Node, gen_prefix: bool = True) -> str | None:
        key = (uri, gen_prefix)
        if key not in self._pnames:
            self._pnames[key] = super().get_pname(uri, gen_prefix)  # type: ignore[misc]
        return self._pnames[key]


class FaithfulTurtleSerializer(_MemoisedNames, _FaithfulLiterals, TurtleSerializer):
    pass


class FaithfulTrigSerializer(_MemoisedNames, _FaithfulLiterals, TrigSerializer):
    """TriG with the graphs in a stable order: the default graph (provenance) first, then by name."""

    def __init__(self, store: rdflib.Dataset) -> None:
        super().__init__(store)
        default = self.default_context
        self.contexts.sort(key=lambda g: (g.identifier != default, str(g.identifier)))


def _write(serializer: TurtleSerializer) -> str:
    buffer = BytesIO()
    serializer.serialize(buffer, encoding="utf-8")
    return buffer.getvalue().decode("utf-8")


def _topic_sort_key(key: str) -> tuple[int, str]:
    head = key.split("-")[0]
    return (int(head) if head.isdigit() else 10**9, key)


def _triple_key(triple: Triple) -> tuple[str, str, str]:
    return (triple[0].n3(), triple[1].n3(), triple[2].n3())


def _canonical(triples: list[Triple]) -> list[Triple]:
    """``triples`` with content-derived blank node labels (RDFC-1.0, see ``oxload``)."""
    return [(s, p, o) for s, p, o, _ in canonical_blank_nodes((s, p, o, None) for s, p, o in triples)]


@cache
def export_query(name: str) -> NamedQuery:
    """The exporters' named query: ``queries/internal/<name>.rq``, else the public ``queries/<name>.rq``
    (read once per process)."""
    internal = queries_dir() / "internal" / f"{name}.rq"
    return parse_query_file(internal if internal.is_file() else queries_dir() / f"{name}.rq")


def load_source(*, inferred: bool = False, extra: list[Path] | None = None) -> SourceGraph:
    """Read the shipped Turtle files (with ``ontology/inferred/`` only when ``inferred``).

    pyoxigraph parses each file once; its statements go into the store the named queries read and,
    as rdflib terms with the same blank node labels, into the list the RDF writers serialise. The
    labels are the parser's random ones: only the RDF serialisations print them, and they relabel
    what they write (``rdf_export``)."""
    files = list(ontology_files(include_inferred=inferred)) + list(extra or [])
    store = ox.Store()
    statements: list[Triple] = []
    shared: set[Node] = set()
    root = ontology_dir().resolve()
    for path in files:
        is_shared = path.resolve().parent == root and path.name in SHARED_FILES
        parsed = read_turtle(path)
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in parsed)
        for triple in rdflib_triples(parsed):
            statements.append(triple)
            if is_shared and isinstance(triple[0], URIRef):
                shared.add(triple[0])
    return SourceGraph(list(dict.fromkeys(statements)), store, files, shared, inferred)


def context() -> dict[str, Any]:
    """The JSON-LD ``@context`` shipped as ``ontology/context.jsonld``."""
    data = json.loads((ontology_dir() / CONTEXT_FILE).read_text(encoding="utf-8"))
    return dict(data["@context"])


def _bind(graph: rdflib.Graph | rdflib.Dataset) -> None:
    for prefix, iri in {**PREFIXES, **EXTRA_PREFIXES}.items():
        graph.bind(prefix, iri, override=True, replace=True)


def ordered_graph(triples: list[Triple]) -> rdflib.Graph:
    """A fresh graph holding ``triples`` inserted in sorted order, with the project's prefixes.
    rdflib's context-free store: the writers walk it many times, and named graphs are not needed."""
    graph = rdflib.Graph(store="SimpleMemory", bind_namespaces="core")
    _bind(graph)
    for triple in sorted(triples, key=_triple_key):
        graph.add(triple)
    return graph


def sorted_ntriples(triples: list[Triple]) -> str:
    """N-Triples, one statement a line, lines sorted: pyoxigraph's writer (rdflib's gives the same
    lines, ten times slower)."""
    text = ox.serialize(map(ox_triple, triples), format=ox.RdfFormat.N_TRIPLES) or b""
    return "".join(line + "\n" for line in sorted(set(text.decode("utf-8").splitlines())) if line.strip())


def _normalise_jsonld(value: Any, key: str = "") -> Any:
    """Sort JSON-LD node objects by ``@id`` and unordered value arrays; ``@list`` keeps its order."""
    if isinstance(value, dict):
        return {k: _normalise_jsonld(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_normalise_jsonld(v) for v in value]
        if key == "@list":
            return items
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def _jsonld(graph: rdflib.Graph) -> str:
    ctx = context()
    text = graph.serialize(format="json-ld", context=ctx, auto_compact=True)
    data = json.loads(text)
    if "@graph" not in data:  # a single node is printed without @graph
        data = {"@context": data.pop("@context"), "@graph": [data]}
    data["@graph"] = _normalise_jsonld(data["@graph"])
    data["@context"] = ctx
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def graph_iri(key: str) -> URIRef:
    return URIRef(f"{GRAPH_BASE}topic-{key}")


def provenance(source: SourceGraph, named: dict[URIRef, list[Triple]]) -> list[Triple]:
    """PROV-O / dcterms description of each named graph: what it holds, the sources it was
    derived from (the URLs and curated files its source records cite), the ontology version,
    the tool, and a stable generation time (see ``SourceGraph.generation_time``)."""
    when = Literal(source.generation_time().strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=rdflib.XSD.dateTime)
    activity = URIRef(f"{GRAPH_BASE}export-activity")
    agent = URIRef(vocab.SOFTWARE)
    out: list[Triple] = [
        (activity, RDF.type, PROV.Activity),
        (activity, rdflib.RDFS.label, Literal(f"axilla-kg {source.version} export", lang="en")),
        (activity, PROV.wasAssociatedWith, agent),
        (activity, PROV.endedAtTime, when),
        (agent, RDF.type, PROV.SoftwareAgent),
        (agent, rdflib.RDFS.label, Literal(f"axilla-kg {source.version}")),
    ]
    if source.ontology_iri is not None:
        out.append((activity, PROV.used, source.ontology_iri))
    for name, triples in named.items():
        cited = [source.citations[s] for s in {t[0] for t in triples} if s in source.citations]
        urls = set().union(*(pages for pages, _ in cited))
        files = set().union(*(names for _, names in cited))
        out += [
            (name, RDF.type, PROV.Entity),
            (name, PROV.wasGeneratedBy, activity),
            (name, PROV.generatedAtTime, when),
            (name, DCTERMS.hasVersion, Literal(source.version)),
            (name, URIRef(EXTRA_PREFIXES["void"] + "triples"), Literal(len(triples))),
        ]
        if source.ontology_iri is not None:
            out.append((name, DCTERMS.isPartOf, source.ontology_iri))
        for key, node in source.topics.items():
            if name == graph_iri(key):
                out.append((name, DCTERMS.subject, node))
                out.append((name, rdflib.RDFS.label, Literal(f"axilla-kg topic {key}", lang="en")))
        if name == SHARED_GRAPH:
            out.append((name, rdflib.RDFS.label, Literal("axilla-kg shared model and terminology", lang="en")))
        out += [(name, DCTERMS.source, url) for url in urls]
        out += [(name, PROV.hadPrimarySource, Literal(f)) for f in files]
    return out


def _trig(source: SourceGraph, topic: str | None) -> str:
    keys = [topic] if topic is not None else list(source.topics)
    named: dict[URIRef, list[Triple]] = {graph_iri(k): source.topic_triples(k) for k in keys}
    named[SHARED_GRAPH] = source.shared_triples()
    relabelled: dict[Node | None, list[Triple]] = {name: [] for name in named}
    for s, p, o, g in canonical_blank_nodes((*t, name) for name, triples in named.items() for t in triples):
        relabelled[g].append((s, p, o))
    dataset = rdflib.Dataset(default_union=False)
    _bind(dataset)
    for name in sorted(named, key=str):
        g = dataset.graph(name)
        for triple in sorted(relabelled[name], key=_triple_key):
            g.add(triple)
    default = dataset.default_graph
    for triple in sorted(provenance(source, named), key=_triple_key):
        default.add(triple)
    return _write(FaithfulTrigSerializer(dataset))


def rdf_export(source: SourceGraph, fmt: str, *, topic: str | None = None) -> str:
    """Serialize the graph (or one topic plus the shared part) in an RDF syntax of ``RDF_FORMATS``."""
    if topic is not None:
        source.topic_node(topic)
    if fmt == "trig":
        return _trig(source, topic)
    triples = _canonical(source.triples(topic))
    if fmt == "nt":
        return sorted_ntriples(triples)
    graph = ordered_graph(triples)
    if fmt == "jsonld":
        return _jsonld(graph)
    if fmt == "ttl":
        return _write(FaithfulTurtleSerializer(graph))
    prefixes = {**PREFIXES, **EXTRA_PREFIXES}
    if fmt == "owl":
        note = f"axilla-kg {source.version}: OWL 2 DL ontology in RDF/XML" + (
            " (with inferred triples)" if source.inferred else ""
        )
        return rdfxml.serialize(graph, prefixes, typed_nodes=True, comment=note)
    return rdfxml.serialize(graph, prefixes)
