"""The namespaces we mint and the prefixes we write: the one place an IRI base is spelled.

Every module that names an ``ax:`` term, mints an ``axd:`` entity, writes Turtle or SPARQL
prefixes, or builds an IRI of ours (export graph names, FHIR canonicals, case individuals) takes
the base from here, so moving the vocabulary is a one-line change and no module can drift.

The ACR's printed vocabularies (appropriateness categories, relative radiation levels, strength of
evidence) and our confidence levels map the text of the curated tables to the individuals of
``ontology/core.ttl``; ``ingest`` reads a table's text through them, ``export`` writes the text
back, so both read this one table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def sparql_prefixes(*names: str) -> str:
    """``PREFIX`` declarations for the named prefixes (``rdf`` included), for queries that do not
    run through a ``KnowledgeGraph`` engine (those declare every prefix themselves)."""
    known = {**PREFIXES, "rdf": RDF}
    return "".join(f"PREFIX {name}: <{known[name]}>\n" for name in names)


# --- the ACR's printed vocabularies: table text -> individual ----------------------------------
CATEGORIES = {
    "Usually Appropriate": "ax:UsuallyAppropriate",
    "May Be Appropriate": "ax:MayBeAppropriate",
    "May Be Appropriate (Disagreement)": "ax:MayBeAppropriateDisagreement",
    "Usually Not Appropriate": "ax:UsuallyNotAppropriate",
    "": "ax:CategoryNotStated",
}
RRLS = {
    "O": "ax:RRL-O",
    "☢": "ax:RRL-1",
    "☢☢": "ax:RRL-2",
    "☢☢☢": "ax:RRL-3",
    "☢☢☢☢": "ax:RRL-4",
    "☢☢☢☢☢": "ax:RRL-5",
    "Varies": "ax:RRL-Varies",
}
SOES = {
    "Strong": "ax:SOE-Strong",
    "Limited": "ax:SOE-Limited",
    "Expert Consensus": "ax:SOE-ExpertConsensus",
}
CONFIDENCES = {
    "high": "ax:ConfidenceHigh",
    "seed": "ax:ConfidenceSeed",
    "medium": "ax:ConfidenceMedium",
    "low": "ax:ConfidenceLow",
}


def text_by_iri(table: dict[str, str]) -> dict[str, str]:
    """One of the tables above turned round: full individual IRI -> the text the ACR prints."""
    return {AX + curie.split(":", 1)[1]: text for text, curie in table.items()}


# --- short names ------------------------------------------------------------------------------
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(?<!\.)")


def curie(iri: str, names: Iterable[str] = PREFIXES, *, plain: bool = False) -> str | None:
    """``prefix:local`` for an IRI under one of the named prefixes (first match; default all of
    ``PREFIXES``), or None. ``plain`` asks for a local part a Turtle writer can emit as it is
    (letters, digits, ``_``, ``-`` and inner dots); display needs no such care."""
    for name in names:
        base = PREFIXES[name]
        local = iri[len(base) :]
        if iri.startswith(base) and local and (not plain or _PLAIN_LOCAL.fullmatch(local)):
            return f"{name}:{local}"
    return None


def local_name(iri: str) -> str:
    """What follows the last ``#`` or ``/`` of an IRI: how reasoners and reports name an entity."""
    return re.split(r"[#/]", iri)[-1]
