"""Batch mode's compiled next question (recommend/scoring.py) against its definition, the decider.

:class:`Scorer` takes a field's score apart: what a case admits of the field, remembered per field
and classes of the fields ``Decider.reads`` names (shared by every set of open variants), the values
and what each rules out per pattern of the open variants' tests, the score per set of open variants,
admitted values and shares key. Hypothesis draws cases over the whole contract (every value of every
field, numbers on and beside each bound, fields left out) and holds, for each askable field, the
compiled score and question equal to :meth:`Decider.field_score` of a fresh decider (no memo shared):
with a scorer whose memos fill up over the examples as in a batch, and with one whose memos hold a
single entry (so forgetting is exercised). Then the whole next question of one compiled-answer object
that meets every drawn class (its memos of open sets, scores and questions filling as in a batch)
against :meth:`Decider.next_question`. Scores are compared as the exact tuples (rounded to 9
places) and questions as whole objects (``why`` prints rounded figures), so a float summed in
another order shows.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from decider_helpers import fresh_decider as _fresh
from decider_helpers import open_variants as _opened
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.contract.cases import CaseError, PatientCase
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend.classanswers import ClassAnswers
from axilla_kg.recommend.decide import Decider, decided_count
from axilla_kg.recommend.partition import Partition
from axilla_kg.recommend.recommender import Recommender
from axilla_kg.recommend.scoring import Scorer

ABSENT = object()
SETTINGS = settings(
    max_examples=600, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


@pytest.fixture(scope="module")
def partition(rec: Recommender) -> Partition:
    return Partition(rec.classifier, rec.registry)


@pytest.fixture(scope="module")
def choices(rec: Recommender) -> dict[str, list[Any]]:
    """What a case can say in each field: nothing, null, each value; numbers on and beside each
    bound that a definition, a case rule or a derivation uses."""
    out: dict[str, list[Any]] = {}
    conditions = [c for r in rec.registry.rules for c in r.conditions]
    conditions += [c for d in rec.registry.derivations for c in d.conditions]
    for name in rec.registry.fields:
        feature = rec.registry[name]
        values: list[Any] = [ABSENT, None, *feature.values]
        if feature.kind == "boolean":
            values += [True, False]
        limits = {t.limit for v in rec.classifier.variants for t in v.tests if t.field == name and t.kind == "bound"}
        limits |= {c.limit for c in conditions if c.field == name and c.op}
        if feature.kind in ("integer", "decimal"):
            step = Decimal(1) if feature.kind == "integer" else Decimal("0.01")
            for limit in limits or {Decimal(30)}:
                values += [limit - step, limit, limit + step]
        out[name] = [int(v) if feature.kind == "integer" and isinstance(v, Decimal) else v for v in values]
    return out


def _draw_case(rec: Recommender, data: st.DataObject, choices: dict[str, list[Any]]) -> PatientCase | None:
    """A drawn case, each field the contract refuses left out in turn (so most draws count)."""
    drawn = {name: data.draw(st.sampled_from(values), label=name) for name, values in choices.items()}
    given = {name: value for name, value in drawn.items() if value is not ABSENT}
    for _ in range(len(given) + 1):
        try:
            return rec.reader.parse(given)
        except CaseError as exc:
            if exc.field not in given:
                return None
            del given[exc.field]
    return None


@pytest.mark.parametrize("limit", [20_000, 1], ids=["memos", "one-entry-memos"])
def test_each_compiled_field_score_is_the_deciders(
    rec: Recommender, partition: Partition, choices: dict[str, list[Any]], limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = Scorer(rec.decider, rec.registry.fields, limit=limit)  # shared: its memos fill over the examples
    figures: list[tuple[Any, ...]] = []  # what each question object is built from, as built
    build = Decider._question

    def recording(self: Decider, *args: Any) -> dict[str, Any]:
        figures.append(args)
        return build(self, *args)

    monkeypatch.setattr(Decider, "_question", recording)
    compared = {"scored": 0, "none": 0}

    @SETTINGS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = _draw_case(rec, data, choices)
        if case is None:
            return
        decider = _fresh(rec)
        opened = _opened(rec, case)
        wanted = decider.wanted(opened)
        state = scorer.open_scoring(opened, wanted)
        key = partition.key_of(case)
        for name in decider.asked_fields(case, opened):
            expected = decider.field_score(case, opened, name, wanted)
            found = scorer.score(state, name, key, lambda: case)
            if expected is None:
                assert found is None, name
                compared["none"] += 1
                continue
            assert found is not None, name
            assert found[0] == expected[0], name
            assert found[1]() == expected[1](), name
            # the unrounded figures too, bit for bit (a sum taken in another order differs here first)
            assert figures[-1] == figures[-2], name
            compared["scored"] += 1

    check()
    # the draws reach fields that are scored and fields that are not asked (else this proves little)
    assert compared["scored"] >= 250 and compared["none"] >= 50, compared


def test_the_compiled_next_question_is_the_deciders(
    rec: Recommender, partition: Partition, choices: dict[str, list[Any]]
) -> None:
    compiled = ClassAnswers(rec, partition)  # shared: open sets, scores and questions remembered as in a batch
    asked = {"question": 0, "null": 0}

    @SETTINGS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = _draw_case(rec, data, choices)
        if case is None:
            return
        expected = _fresh(rec).next_question(case, _opened(rec, case))
        assert compiled.answer_of(partition.key_of(case))["next_question"] == expected
        asked["question" if expected is not None else "null"] += 1

    check()
    assert asked["question"] >= 80 and asked["null"] >= 20, asked


def _shares_by_every_combination(decider: Decider, name: str, case: PatientCase) -> dict[Any, float]:
    """The shares of a derived field's values as ``Decider._shares``' docstring defines them, every
    combination of the unknown facts checked (as it was computed before it checked them lazily)."""
    feature = decider.registry[name]
    rules = [d for d in decider.registry.derivations if d.feature == name]
    given = {k: v for k, v in case.values.items() if k not in case.derived}
    conditions = [c for r in rules for c in r.conditions]
    unknown = sorted({c.field for c in conditions if c.field not in given})
    choices = [decider._representatives(decider.registry[f], [c for c in conditions if c.field == f]) for f in unknown]
    accepted: dict[tuple[Any, ...], Any] = {}
    for combo in product(*[[*c, None] for c in choices]):
        try:
            completed = decider.check({**given, **{n: v for n, v in zip(unknown, combo, strict=True) if v is not None}})
        except CaseError:
            continue
        accepted[combo] = completed.values[name] if name in completed.derived else None
    values = list(feature.values)
    counts = dict.fromkeys(values, 0.0)
    for combo, value in accepted.items():
        if any(
            v is None and any((*combo[:i], w, *combo[i + 1 :]) in accepted for w in choices[i])
            for i, v in enumerate(combo)
        ):
            continue
        if value is not None:
            counts[value] += 1
        else:
            for v in values:
                counts[v] += 1 / len(values)
    whole = sum(counts.values())
    return {v: (n / whole if whole else 1 / len(values)) for v, n in counts.items()}


def test_the_shares_of_a_derived_field_are_those_of_every_combination(
    rec: Recommender, choices: dict[str, list[Any]]
) -> None:
    """The lazy enumeration of ``Decider._shares`` (a combination with a gap is checked only when no
    value of the left-out fact is accepted) gives, bit for bit, the shares of the eager one."""
    derived = sorted(rec.decider.derived_fields)
    assert derived  # (else this test would prove nothing)
    unknowns: list[int] = []

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = _draw_case(rec, data, choices)
        if case is None:
            return
        decider = _fresh(rec)
        for name in derived:
            if name in case.values and name not in case.derived:
                continue  # given: its shares are never asked for
            found = decider.shares_at(rec.registry[name], decider.shares_key(case), lambda: case)
            assert found == _shares_by_every_combination(decider, name, case), name
            inputs = {c.field for d in rec.registry.derivations if d.feature == name for c in d.conditions}
            unknowns.append(len(inputs - case.values.keys()))

    check()
    assert len(unknowns) >= 100 and max(unknowns) >= 4, unknowns  # cases with many facts left out are met


def test_the_shares_with_completions_remembered_across_cases_are_those_of_every_combination(
    rec: Recommender, choices: dict[str, list[Any]]
) -> None:
    """``Decider._shares`` remembers a completion's outcome by what the contract check reads of it
    (``Decider._fact_view``), across cases, once a completion of the case's facts has passed the
    check. One decider meets every drawn case (its shares per shares key forgotten before each, so
    they are computed again from the remembered completions) and gives, bit for bit, the shares of
    the eager enumeration with a fresh decider."""
    derived = sorted(rec.decider.derived_fields)
    shared = _fresh(rec)
    reused = [0]

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = _draw_case(rec, data, choices)
        if case is None:
            return
        # and its neighbours: the case with one field changed (what the check of a completion reads
        # of them differs in little, so they meet each other's completions)
        cases = [case]
        given = {k: v for k, v in case.values.items() if k not in case.derived and k not in case.assumed}
        for _ in range(3):
            name = data.draw(st.sampled_from(sorted(choices)), label="changed")
            value = data.draw(st.sampled_from(choices[name]), label="to")
            changed = {k: v for k, v in given.items() if k != name}
            if value is not ABSENT:
                changed[name] = value
            try:
                cases.append(rec.reader.parse(changed))
            except CaseError:
                continue
        for case in cases:
            for name in derived:
                if name in case.values and name not in case.derived:
                    continue  # given: its shares are never asked for
                shared._value_shares.clear()
                before = len(shared._completions)
                found = shared.shares_at(rec.registry[name], shared.shares_key(case), lambda: case)  # noqa: B023
                assert found == _shares_by_every_combination(_fresh(rec), name, case), name
                reused[0] += len(shared._completions) == before

    check()
    assert reused[0] >= 20, reused  # cases whose completions were all remembered from others are met


def test_the_procedures_decided_counted_with_bit_masks_are_the_deciders(
    rec: Recommender, choices: dict[str, list[Any]]
) -> None:
    """``decided_count`` over ``Decider.deciding`` of the wanted procedures counts, for every subset
    of the open variants (every subset of up to 8), the wanted procedures that ``Decider.decided`` of
    that subset decides."""
    counted = {"decided": 0, "none": 0}

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = _draw_case(rec, data, choices)
        if case is None:
            return
        decider = _fresh(rec)
        opened = _opened(rec, case)
        wanted = decider.wanted(opened)
        if not wanted:
            return
        deciding = decider.deciding(opened, wanted)
        subsets = range(1 << len(opened)) if len(opened) <= 8 else [0, 1, (1 << len(opened)) - 1]
        for kept in subsets:
            decided, _ = decider.decided([o for j, o in enumerate(opened) if kept >> j & 1])
            expected = len([d for d in decided if d["procedure"] in wanted])
            assert decided_count(deciding, kept) == expected, kept
            counted["decided" if expected else "none"] += 1

    check()
    assert counted["decided"] >= 300 and counted["none"] >= 1000, counted
