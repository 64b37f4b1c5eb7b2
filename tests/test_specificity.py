"""Conflicts resolved only by specificity: the reasoner (``derive``, HermiT) finds one variant's
patient class strictly inside another's, and a conflict between them leads with the narrower one
and still lists every rating. The fixture topic 997 nests 286 V4 inside 997 V2 inside 997 V1."""

from __future__ import annotations

from pathlib import Path

import pytest
from cases_gold import SEED_PATIENT

from axilla_kg.authoring.derive import generate
from axilla_kg.contract.cases import parse_case
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend.recommender import Recommender

FIXTURE = Path(__file__).parent / "fixtures" / "recommend" / "nested-variants.ttl"


@pytest.mark.slow
def test_a_conflict_leads_with_the_variant_the_reasoner_shows_more_specific(tmp_path: Path) -> None:
    relations = tmp_path / "relations.ttl"
    relations.write_text(generate(extra=(FIXTURE,)), encoding="utf-8")
    rec = Recommender.load(KnowledgeGraph.load([FIXTURE, relations]))
    by_key = {(v.topic, v.number): v.variant_iri for v in rec.classifier.variants}
    assert (by_key[("286", 4)], by_key[("997", 2)]) in rec.inside
    assert (by_key[("997", 2)], by_key[("997", 1)]) in rec.inside
    assert (by_key[("997", 1)], by_key[("997", 2)]) not in rec.inside  # strictly

    result = rec.recommend(parse_case({**SEED_PATIENT, "nac_planned": False}))
    conflict = next(c for c in result["conflicts"] if c["procedure"] == "US axilla")
    first = conflict["ratings"][0]
    assert (first["topic"], first["variant"], first["category"]) == ("286", 4, "Usually Appropriate")
    assert {(r["topic"], r["variant"]) for r in conflict["ratings"]} == {("286", 4), ("997", 1), ("997", 2)}
    assert conflict["more_specific"] == {
        "category": "Usually Appropriate",
        "variants": [{"topic": "286", "variant": 4}],
        "inside": [{"topic": "997", "variant": 1}, {"topic": "997", "variant": 2}],
    }
    assert "US axilla" not in {d["procedure"] for d in result["decided"]}  # still a conflict, not decided

    # a case that is not in 286 V4 (a node-negative cancer): 997 V1 and V2 do not conflict with
    # a narrower variant, but 997 V2 is inside 997 V1 only for node-positive cases, so here 997 V1
    # matches alone and nothing conflicts
    plain = rec.recommend(parse_case({"sex": "female", "breast_cancer": "new", "clinical_nodes": "negative"}))
    assert not plain["conflicts"]


def test_without_a_containment_a_conflict_stays_plain(kg: KnowledgeGraph) -> None:
    """286 V4 and 235 V4 overlap but neither contains the other: no side is named more specific."""
    rec = Recommender.load(kg)
    result = rec.recommend(parse_case({**SEED_PATIENT, "nac_planned": True}))
    assert result["conflicts"] and all(c["more_specific"] is None for c in result["conflicts"])
