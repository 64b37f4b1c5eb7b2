"""Exporting the graph so it travels: RDF serializations, FHIR CPG, SSSOM mappings, a flat CSV.

Every exporter returns text; the CLI (``axilla-kg export``) writes it to stdout or, atomically,
to a file. All outputs are deterministic (same input, byte-identical output) so they diff well.
The formats are the entries of ``EXPORT_FORMATS`` (``axilla_kg.export.registry``). Importing this
package loads no exporter and not rdflib: ``load_source``, ``rdf_export``, ``SourceGraph`` and
``RDF_FORMATS`` are loaded from ``axilla_kg.export.rdf`` on first use, so the CLI can build its
parser from the registry cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axilla_kg.export.registry import EXPORT_FORMATS, ExportFormat

if TYPE_CHECKING:
    from axilla_kg.export.rdf import RDF_FORMATS, SourceGraph, load_source, rdf_export

FORMATS = tuple(EXPORT_FORMATS)


def export(fmt: str, *, topic: str | None = None, inferred: bool = False) -> str:
    """The graph (or one topic of it) in ``fmt``, a name of ``EXPORT_FORMATS``."""
    from axilla_kg.errors import UsageError
    from axilla_kg.export.rdf import load_source

    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format '{fmt}' (expected one of {', '.join(EXPORT_FORMATS)})")
    return EXPORT_FORMATS[fmt].write(load_source(inferred=inferred), topic)


_FROM_RDF = ("RDF_FORMATS", "SourceGraph", "load_source", "rdf_export")


def __getattr__(name: str) -> Any:
    """The RDF side of the package, imported when first asked for (PEP 562)."""
    if name in _FROM_RDF:
        from axilla_kg.export import rdf

        return getattr(rdf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "RDF_FORMATS",
    "ExportFormat",
    "SourceGraph",
    "export",
    "load_source",
    "rdf_export",
]
