"""Shape stage: SHACL validation of the graph with pySHACL against ``ontology/*.shapes.ttl``.

Inference is off (``inference='none'``): the shapes are written against asserted triples, and
RDFS/OWL-RL expansion would multiply the data graph several times for no new violations (the
reasoner stage covers entailment). sh:targetClass still follows rdfs:subClassOf in the data, as
the SHACL spec requires. Each property shape has its own IRI, whose local name is the rule id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.findings import Finding, Level
from axilla_kg.errors import DataError
from axilla_kg.resources import ontology_dir
from axilla_kg.vocab import local_name

STAGE = "shapes"
SH = "http://www.w3.org/ns/shacl#"
_SEVERITY = {SH + "Violation": Level.ERROR, SH + "Warning": Level.WARN, SH + "Info": Level.INFO}


def shapes_files() -> list[Path]:
    return sorted(ontology_dir().glob("*.shapes.ttl"))


def shapes_graph(paths: list[Path] | None = None) -> Any:
    import rdflib

    graph = rdflib.Graph()
    for path in paths if paths is not None else shapes_files():
        try:
            graph.parse(str(path), format="turtle")
        except Exception as exc:  # rdflib raises parser-specific types
            raise DataError(f"{path}: {' '.join(str(exc).split())}") from None
    return graph


def check_shapes(ctx: CheckContext) -> list[Finding]:
    """Validate the data graph against the shipped shapes; one finding per SHACL result."""
    import pyshacl
    import rdflib

    data = ctx.rdflib_graph()
    shapes = shapes_graph()
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True, meta_shacl=False
    )
    sh = rdflib.Namespace(SH)
    findings = []
    for result in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        focus = report.value(result, sh.focusNode)
        source_shape = report.value(result, sh.sourceShape)
        severity = report.value(result, sh.resultSeverity)
        message = report.value(result, sh.resultMessage)
        path = report.value(result, sh.resultPath)
        value = report.value(result, sh.value)
        rule = local_name(str(source_shape)) if isinstance(source_shape, rdflib.URIRef) else "shape"
        entities = [ctx.entity(str(focus))] if isinstance(focus, rdflib.URIRef) else [(str(focus), "")]
        if isinstance(value, rdflib.URIRef):
            entities.append(ctx.entity(str(value)))
        text = str(message) if message is not None else "shape violated"
        if path is not None:
            text += f" [path {local_name(str(path))}"
            text += f", value {value}]" if value is not None and not isinstance(value, rdflib.BNode) else "]"
        findings.append(
            Finding(
                "shape-" + rule,
                _SEVERITY.get(str(severity), Level.ERROR),
                text,
                tuple(entities),
                STAGE,
            )
        )
    return sorted(findings, key=lambda f: (f.rule, f.entities))
