"""Batch mode's classes of cases (recommend/partition.py) and their compiled answers (recommend/classanswers.py).

The compiled answer of a class must be byte for byte the recommender's own answer for every case of
the class (apart from the echoed case, which each line carries itself). Hypothesis draws cases over
the whole contract — every field left out, null or given, numbers on and around every bound the
definitions use — and compares with ``Recommender.recommend``, the reference.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.contract.cases import CaseError, PatientCase
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend.classanswers import CASE_HEAD, ClassAnswers
from axilla_kg.recommend.classify import Classifier
from axilla_kg.recommend.classify import Test as VariantTest
from axilla_kg.recommend.partition import Partition
from axilla_kg.recommend.recommender import Recommender, dumps

ABSENT = object()


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


@pytest.fixture(scope="module")
def answers(rec: Recommender) -> dict[str, ClassAnswers]:
    partition = Partition(rec.classifier, rec.registry)
    return {detail: ClassAnswers(rec, partition, detail) for detail in ("full", "brief")}


def _values(rec: Recommender, name: str) -> list[Any]:
    """What a case can say in one field: nothing, null, each value; numbers on and near each bound."""
    feature = rec.registry[name]
    values: list[Any] = [ABSENT, None, *feature.values]
    if feature.kind == "boolean":
        values += [True, False]
    limits = {t.limit for v in rec.classifier.variants for t in v.tests if t.field == name and t.kind == "bound"}
    for limit in limits or ({Decimal(30)} if feature.kind in ("integer", "decimal") else set()):
        step = Decimal(1) if feature.kind == "integer" else Decimal("0.01")
        values += [limit - step, limit, limit + step, limit * 2]
    return [int(v) if feature.kind == "integer" and isinstance(v, Decimal) else v for v in values]


@pytest.fixture(scope="module")
def values(rec: Recommender) -> dict[str, list[Any]]:
    return {name: _values(rec, name) for name in rec.registry.fields}


def _case(rec: Recommender, data: dict[str, Any]) -> PatientCase:
    """The drawn case, with each field the contract refuses dropped in turn (so every draw counts)."""
    while True:
        try:
            return rec.reader.parse(data)
        except CaseError as exc:
            if exc.field not in data:  # a required field left out
                data[exc.field] = rec.registry[exc.field].values[0]
            else:
                del data[exc.field]


def _line(answers: ClassAnswers, case: PatientCase) -> str:
    tail = answers.tail(answers.partition.key_of(case))
    assert tail is not None
    members = dumps(case.to_json())[1:-1].encode()
    return (b'{"line":1,' + CASE_HEAD + members + tail).decode().rstrip("\n")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_compiled_answers_equal_the_recommenders(
    rec: Recommender, answers: dict[str, ClassAnswers], values: dict[str, list[Any]], data: st.DataObject
) -> None:
    drawn = {name: data.draw(st.sampled_from(choices), label=name) for name, choices in values.items()}
    case = _case(rec, {name: value for name, value in drawn.items() if value is not ABSENT})
    for detail, compiled in answers.items():
        assert compiled.compiled
        assert _line(compiled, case) == dumps({"line": 1, **rec.recommend(case, detail=detail)}), detail


def test_the_bounds_are_read_from_the_definitions(rec: Recommender) -> None:
    """An age bound no definition uses today (40) splits the ages once a definition uses it: the
    partition reads its bounds from the compiled classifier, never from a list of its own."""
    shipped = Partition(rec.classifier, rec.registry)
    first = rec.classifier.variants[0]
    bounded = dataclasses.replace(first, tests=[*first.tests, VariantTest("age", "bound", op=">=", limit=Decimal(40))])
    wider = Partition(Classifier([bounded, *rec.classifier.variants[1:]], rec.registry), rec.registry)
    ages = {age: rec.reader.parse({"sex": "female", "age": age}) for age in (17, 39, 41, 90)}
    assert shipped.key_of(ages[39]) == shipped.key_of(ages[41]) != shipped.key_of(ages[17])
    assert wider.key_of(ages[39]) != wider.key_of(ages[41]) == wider.key_of(ages[90])


def test_absent_and_null_share_a_class_unless_a_default_is_assumed(rec: Recommender) -> None:
    partition = Partition(rec.classifier, rec.registry)
    defaulted = next(f.name for f in rec.registry.features if f.default is not None)
    plain = next(f.name for f in rec.registry.features if f.default is None and not f.required)
    base = {"sex": "female"}
    key = partition.key_of
    assert key(rec.reader.parse(base)) == key(rec.reader.parse({**base, plain: None}))
    assert key(rec.reader.parse(base)) != key(rec.reader.parse({**base, defaulted: None}))


class _ReshapedRecommender(Recommender):
    """The recommender with one more part in its answer (as a later version may have): the compiled
    answers do not know it, so batch mode must notice and answer through the recommender."""

    def recommend(self, case: PatientCase, matched: set[str] | None = None, detail: str = "full") -> dict[str, Any]:
        result = super().recommend(case, matched, detail)
        return {**result, "decided": [m["variant"] for m in result["matches"]]}


def test_a_recommender_answering_in_another_shape_is_used_as_it_is(kg: KnowledgeGraph) -> None:
    plain = Recommender.load(kg)
    reshaped = _ReshapedRecommender(**{f.name: getattr(plain, f.name) for f in dataclasses.fields(plain)})
    compiled = ClassAnswers(reshaped, Partition(reshaped.classifier, reshaped.registry))
    assert not compiled.compiled
    case = reshaped.reader.parse({"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1.5})
    assert json.loads(_line(compiled, case)) == json.loads(dumps({"line": 1, **reshaped.recommend(case)}))
