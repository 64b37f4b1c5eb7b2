"""SSSOM TSV of the graph's mappings to standard terminologies.

The mappings live in the graph (``ontology/mappings.ttl``: ``skos:*Match`` triples, each
annotated through an ``owl:Axiom`` with the public page that verified the code and a comment);
this module only reads them back, so the graph and the SSSOM file cannot disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from axilla_kg import vocab
from axilla_kg.export.rdf import SourceGraph
from axilla_kg.formats.sssom import columns
from axilla_kg.vocab import PREFIXES

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
COLUMNS = columns("object_source")
OBJECT_SOURCES = {
    "LOINC": "https://loinc.org/",
    "NCIT": "http://purl.obolibrary.org/obo/ncit.owl",
    "RADLEX": "http://radlex.org/",
    "SNOMED": "http://snomed.info/sct",
}


def curie(iri: str) -> str:
    """The CURIE for ``iri`` from ``CURIE_MAP`` (the longest base that fits); the IRI itself when none fits."""
    return vocab.curie(iri, CURIE_MAP) or iri


@dataclass
class _Found:
    subject_labels: set[str] = field(default_factory=set)
    object_labels: set[str] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)
    comments: set[str] = field(default_factory=set)


def _in_scope(source: SourceGraph, topic: str | None) -> Callable[[str], bool]:
    """Whether a subject belongs to the export: all of them, or (one topic) the topic's own and the shared ones."""
    if topic is None:
        return lambda subject: True
    source.topic_node(topic)
    others = set().union(*(owned for key, owned in source.owned.items() if key != topic)) - source.owned[topic]
    foreign = {str(node) for node in others}
    return lambda subject: subject not in foreign


def mappings(source: SourceGraph, *, topic: str | None = None) -> list[dict[str, str]]:
    """Every mapping of one of our entities to an external terminology, with its verification
    page and comment, read through the named query ``export-mappings``."""
    in_scope = _in_scope(source, topic)
    found: dict[tuple[str, str, str], _Found] = {}
    for row in source.read("export-mappings"):
        subject, predicate, obj = row["subject"] or "", row["predicate"] or "", row["object"] or ""
        if not subject.startswith((PREFIXES["axd"], PREFIXES["ax"])) or not in_scope(subject):
            continue
        entry = found.setdefault((subject, predicate, obj), _Found())
        for cell, bucket in (
            ("subjectLabel", entry.subject_labels),
            ("objectLabel", entry.object_labels),
            ("page", entry.pages),
            ("comment", entry.comments),
        ):
            value = row[cell]
            if value is not None:
                bucket.add(value)
    rows = []
    for (subject, predicate, obj), entry in found.items():
        object_id = curie(obj)
        note = " ".join(sorted(entry.comments))
        if entry.pages:
            note += " Verified at: " + " ; ".join(sorted(entry.pages))
        rows.append(
            {
                "subject_id": curie(subject),
                "subject_label": min(entry.subject_labels, default=""),
                "predicate_id": curie(predicate),
                "object_id": object_id,
                "object_label": min(entry.object_labels, default=""),
                "mapping_justification": "semapv:ManualMappingCuration",
                "object_source": OBJECT_SOURCES.get(object_id.split(":", 1)[0], ""),
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
