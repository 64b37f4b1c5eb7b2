"""The reasoner-definition rules of `axilla-kg check`: overlap, cross-topic conflict and gap
each fire on a fixture built to break the graph that way, carry a witness case that `recommend`
really matches, and stay silent about the fixture's entities on the shipped graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from axilla_kg.checks import Level, run_checks
from axilla_kg.contract.cases import parse_case
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend.recommender import Recommender

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "check" / "overlapping-variants.ttl"
AXD = "https://w3id.org/axilla-kg/id/"
V1, V2, T998 = AXD + "topic-998-variant-1", AXD + "topic-998-variant-2", AXD + "topic-998"


@pytest.fixture(scope="module")
def shipped() -> list:  # type: ignore[type-arg]
    return run_checks(stages=["definitions"]).findings


@pytest.fixture(scope="module")
def broken() -> list:  # type: ignore[type-arg]
    return run_checks([FIXTURE], stages=["definitions"]).findings


def _about(findings: list, rule: str, *iris: str) -> list:  # type: ignore[type-arg]
    return [f for f in findings if f.rule == rule and all(any(e[0] == i for e in f.entities) for i in iris)]


def _replays(witness: dict, *variants: tuple[str, int], extra: tuple[Path, ...] = ()) -> bool:  # type: ignore[type-arg]
    result = Recommender.load(KnowledgeGraph.load(extra)).recommend(parse_case(witness))
    matched = {(m["topic"], m["variant"]) for m in result["matches"]}
    return set(variants) <= matched


def test_overlap_in_one_topic(shipped: list, broken: list) -> None:  # type: ignore[type-arg]
    assert _about(shipped, "variant-overlap", V1, V2) == []
    hits = _about(broken, "variant-overlap", V1, V2)
    assert len(hits) == 1 and hits[0].level is Level.WARN
    assert _replays(hits[0].witness, ("998", 1), ("998", 2), extra=(FIXTURE,))


def test_disjoint_variants_are_not_reported(shipped: list) -> None:  # type: ignore[type-arg]
    v3, v4 = AXD + "topic-286-variant-3", AXD + "topic-286-variant-4"  # node-negative vs node-positive
    assert _about(shipped, "variant-overlap", v3, v4) == []


def test_cross_topic_conflict(shipped: list, broken: list) -> None:  # type: ignore[type-arg]
    v4 = AXD + "topic-286-variant-4"
    assert _about(shipped, "cross-topic-conflict", V2, v4) == []
    hits = [f for f in _about(broken, "cross-topic-conflict", V2, v4) if "'US axilla'" in f.message]
    assert len(hits) == 1 and hits[0].level is Level.WARN
    assert "Usually Not Appropriate" in hits[0].message and "Usually Appropriate" in hits[0].message
    assert "fixture.csv:2" in (hits[0].source or "")
    assert _replays(hits[0].witness, ("998", 2), ("286", 4), extra=(FIXTURE,))


def test_gap_for_a_value_no_variant_accepts(shipped: list, broken: list) -> None:  # type: ignore[type-arg]
    assert _about(shipped, "variant-gap", T998) == []
    hits = [f for f in _about(broken, "variant-gap", T998) if "sex 'male'" in f.message]
    assert len(hits) == 1 and hits[0].level is Level.INFO
    result = Recommender.load(KnowledgeGraph.load([FIXTURE])).recommend(parse_case(hits[0].witness))
    assert not any(m["topic"] == "998" for m in result["matches"])


def test_shipped_gap_small_cancer_after_neoadjuvant_therapy(shipped: list) -> None:  # type: ignore[type-arg]
    gaps = [f for f in shipped if f.rule == "variant-gap" and f.entities[0][0] == AXD + "topic-286"]
    witnesses = [f.witness for f in gaps]
    assert any(w["tumor_size_cm"] <= 2 and w["neoadjuvant"] == "completed" for w in witnesses if "tumor_size_cm" in w)
