"""Batch mode in-process: worker processes give byte-identical output in input order, the cell
cache never changes an answer, and the progress meter reports the counts."""

from __future__ import annotations

import io
import json
import random

import pytest

from axilla_kg import batch
from axilla_kg.cases import loads_case
from axilla_kg.graph import KnowledgeGraph
from axilla_kg.recommend import Recommender, dumps


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


def _lines(n: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        case: dict = {"sex": rng.choice(["female", "male"]), "breast_cancer": rng.choice(["none", "new", "recurrent"])}
        if case["breast_cancer"] != "none":
            case["tumor_size_cm"] = round(rng.uniform(0.5, 4), rng.choice([0, 1, 3, 7]))
            case["clinical_nodes"] = rng.choice(["negative", "positive"])
            case["neoadjuvant"] = rng.choice(["none", "mid_treatment", "completed"])
        case["age"] = rng.choice([None, 16, 18, 55])
        case["diagnostic_breast_imaging_done"] = rng.choice([None, True, False])
        out.append("oops\n" if i % 997 == 0 else json.dumps(case) + "\n")
    return out


def test_workers_keep_order_and_output(rec: Recommender) -> None:
    lines = _lines(2 * batch.CHUNK + 100)
    one, two = io.StringIO(), io.StringIO()
    counts_one = batch.run(rec, lines, one, jobs=1)
    counts_two = batch.run(rec, lines, two, jobs=2)
    assert one.getvalue() == two.getvalue()
    assert counts_one == counts_two == {"cases": len(lines), "errors": len([x for x in lines if x == "oops\n"])}
    numbers = [json.loads(line)["line"] for line in two.getvalue().splitlines()]
    assert numbers == list(range(1, len(lines) + 1))


def test_cached_answers_equal_fresh_answers(rec: Recommender) -> None:
    cached = batch.BatchRecommender(rec)
    for number, text in enumerate(_lines(600, seed=9), start=1):
        if text == "oops\n":
            continue
        fresh = rec.recommend(loads_case(text))
        expected = {"line": number, **fresh}
        assert json.loads(cached.answer(number, text)) == json.loads(dumps(expected))


def test_progress_meter(rec: Recommender) -> None:
    progress = io.StringIO()
    batch.run(rec, _lines(50), io.StringIO(), progress=progress)
    assert progress.getvalue().endswith("\n") and "50 cases" in progress.getvalue()
