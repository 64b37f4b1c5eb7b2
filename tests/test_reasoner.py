"""The real OWL reasoners (HermiT and Pellet through owlready2 and a JVM) on the shipped graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from axilla_kg.reasoning.reasoner import run_reasoner

from conftest import write_ttl

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("reasoner", ["hermit", "pellet"])
def test_shipped_ontology_is_consistent(reasoner: str) -> None:
    report = run_reasoner(reasoner=reasoner)
    assert report.consistent, report.message
    assert report.unsatisfiable == []
    assert report.triples > 5000


def test_reasoner_catches_an_individual_in_two_disjoint_classes(tmp_path: Path) -> None:
    broken = write_ttl(tmp_path / "broken.ttl", "axd:proc-us-axilla a ax:Variant .\n")
    report = run_reasoner([broken])
    assert not report.consistent


def test_reasoner_catches_a_functional_property_clash(tmp_path: Path) -> None:
    # two different categories on one rating violate ax:category's functionality
    broken = write_ttl(
        tmp_path / "clash.ttl",
        "axd:rating-286-1-us-axilla ax:category ax:UsuallyNotAppropriate .\n"
        "[] a <http://www.w3.org/2002/07/owl#AllDifferent> ; "
        "<http://www.w3.org/2002/07/owl#distinctMembers> ( ax:UsuallyAppropriate ax:UsuallyNotAppropriate ) .\n",
    )
    assert not run_reasoner([broken]).consistent
