"""The logic stage of `axilla-kg check` with the real reasoners (HermiT and Pellet in a JVM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from axilla_kg.checks import Level, run_checks

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "check"
AX = "https://w3id.org/axilla-kg/vocab#"
AXD = "https://w3id.org/axilla-kg/id/"


@pytest.mark.parametrize("reasoner", ["hermit", "pellet"])
def test_shipped_graph_is_consistent_with_no_unsatisfiable_class(reasoner: str) -> None:
    report = run_checks(reasoner=reasoner, stages=["logic"])
    assert report.findings == []
    assert report.stages[0].name == "logic" and report.stages[0].seconds > 0


@pytest.mark.parametrize("reasoner", ["hermit", "pellet"])
def test_disjoint_types_make_the_graph_inconsistent_with_an_explanation(reasoner: str) -> None:
    report = run_checks([FIXTURES / "disjoint-types.ttl"], reasoner=reasoner, stages=["logic"])
    [finding] = report.findings
    assert (finding.rule, finding.level) == ("logic-inconsistent", Level.ERROR)
    iris = {iri for iri, _label in finding.entities}
    # the justification names the individual and both disjoint classes
    assert {AXD + "proc-us-axilla", AX + "Procedure", AX + "Variant"} <= iris
    assert "because:" in finding.message and "DisjointClasses" in finding.message


def test_functional_property_clash_is_inconsistent() -> None:
    """Two different categories on one rating: ax:category is functional and the categories differ
    (their ax:categoryText values clash), so no model exists."""
    report = run_checks([FIXTURES / "contradictory-rating.ttl"], stages=["logic"])
    assert report.findings == [], "two rating nodes may disagree without a logical clash; the rule catches it"
    clash = FIXTURES / "two-categories.ttl"
    report = run_checks([clash], stages=["logic", "shapes"])
    rules = {(f.rule, f.level) for f in report.findings}
    assert ("logic-inconsistent", Level.ERROR) in rules
    assert ("shape-rating-one-category", Level.ERROR) in rules


def test_unsatisfiable_class_is_reported_with_its_reason() -> None:
    report = run_checks([FIXTURES / "unsatisfiable-class.ttl"], stages=["logic"])
    [finding] = report.findings
    assert (finding.rule, finding.level) == ("logic-unsatisfiable-class", Level.ERROR)
    assert finding.entities[0] == (AX + "ProcedureVariant", "procedure variant (fixture)")
    assert "because:" in finding.message and "Variant" in finding.message
