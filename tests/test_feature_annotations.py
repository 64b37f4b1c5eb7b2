"""The feature registry's data for the gap search and the FHIR export: read from the ontology.

Adding a feature is meant to be an ontology edit. These tests hold the registry against
``ontology/terminology.ttl`` read here with rdflib, and show that an annotation added in a data
file alone changes what the check command's gap search holds fixed (no field name in code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rdflib

from axilla_kg.checks import run_checks
from axilla_kg.contract.features import shipped_registry
from axilla_kg.resources import ontology_dir

AX = rdflib.Namespace("https://w3id.org/axilla-kg/vocab#")


def _terminology() -> rdflib.Graph:
    graph = rdflib.Graph()
    for name in ("core.ttl", "terminology.ttl"):
        graph.parse(ontology_dir() / name, format="turtle")
    return graph


def _case_value(graph: rdflib.Graph, node: Any) -> Any:
    if isinstance(node, rdflib.URIRef):
        return str(graph.value(node, AX.caseValue))
    return node.toPython()


def test_the_gap_search_values_are_the_ontologys() -> None:
    graph = _terminology()
    expected_neutral = {
        str(graph.value(f, AX.caseField)): _case_value(graph, v) for f, v in graph.subject_objects(AX.gapNeutralValue)
    }
    expected_alone = {str(graph.value(f, AX.caseField)) for f, v in graph.subject_objects(AX.gapReportedAlone) if v}
    registry = shipped_registry()
    assert {f.name: f.neutral for f in registry.features if f.neutral is not None} == expected_neutral
    assert {f.name for f in registry.features if f.reported_alone} == expected_alone
    assert expected_neutral["age"] == 50 and expected_neutral["axillary_lump"] == "none"
    assert expected_alone == {"sex", "breast_cancer"}


def test_every_fhir_unit_and_usage_context_belongs_to_a_case_feature() -> None:
    graph = _terminology()
    for prop in (AX.ucumUnit, AX.fhirUsageContext):
        for feature, _ in graph.subject_objects(prop):
            assert (feature, rdflib.RDF.type, AX.PatientFeature) in graph, (prop, feature)
    usage = {str(graph.value(f, AX.caseField)): str(v) for f, v in graph.subject_objects(AX.fhirUsageContext)}
    assert usage == {"sex": "gender", "age": "age"}


def _gap_messages(extra: list[Path]) -> list[str]:
    findings = run_checks(extra, stages=["definitions"]).findings
    return [f.message for f in findings if f.rule == "variant-gap" and "no variant covers" in f.message]


def test_a_neutral_value_added_in_a_data_file_is_held_by_the_gap_search(tmp_path: Path) -> None:
    before = _gap_messages([])
    assert any("imaging_step=next" in m for m in before), "the shipped gaps split on the imaging step"
    extra = tmp_path / "hold-imaging-step.ttl"
    extra.write_text(
        "@prefix ax: <https://w3id.org/axilla-kg/vocab#> .\n"
        "ax:featImagingStep ax:gapNeutralValue ax:InitialImaging .\n",
        encoding="utf-8",
    )
    after = _gap_messages([extra])
    assert after and all("imaging_step=initial;" in m for m in after)  # held, and said so
    assert not any("imaging_step=next" in m for m in after)  # no longer an axis of the search
