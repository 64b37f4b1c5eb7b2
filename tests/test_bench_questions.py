"""The question replay of ``benchmarks/bench_questions.py`` on a subset (no timing): presentations
written from the official titles, answered only where the tool asks, end on the reference table's
category (read again from ``../shared/reference``), with no decided answer contradicted on the way."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend.recommender import Recommender

from conftest import reference_dir

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_questions", REPO / "benchmarks" / "bench_questions.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_questions"] = bench  # its dataclasses look their module up
_spec.loader.exec_module(bench)

SUBSET = ["286-1-us", "286-4-us", "286-4-pet", "286-3-us", "286-8-mri-open", "235-4-pet", "235-6-bone", "235-8-fna"]


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


def test_there_are_at_least_30_presentations_with_distinct_keys() -> None:
    keys = [p.key for p in bench.PRESENTATIONS]
    assert len(keys) >= 30 and len(set(keys)) == len(keys)


@pytest.mark.parametrize("key", SUBSET)
def test_replay(rec: Recommender, key: str) -> None:
    p = next(p for p in bench.PRESENTATIONS if p.key == key)
    if p.category is not None:
        assert bench.reference_category(p, reference_dir()) == p.category
    result = bench.replay(rec, p)
    assert result.contradicted == []
    assert result.category == p.category, result
    assert len(result.asked) <= 3


def test_the_seed_patient_needs_one_question_for_us_and_two_for_pet(rec: Recommender) -> None:
    by_key = {p.key: p for p in bench.PRESENTATIONS}
    assert bench.replay(rec, by_key["286-4-us"]).asked == ["imaging_step"]
    assert bench.replay(rec, by_key["286-4-pet"]).asked == ["imaging_step", "nac_planned"]
