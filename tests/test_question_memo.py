"""Batch mode's memo of next-question scores (recommend/classanswers.py, ``Decider.reads``).

Batch mode remembers each askable field's score per (open variants, field, the partition classes of
the fields ``Decider.reads`` names for it, plus ``Decider.prior_reads`` when a variant's unknown
tests look at a derived field). That is exact only if two cases with the same such key get the same
score and question. Hypothesis draws a case, then a second one with some fields drawn again (so keys
often coincide while the cases differ), and whenever the keys coincide compares both cases' scores,
each computed by a fresh decider (no memo shared) — and the whole next question with the
recommender's own. A memo key that left out a field the scoring reads fails here.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from decider_helpers import fresh_decider as _fresh
from decider_helpers import open_variants as _opened
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.contract.cases import CaseError, PatientCase
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend import classanswers
from axilla_kg.recommend.classanswers import ClassAnswers
from axilla_kg.recommend.decide import Open
from axilla_kg.recommend.partition import Partition
from axilla_kg.recommend.recommender import Recommender

from conftest import cli_command, cli_env

ABSENT = object()


def _values(rec: Recommender, name: str) -> list[Any]:
    """What a case can say in one field: nothing, null, each value; numbers on and near each bound
    that a definition, a case rule or a derivation uses."""
    feature = rec.registry[name]
    values: list[Any] = [ABSENT, None, *feature.values]
    if feature.kind == "boolean":
        values += [True, False]
    limits = {t.limit for v in rec.classifier.variants for t in v.tests if t.field == name and t.kind == "bound"}
    conditions = [c for r in rec.registry.rules for c in r.conditions]
    conditions += [c for d in rec.registry.derivations for c in d.conditions]
    limits |= {c.limit for c in conditions if c.field == name and c.op}
    for limit in limits or ({Decimal(30)} if feature.kind in ("integer", "decimal") else set()):
        step = Decimal(1) if feature.kind == "integer" else Decimal("0.01")
        values += [limit - step, limit, limit + step, limit * 2]
    return [int(v) if feature.kind == "integer" and isinstance(v, Decimal) else v for v in values]


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


@pytest.fixture(scope="module")
def partition(rec: Recommender) -> Partition:
    return Partition(rec.classifier, rec.registry)


@pytest.fixture(scope="module")
def values(rec: Recommender) -> dict[str, list[Any]]:
    return {name: _values(rec, name) for name in rec.registry.fields}


def _parse(rec: Recommender, drawn: dict[str, Any]) -> PatientCase | None:
    """The drawn case, each field the contract refuses dropped in turn (so most draws count)."""
    data = {name: value for name, value in drawn.items() if value is not ABSENT}
    for _ in range(len(data) + 1):
        try:
            return rec.reader.parse(data)
        except CaseError as exc:
            if exc.field not in data:
                return None
            del data[exc.field]
    return None


def _memo_key(rec: Recommender, partition: Partition, case: PatientCase, opened: list[Open], name: str) -> Any:
    decider = rec.decider
    derived = {d.feature for d in rec.registry.derivations}
    reads = decider.reads[name]
    if any(t.field in derived for o in opened for t in o.unknown):
        reads |= decider.prior_reads
    key = partition.key_of(case)
    order = rec.registry.fields
    variants = tuple((o.variant.variant_iri, o.status, o.unknown) for o in opened)
    return variants, name, tuple(key[order.index(n)] for n in sorted(reads, key=order.index))


def test_cases_with_one_memo_key_get_one_score(
    rec: Recommender, partition: Partition, values: dict[str, list[Any]]
) -> None:
    compared: list[str] = []

    @settings(
        max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        first = {name: data.draw(st.sampled_from(choices), label=name) for name, choices in values.items()}
        redrawn = data.draw(st.sets(st.sampled_from(sorted(values)), min_size=1, max_size=6), label="redrawn")
        again = {name: data.draw(st.sampled_from(values[name]), label=f"again {name}") for name in redrawn}
        a, b = _parse(rec, first), _parse(rec, {**first, **again})
        if a is None or b is None:
            return
        opened_a, opened_b = _opened(rec, a), _opened(rec, b)
        for name in rec.decider.asked_fields(a, opened_a):
            if _memo_key(rec, partition, a, opened_a, name) != _memo_key(rec, partition, b, opened_b, name):
                continue
            one, other = _fresh(rec), _fresh(rec)
            score_a = one.field_question(a, opened_a, name, one.wanted(opened_a))
            score_b = other.field_question(b, opened_b, name, other.wanted(opened_b))
            assert score_a == score_b, name
            compared.append(name)

    check()
    assert len(compared) >= 50  # the draws do make keys coincide (else this test would prove nothing)


def test_the_compiled_next_question_is_the_recommenders_after_many_classes(
    rec: Recommender, partition: Partition, values: dict[str, list[Any]]
) -> None:
    """One compiled-answer object meets 800 random classes (its score memo filling up as in a
    batch); every next question equals a fresh recommender's for that case."""
    compiled = ClassAnswers(rec, partition)
    rng = random.Random(24)
    checked = 0
    for _ in range(800):
        case = _parse(rec, {name: rng.choice(choices) for name, choices in values.items()})
        if case is None:
            continue
        line = compiled.answer_of(partition.key_of(case))
        fresh = dataclasses.replace(rec, _decider=None)
        assert line["next_question"] == fresh.recommend(case)["next_question"]
        checked += 1
    assert checked > 200


