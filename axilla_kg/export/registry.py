"""The export formats: one registry that the CLI and the library both read.

Each entry names a format, says in one line what it gives (the CLI's help is built from these
lines) and knows which exporter writes it. Entries import their exporter only when they run, so
building the command line (``axilla-kg --help``, every command's parser) loads neither rdflib
nor any exporter. Adding a format is adding an entry here and its module; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from axilla_kg.export.rdf import SourceGraph

Writer = Callable[["SourceGraph", "str | None"], str]


@dataclass(frozen=True)
class ExportFormat:
    """One export format: its name on the command line, what it is, and its writer."""

    name: str
    description: str
    writer: Writer

    def write(self, source: SourceGraph, topic: str | None = None) -> str:
        """The format's text for ``source`` (or one topic of it plus the shared model)."""
        return self.writer(source, topic)


def _rdf(syntax: str) -> Writer:
    def write(source: SourceGraph, topic: str | None) -> str:
        from axilla_kg.export.rdf import rdf_export

        return rdf_export(source, syntax, topic=topic)

    return write


def _csv(source: SourceGraph, topic: str | None) -> str:
    from axilla_kg.export.table import ratings_csv

    return ratings_csv(source, topic=topic)


def _fhir(source: SourceGraph, topic: str | None) -> str:
    from axilla_kg.export.fhir import fhir_bundle_json

    return fhir_bundle_json(source, topic=topic)


def _sssom(source: SourceGraph, topic: str | None) -> str:
    from axilla_kg.export.sssom import sssom_tsv

    return sssom_tsv(source, topic=topic)


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("ttl", "Turtle", _rdf("ttl")),
        ExportFormat("nt", "N-Triples, sorted", _rdf("nt")),
        ExportFormat("jsonld", "JSON-LD with the shipped @context", _rdf("jsonld")),
        ExportFormat("xml", "RDF/XML, one rdf:Description per subject, sorted", _rdf("xml")),
        ExportFormat("trig", "TriG: one named graph per topic plus graph/shared, with PROV-O provenance", _rdf("trig")),
        ExportFormat("owl", "OWL 2 DL in RDF/XML (typed node elements)", _rdf("owl")),
        ExportFormat("fhir", "FHIR R4 Bundle (CPG-on-FHIR PlanDefinitions and ActivityDefinitions)", _fhir),
        ExportFormat("sssom", "SSSOM/TSV of the mappings to SNOMED CT, NCIt and LOINC", _sssom),
        ExportFormat("csv", "the flat ratings table (the layout import-ratings reads)", _csv),
    )
}
