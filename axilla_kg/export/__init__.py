"""Exporting the graph so it travels: RDF serializations, FHIR CPG, SSSOM mappings, a flat CSV.

Every exporter returns text; the CLI (``axilla-kg export``) writes it to stdout or, atomically,
to a file. All outputs are deterministic (same input, byte-identical output) so they diff well.
"""

from __future__ import annotations

from axilla_kg.export.rdf import RDF_FORMATS, SourceGraph, load_source, rdf_export

FORMATS = (*RDF_FORMATS, "fhir", "sssom", "csv")


def export(fmt: str, *, topic: str | None = None, inferred: bool = False) -> str:
    """The graph (or one topic of it) in ``fmt``; see ``FORMATS``."""
    from axilla_kg.errors import UsageError

    if fmt not in FORMATS:
        raise UsageError(f"unknown export format '{fmt}' (expected one of {', '.join(FORMATS)})")
    source = load_source(inferred=inferred)
    if fmt in RDF_FORMATS:
        return rdf_export(source, fmt, topic=topic)
    if fmt == "csv":
        from axilla_kg.export.table import ratings_csv

        return ratings_csv(source, topic=topic)
    if fmt == "fhir":
        from axilla_kg.export.fhir import fhir_bundle_json

        return fhir_bundle_json(source, topic=topic)
    from axilla_kg.export.sssom import sssom_tsv

    return sssom_tsv(source, topic=topic)


__all__ = ["FORMATS", "RDF_FORMATS", "SourceGraph", "export", "load_source", "rdf_export"]
