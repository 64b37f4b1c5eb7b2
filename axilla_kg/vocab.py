"""The namespaces we mint and the prefixes we write: the one place an IRI base is spelled.

Every module that names an ``ax:`` term, mints an ``axd:`` entity, writes Turtle or SPARQL
prefixes, or builds an IRI of ours (export graph names, FHIR canonicals, case individuals) takes
the base from here, so moving the vocabulary is a one-line change and no module can drift.

The ACR's printed vocabularies (appropriateness categories, relative radiation levels, strength of
evidence) and our confidence levels, with their ranks, are read from ``ontology/terminology.ttl``
(:func:`terminology`, once per process): ``ingest`` reads a table's text through them, ``export``
writes the text back, the recommender, audit, web pages and CDS Hooks cards key their own tables
by the individuals, so no module spells a category text or a radiation symbol.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

#: everything we mint lives under this base
BASE = "https://w3id.org/axilla-kg/"
#: the vocabulary (classes, properties, value individuals); also the FHIR code system of its terms
VOCAB = BASE + "vocab"
AX = VOCAB + "#"
#: guideline entities: topics, variants, ratings, procedures, source records
AXD = BASE + "id/"
#: the ontology's own IRI
ONTOLOGY = BASE + "ontology"
#: the individuals the reasoner bridge mints for the patient cases of one question
CASE = BASE + "case/"
#: named graphs of the dataset exports
GRAPH = BASE + "graph/"
#: this software, as a PROV agent
SOFTWARE = BASE + "software/axilla-kg"
#: canonical URLs of the FHIR resources we export
FHIR = BASE + "fhir"
#: the FHIR code system of the ACR appropriateness categories
CATEGORY_SYSTEM = VOCAB + "/acr-category"
#: the SSSOM mapping set
MAPPING_SET = BASE + "mappings/axilla-kg.sssom.tsv"

OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"

#: the prefixes every writer declares and every query may use undeclared (the engines add them)
PREFIXES: dict[str, str] = {
    "ax": AX,
    "axd": AXD,
    "owl": OWL,
    "rdfs": RDFS,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
}
T = TypeVar("T")


def sparql_prefixes(*names: str) -> str:
    """``PREFIX`` declarations for the named prefixes (``rdf`` included), for queries that do not
    run through a ``KnowledgeGraph`` engine (those declare every prefix themselves)."""
    known = {**PREFIXES, "rdf": RDF}
    return "".join(f"PREFIX {name}: <{known[name]}>\n" for name in names)


# --- the ACR's printed vocabularies: read from ontology/terminology.ttl ---------------------------
#: the file the printed vocabularies are read from, and the query that reads them
TERMINOLOGY_FILE = "terminology.ttl"
TERMINOLOGY_QUERY = "internal/vocab-terminology.rq"


@dataclass(frozen=True)
class VocabTerm:
    """One value of a printed vocabulary: its individual, the text the ACR prints (an empty text
    for the category placeholder of a row that states none) and its rank (``ax:categoryRank``,
    ``ax:rrlOrder``, ``ax:confidenceRank``; 0 for the strengths of evidence, which have none)."""

    iri: str
    text: str
    rank: int

    @property
    def curie(self) -> str:
        return "ax:" + self.iri[len(AX) :]


@cache
def terminology() -> dict[str, tuple[VocabTerm, ...]]:
    """Scheme (``category``, ``rrl``, ``soe``, ``confidence``) -> its values in rank order, read once
    from ``ontology/terminology.ttl``: the one home of category texts, RRL symbols and ranks."""
    import pyoxigraph as ox

    from axilla_kg.resources import ontology_dir, queries_dir

    store = ox.Store()
    store.bulk_load(path=str(ontology_dir() / TERMINOLOGY_FILE), format=ox.RdfFormat.TURTLE)
    query = (queries_dir() / TERMINOLOGY_QUERY).read_text(encoding="utf-8")
    out: dict[str, list[VocabTerm]] = {}
    for row in store.query(query):  # type: ignore[union-attr]
        scheme, term, text, rank = (row[name].value for name in ("scheme", "term", "text", "rank"))
        out.setdefault(scheme, []).append(VocabTerm(term, text, int(rank)))
    return {scheme: tuple(terms) for scheme, terms in out.items()}


def _table(scheme: str) -> dict[str, str]:
    return {term.text: term.curie for term in terminology()[scheme]}


def categories() -> dict[str, str]:
    """Category text as printed -> individual (``""``: a row whose source states no category)."""
    return _table("category")


def rrls() -> dict[str, str]:
    """Relative radiation level symbol as printed -> individual."""
    return _table("rrl")


def soes() -> dict[str, str]:
    """Strength of evidence as printed -> individual."""
    return _table("soe")


def confidences() -> dict[str, str]:
    """Our confidence level names -> individual."""
    return _table("confidence")


def text_by_iri(scheme: str) -> dict[str, str]:
    """Full individual IRI -> the text the ACR prints, for one scheme of :func:`terminology`."""
    return {term.iri: term.text for term in terminology()[scheme]}


def rank_by_iri(scheme: str) -> dict[str, int]:
    """Full individual IRI -> its rank (``ax:categoryRank`` for the categories: best first)."""
    return {term.iri: term.rank for term in terminology()[scheme]}


def by_category_text(table: dict[str, T]) -> dict[str, T]:
    """A table keyed by category individual (``ax:UsuallyAppropriate``...) keyed instead by the
    category text terminology.ttl gives it, so a module that meets category texts (the answers of
    the named queries) never spells one: the text has one home, the ontology."""
    return {category_text(curie): value for curie, value in table.items()}


def category_text(curie: str) -> str:
    """The text terminology.ttl gives a category individual (``ax:UsuallyAppropriate``)."""
    return text_by_iri("category")[AX + curie.split(":", 1)[1]]


# --- short names ------------------------------------------------------------------------------
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(?<!\.)")


def curie(iri: str, names: Iterable[str] | Mapping[str, str] = PREFIXES, *, plain: bool = False) -> str | None:
    """``prefix:local`` for an IRI under one of the named prefixes of ``PREFIXES`` (default all), or
    under one of a prefix map's bases (``{prefix: base}``, as an SSSOM ``curie_map``), or None. The
    longest base that fits wins. ``plain`` asks for a local part a Turtle writer can emit as it is
    (letters, digits, ``_``, ``-`` and inner dots); display needs no such care."""
    table = names if isinstance(names, Mapping) else {name: PREFIXES[name] for name in names}
    best: str | None = None
    for name, base in table.items():
        local = iri[len(base) :]
        fits = iri.startswith(base) and local and (not plain or _PLAIN_LOCAL.fullmatch(local))
        if fits and (best is None or len(base) > len(table[best])):
            best = name
    return None if best is None else f"{best}:{iri[len(table[best]) :]}"


def local_name(iri: str) -> str:
    """What follows the last ``#`` or ``/`` of an IRI: how reasoners and reports name an entity."""
    return re.split(r"[#/]", iri)[-1]
