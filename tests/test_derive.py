"""Inferred related variants: the committed file is what the reasoner derives (golden), and the
relations mean what they say."""

from __future__ import annotations

import pytest

from axilla_kg.authoring import derive
from axilla_kg.graph.knowledge import KnowledgeGraph


@pytest.mark.slow
def test_committed_relations_match_the_reasoner() -> None:
    assert derive.target_file().read_text(encoding="utf-8") == derive.generate(), (
        "ontology/inferred/variant-relations.ttl is stale; run python -m axilla_kg.authoring.derive"
    )


def _inferred(kg: KnowledgeGraph, topic: str, variant: int) -> list[dict]:
    return [r for r in kg.records("related-variants", topic=topic, variant=variant) if r["kind"] == "inferred"]


def test_size_sibling_differs_in_tumour_size_only(kg: KnowledgeGraph) -> None:
    rows = _inferred(kg, "286", 3)
    to_5 = {r["differs_in"] for r in rows if r["other_topic"] == "286" and r["other_variant"] == 5}
    assert to_5 == {"primary tumour size"}
    rows = _inferred(kg, "286", 4)
    to_3 = {r["differs_in"] for r in rows if r["other_topic"] == "286" and r["other_variant"] == 3}
    assert to_3 == {"clinical nodal status"}
    # V6 says "(prior to treatment)", V4 does not: they differ in size and in surgery, not one feature
    assert not any(r["other_topic"] == "286" and r["other_variant"] == 6 for r in rows)


def test_cross_topic_overlap_286_6_and_235_4(kg: KnowledgeGraph) -> None:
    rows = _inferred(kg, "286", 6)
    assert any(r["other_topic"] == "235" and r["other_variant"] == 4 and r["relation"] == "overlaps" for r in rows)


def test_no_overlap_between_disjoint_definitions(kg: KnowledgeGraph) -> None:
    # 286 V3 is node-negative, 235 V4 node-positive: the reasoner must not link them as overlapping
    rows = _inferred(kg, "286", 3)
    assert not any(r["other_topic"] == "235" and r["other_variant"] == 4 and r["relation"] == "overlaps" for r in rows)


def test_every_one_feature_relation_really_differs_in_one_feature(kg: KnowledgeGraph) -> None:
    rows = kg.sparql(
        "PREFIX ax: <https://w3id.org/axilla-kg/vocab#> SELECT ?rel (COUNT(?f) AS ?n) WHERE { "
        "?rel ax:relationType ax:DiffersInOneFeature ; ax:differsIn ?f } GROUP BY ?rel"
    ).records()
    assert rows and all(r["n"] == 1 for r in rows)