def test_open_sets_forgotten_past_a_tiny_bound_give_the_same_answers(
    rec: Recommender, partition: Partition, values: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``MAX_SCORES`` scores (and ``MAX_PARTS`` open sets) batch mode forgets the least recently
    asked open sets with their scores, and works them out again when their classes come back. With a
    bound of a few scores (forgetting on almost every class), 400 random classes, many met again
    after theirs were forgotten, get the answers of a compiled-answer object that never forgets, and
    the bound holds throughout."""
    rng = random.Random(23)
    keys = []
    while len(keys) < 260:
        case = _parse(rec, {name: rng.choice(choices) for name, choices in values.items()})
        if case is not None:
            keys.append(partition.key_of(case))
    keys += [rng.choice(keys) for _ in range(140)]  # classes met again (their open sets mostly forgotten)
    monkeypatch.setattr(classanswers, "MAX_SCORES", 10**9)
    unbounded = ClassAnswers(rec, partition)
    expected = [unbounded.tail(key) for key in keys]
    monkeypatch.setattr(classanswers, "MAX_SCORES", 12)
    monkeypatch.setattr(classanswers, "MAX_PARTS", 16)
    tiny = ClassAnswers(rec, partition)
    built: dict[int, Any] = {}  # every open set it made (kept alive: their ids stay theirs)
    for key, tail in zip(keys, expected, strict=True):
        assert tiny.tail(key) == tail
        assert tiny.scored < 12 and len(tiny.by_variants) <= 16 and len(tiny.open_sets) <= 16
        assert tiny.scored == sum(opens.scored for opens in tiny.by_variants.values())
        built |= {id(opens): opens for opens in tiny.by_variants.values()}
    # the bound did make it forget open sets and make them again (else this would prove nothing)
    assert len(built) > len(unbounded.by_variants) + 50 > 100


#: A staging case (from the benchmark's varied mix) whose next question's ``why`` rounds an expected
#: count near a half: a product of shares taken in a set's order gave "5.2" under some string hash
#: seeds and "5.3" under others.
NEAR_A_HALF = (
    '{"imaging_step":"next","sex":"female","nac_planned":false,"question":null,'
    '"diagnostic_breast_imaging_done":true,"age":24,"mammography_birads":"5","clinical_nodes":"positive",'
    '"node_side":"ipsilateral","chest_wall_or_skin":null,"invasive":true,"tumor_size_cm":1.0,'
    '"clinical_n_category":"N1","metastatic_suspicion":null,"breast_cancer":"new"}\n'
)


def test_the_answer_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(NEAR_A_HALF, encoding="utf-8")
    outputs = set()
    for seed in ("1", "2", "3", "5"):  # under the old order: 5.3, 5.2, 5.3, 5.2
        done = subprocess.run(
            [*cli_command(), "recommend", "--cases", str(cases)],
            capture_output=True,
            env=cli_env(PYTHONHASHSEED=seed),
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
