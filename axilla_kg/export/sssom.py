"""SSSOM TSV of the graph's mappings to standard terminologies.

The mappings live in the graph (``ontology/mappings.ttl``: ``skos:*Match`` triples, each
annotated through an ``owl:Axiom`` with the public page that verified the code and a comment);
this module only reads them back, so the graph and the SSSOM file cannot disagree.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import rdflib
from rdflib import OWL, RDF, RDFS, URIRef

from axilla_kg import vocab
from axilla_kg.export.rdf import DCTERMS, SourceGraph
from axilla_kg.vocab import PREFIXES

SKOS = rdflib.Namespace(PREFIXES["skos"])
PREDICATES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
CURIE_MAP = {
    "AXD": PREFIXES["axd"],
    "AX": PREFIXES["ax"],
    "LOINC": "https://loinc.org/",
    "NCIT": "http://purl.obolibrary.org/obo/NCIT_",
    "RADLEX": "http://radlex.org/RID/",
    "SNOMED": "http://snomed.info/id/",
    "semapv": "https://w3id.org/semapv/vocab/",
    "skos": PREFIXES["skos"],
}
COLUMNS = [
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "object_source",
    "comment",
]
OBJECT_SOURCES = {
    "LOINC": "https://loinc.org/",
    "NCIT": "http://purl.obolibrary.org/obo/ncit.owl",
    "RADLEX": "http://radlex.org/",
    "SNOMED": "http://snomed.info/sct",
}


def curie(iri: str) -> str:
    """The shortest CURIE for ``iri`` from ``CURIE_MAP``; the IRI itself when none fits."""
    best = ""
    for prefix, base in CURIE_MAP.items():
        if iri.startswith(base) and len(base) > len(CURIE_MAP.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(CURIE_MAP[best]) :]}" if best else iri


def _label(g: rdflib.Graph, node: Any) -> str:
    labels = sorted(str(v) for v in g.objects(node, RDFS.label))
    return labels[0] if labels else ""


def mappings(source: SourceGraph, *, topic: str | None = None) -> list[dict[str, str]]:
    """Every mapping triple to an external terminology, with its verification page and comment."""
    g = source.graph
    in_scope = {t[0] for t in source.triples(topic)} if topic is not None else None
    rows = []
    for predicate in PREDICATES:
        for subject, obj in g.subject_objects(predicate):
            if not isinstance(obj, URIRef) or not str(subject).startswith((PREFIXES["axd"], PREFIXES["ax"])):
                continue
            if in_scope is not None and subject not in in_scope:
                continue
            axioms = [
                a
                for a in g.subjects(OWL.annotatedSource, subject)
                if (a, RDF.type, OWL.Axiom) in g
                and (a, OWL.annotatedProperty, predicate) in g
                and (a, OWL.annotatedTarget, obj) in g
            ]
            pages = sorted(str(p) for a in axioms for p in g.objects(a, DCTERMS.source))
            comments = sorted(str(c) for a in axioms for c in g.objects(a, RDFS.comment))
            object_id = curie(str(obj))
            prefix = object_id.split(":", 1)[0]
            note = " ".join(comments)
            if pages:
                note += " Verified at: " + " ; ".join(pages)
            rows.append(
                {
                    "subject_id": curie(str(subject)),
                    "subject_label": _label(g, subject),
                    "predicate_id": curie(str(predicate)),
                    "object_id": object_id,
                    "object_label": _label(g, obj),
                    "mapping_justification": "semapv:ManualMappingCuration",
                    "object_source": OBJECT_SOURCES.get(prefix, ""),
                    "comment": note.strip(),
                }
            )
    return sorted(rows, key=lambda r: (r["subject_id"], r["predicate_id"], r["object_id"]))


def sssom_tsv(source: SourceGraph, *, topic: str | None = None) -> str:
    """The SSSOM/TSV text: a commented YAML metadata block, then one mapping per row."""
    header = [
        "#curie_map:",
        *[f"#  {prefix}: {iri}" for prefix, iri in sorted(CURIE_MAP.items())],
        f"#mapping_set_id: {vocab.MAPPING_SET}",
        f"#mapping_set_version: {source.version}",
        "#mapping_set_description: axilla-kg procedures, diagnoses and management steps mapped to standard "
        "terminologies; only codes verified against a cited public page.",
        "#license: https://www.apache.org/licenses/LICENSE-2.0",
        f"#mapping_date: {source.generation_time().date().isoformat()}",
        f"#subject_source: {vocab.AXD}",
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(mappings(source, topic=topic))
    return "\n".join(header) + "\n" + buffer.getvalue()
