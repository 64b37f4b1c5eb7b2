"""Batch mode's classes of cases (recommend/partition.py) and their compiled answers (recommend/classanswers.py).

The compiled answer of a class must be byte for byte the recommender's own answer for every case of
the class (apart from the echoed case, which each line carries itself). Hypothesis draws cases over
the whole contract — every field left out, null or given, numbers on and around every bound the
definitions use — and compares with ``Recommender.recommend``, the reference.
"""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.contract.cases import CaseError, CaseReader, PatientCase
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend import classanswers, facts, partition
from axilla_kg.recommend.classanswers import CASE_HEAD, CHECKED, ClassAnswers
from axilla_kg.recommend.classify import Classifier
from axilla_kg.recommend.classify import Test as VariantTest
from axilla_kg.recommend.partition import Partition, Validity
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_class_shows_the_variants_what_its_cases_show(
    rec: Recommender, answers: dict[str, ClassAnswers], values: dict[str, list[Any]], data: st.DataObject
) -> None:
    """A new class's variant statuses are looked up, not evaluated (recommend/facts.py): each test's
    result is picked from the class's probe results, a variant a derivation rule may refute is
    evaluated on the class's member values, and the assumed and derived facts come from the filled
    fields' readings. Each of these is what the case itself gives; and the case built from them is
    the contract's reading of the class's member values."""
    drawn = {name: data.draw(st.sampled_from(choices), label=name) for name, choices in values.items()}
    case = _case(rec, {name: value for name, value in drawn.items() if value is not ABSENT})
    compiled = answers["full"]
    effective, results, filled, _ = compiled.facts.of(compiled.partition.key_of(case))
    members = compiled.facts.values(effective)
    for v in compiled.variants:
        assert v.tested(results) == tuple(v.variant.tested(case)), v.variant.class_iri
        assert v.variant.evaluate(members) == v.variant.evaluate(case), v.variant.class_iri
    assert {f.name: f.value for f in filled if f.how == facts.ASSUMED} == case.assumed_json()
    assert {f.name: f.value for f in filled if f.how == facts.DERIVED} == case.derived_json()
    # the case the next question is scored on, built without reading: the contract's case of the
    # class's member values, values in the same order, the same assumed and derived fields
    key = compiled.partition.key_of(case)
    built, read = compiled.facts.case(key), rec.reader.parse(compiled.partition.member(key))
    assert list(built.values.items()) == list(read.values.items())
    assert (built.assumed, built.derived) == (read.assumed, read.derived)
    assert compiled.partition.key_of(built) == key


@pytest.fixture(scope="module")
def validity(rec: Recommender) -> Validity:
    return Validity(Partition(rec.classifier, rec.registry))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_validity_check_by_check_is_the_contracts(
    rec: Recommender, validity: Validity, values: dict[str, list[Any]], data: st.DataObject
) -> None:
    """Batch mode decides whether a class's cases are valid one contract check at a time, each
    remembered per the classes of the fields it reads (and checks grouped, a group's verdict per the
    classes of the few fields its checks read: one fixture for all draws, so groups' verdicts are
    met again): the verdict is the contract's on the case, for valid cases with one field changed
    (so that one check, any of them, may refuse it)."""
    drawn = {name: data.draw(st.sampled_from(choices), label=name) for name, choices in values.items()}
    given_ = {name: value for name, value in drawn.items() if value is not ABSENT}
    _case(rec, given_)  # a valid case (the fields the contract refuses dropped in turn)...
    changed = data.draw(st.sampled_from(sorted(values)), label="changed")
    value = data.draw(st.sampled_from(values[changed]), label="to")  # ... with one field changed
    if value is ABSENT:
        given_.pop(changed, None)
    else:
        given_[changed] = value
    fields = validity.partition.fields
    key = tuple(c.code(given_.get(c.feature.name, partition.ABSENT)) for c in fields)
    try:
        rec.reader.parse(dict(given_))
        valid = True
    except CaseError:
        valid = False
    assert validity(key) == valid


def test_validity_without_rules_still_requires_the_required_fields(rec: Recommender) -> None:
    """A registry with no rule between fields and no derivation still has required fields: a class
    without one is invalid (the contract says ``required``), a class with it valid."""
    bare = dataclasses.replace(rec.registry, rules=(), derivations=(), default_exceptions=())
    validity = Validity(Partition(rec.classifier, bare))
    required = [f.name for f in bare.features if f.required]
    assert required
    given_ = {name: bare[name].values[0] for name in required}
    with pytest.raises(CaseError):
        CaseReader(bare).parse({})
    assert not validity(tuple(c.code(partition.ABSENT) for c in validity.partition.fields))
    assert validity(tuple(c.code(given_.get(c.feature.name, partition.ABSENT)) for c in validity.partition.fields))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_tiny_memos_change_no_answer(
    rec: Recommender, values: dict[str, list[Any]], data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every memo of a class's answer parts is bounded (memory stays flat): with bounds of two
    entries each, forgetting all the time, the answers are still the recommender's."""
    with monkeypatch.context() as patched:
        patched.setattr(classanswers, "MAX_PARTS", 2)
        patched.setattr(facts, "MAX_FILLED", 2)
        patched.setattr(partition, "MAX_VERDICTS", 2)
        compiled = ClassAnswers(rec, Partition(rec.classifier, rec.registry))
    assert compiled.compiled
    for _ in range(3):
        drawn = {name: data.draw(st.sampled_from(choices), label=name) for name, choices in values.items()}
        case = _case(rec, {name: value for name, value in drawn.items() if value is not ABSENT})
        assert _line(compiled, case) == dumps({"line": 1, **rec.recommend(case)})


def test_the_bounds_are_read_from_the_definitions(rec: Recommender) -> None:
    """An age bound no definition uses today (60) splits the ages once a definition uses it: the
    partition reads its bounds from the compiled classifier, never from a list of its own."""
    shipped = Partition(rec.classifier, rec.registry)
    first = rec.classifier.variants[0]
    bounded = dataclasses.replace(first, tests=[*first.tests, VariantTest("age", "bound", op=">=", limit=Decimal(60))])
    wider = Partition(Classifier([bounded, *rec.classifier.variants[1:]], rec.registry), rec.registry)
    ages = {age: rec.reader.parse({"sex": "female", "age": age}) for age in (17, 59, 61, 90)}
    assert 60 not in {t.limit for v in rec.classifier.variants for t in v.tests if t.field == "age"}
    assert shipped.key_of(ages[59]) == shipped.key_of(ages[61]) != shipped.key_of(ages[17])
    assert wider.key_of(ages[59]) != wider.key_of(ages[61]) == wider.key_of(ages[90])


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
    compiled = ClassAnswers(reshaped, Partition(reshaped.classifier, reshaped.registry), checked=CHECKED)
    # the first class met (one with a match, so the reshaped part differs) is checked and turns the
    # compiled path off; a later class is answered by the recommender too
    first = reshaped.reader.parse(
        {"sex": "female", "age": 41, "question": "screening", "breast_cancer_risk": "average"}
    )
    later = reshaped.reader.parse({"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1.5})
    for case in (first, later):
        assert json.loads(_line(compiled, case)) == json.loads(dumps({"line": 1, **reshaped.recommend(case)}))
        assert not compiled.compiled


def test_the_first_classes_met_are_answered_both_ways(rec: Recommender, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch mode checks the compiled answers against the recommender's on the first classes it
    meets (not on probes drawn at start-up): a checked class gets the recommender's own bytes, so a
    compiled part that went wrong is caught there, and the compiled path is left for the whole run."""
    compiled = ClassAnswers(rec, Partition(rec.classifier, rec.registry), checked=2)
    case = rec.reader.parse({"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1.5})
    assert _line(compiled, case) == dumps({"line": 1, **rec.recommend(case)})
    assert compiled.compiled and compiled.unchecked == 1  # the two ways agreed
    # a compiled part gone wrong on the next class met (here: every part rendered as a wrong string)
    compiled.clear()
    monkeypatch.setattr(compiled, "_part", lambda kind, key, render: b'"wrong"')
    other = rec.reader.parse({"sex": "male", "age": 70})
    assert _line(compiled, other) == dumps({"line": 1, **rec.recommend(other)})
    assert not compiled.compiled and compiled.unchecked == 0
    assert _line(compiled, case) == dumps({"line": 1, **rec.recommend(case)})  # exact from then on


@pytest.fixture(scope="module")
def lots(rec: Recommender) -> dict[str, ClassAnswers]:
    """Compiled answers that only ever answer lots of classes (:meth:`ClassAnswers.tails`), one per
    detail level: what they learn from one lot is met again by later ones, as in a batch's workers."""
    partition = Partition(rec.classifier, rec.registry)
    return {detail: ClassAnswers(rec, partition, detail) for detail in ("full", "brief", classanswers.REF)}


def _lot(rec: Recommender, values: dict[str, list[Any]], data: st.DataObject) -> list[PatientCase]:
    """Up to a dozen drawn cases, some of them drawn again (a lot may repeat a class)."""
    cases: list[PatientCase] = []
    for _ in range(data.draw(st.integers(1, 12), label="cases")):
        if cases and data.draw(st.booleans(), label="again"):
            cases.append(data.draw(st.sampled_from(cases), label="repeated"))
            continue
        drawn = {name: data.draw(st.sampled_from(choices), label=name) for name, choices in values.items()}
        cases.append(_case(rec, {name: value for name, value in drawn.items() if value is not ABSENT}))
    return cases


def _tail(rec: Recommender, case: PatientCase, detail: str, compiled: ClassAnswers) -> bytes:
    """The recommender's answer for the case, less its echo: the tail a class's lines end with."""
    if detail == classanswers.REF:  # matches as references into the details document
        result = rec.recommend(case, detail="full")
        result["matches"] = [
            {"topic": m["topic"], "variant": m["variant"], "ref": ref}
            for m in result["matches"]
            for ref in [f"{m['topic']}-{m['variant']}-"]
        ]
    else:
        result = rec.recommend(case, detail=detail)
    line = dumps({"line": 1, **result}).encode()
    members = dumps(case.to_json())[1:-1].encode()
    head = b'{"line":1,' + CASE_HEAD + members
    assert line.startswith(head)
    return line[len(head) :] + b"\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_lot_of_classes_gets_each_ones_answer(
    rec: Recommender, lots: dict[str, ClassAnswers], values: dict[str, list[Any]], data: st.DataObject
) -> None:
    """A batch worker answers the new classes of a block together, step by step over all of them
    (:meth:`ClassAnswers.tails`: each part looked up for the lot, learned where new): each class's
    tail is byte for byte the recommender's answer, whatever the lot holds (classes met before, new
    ones, one class twice) and at every detail level."""
    cases = _lot(rec, values, data)
    for detail, compiled in lots.items():
        tails = compiled.tails([compiled.partition.key_of(case) for case in cases])
        assert len(tails) == len(cases)
        for case, tail in zip(cases, tails, strict=True):
            assert tail is not None
            wanted = _tail(rec, case, detail, compiled)
            if detail == classanswers.REF:  # each reference ends with a hash of the variant's details
                assert re.sub(rb'("ref":"[^"]*-)[0-9a-f]{10}"', rb'\1"', tail) == wanted, detail
                for ref in re.findall(rb'"ref":"([^"]*)"', tail):
                    assert ref.decode() in compiled.details
            else:
                assert tail == wanted, detail


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_lot_of_classes_with_tiny_memos_gets_each_ones_answer(
    rec: Recommender, values: dict[str, list[Any]], data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering a lot, the memos may forget what an earlier class of the same lot learned (bounds
    of two parts and a dozen scores: forgetting all the time, open sets among them): no answer changes."""
    with monkeypatch.context() as patched:
        patched.setattr(classanswers, "MAX_PARTS", 2)
        patched.setattr(classanswers, "MAX_SCORES", 12)
        patched.setattr(facts, "MAX_FILLED", 2)
        compiled = ClassAnswers(rec, Partition(rec.classifier, rec.registry))
        for _ in range(2):
            cases = _lot(rec, values, data)
            tails = compiled.tails([compiled.partition.key_of(case) for case in cases])
            assert tails == [_tail(rec, case, "full", compiled) for case in cases]


def test_a_lot_starts_with_the_classes_still_to_check(rec: Recommender) -> None:
    """The first classes a run meets are answered both ways (:data:`CHECKED`), in a lot too: those
    go one by one, the rest of the lot together, and a checked class that differs turns the
    compiled path off for the rest of the lot."""
    shared = Partition(rec.classifier, rec.registry)
    compiled = ClassAnswers(rec, shared, checked=2)
    cases = [
        rec.reader.parse({"sex": "female", "breast_cancer": "new", "tumor_size_cm": size}) for size in (1.5, 3.0, None)
    ] + [rec.reader.parse({"sex": "male", "age": 70})]
    keys = [compiled.partition.key_of(case) for case in cases]
    assert compiled.tails(keys) == [_tail(rec, case, "full", compiled) for case in cases]
    assert compiled.unchecked == 0 and compiled.compiled
    wrong = ClassAnswers(rec, shared, checked=1)
    wrong.parts = [_Wrong(), _Wrong(), _Wrong()]  # every part compiled wrong: the check notices
    assert wrong.tails(keys) == [_tail(rec, case, "full", wrong) for case in cases]
    assert not wrong.compiled


class _Wrong(dict[Any, bytes]):
    """A part memo that knows every part, wrongly."""

    def get(self, key: Any, default: Any = None) -> bytes:
        return b'"wrong"'

    def __getitem__(self, key: Any) -> bytes:
        return b'"wrong"'


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_validity_of_a_lot_is_each_ones(
    rec: Recommender, validity: Validity, values: dict[str, list[Any]], data: st.DataObject
) -> None:
    """The new classes of a block are checked together (:meth:`Validity.many`, one lookup pass per
    group of checks): each verdict is the contract's on a case of the class, for lots of valid cases
    with one field changed (so any one check may refuse some of them; one fixture for all draws, so
    a lot meets groups' verdicts decided before, for and against)."""
    keys, wanted = [], []
    for _ in range(data.draw(st.integers(1, 8), label="cases")):
        drawn = {name: data.draw(st.sampled_from(choices), label=name) for name, choices in values.items()}
        given_ = {name: value for name, value in drawn.items() if value is not ABSENT}
        _case(rec, given_)
        changed = data.draw(st.sampled_from(sorted(values)), label="changed")
        value = data.draw(st.sampled_from(values[changed]), label="to")
        if value is ABSENT:
            given_.pop(changed, None)
        else:
            given_[changed] = value
        keys.append(tuple(c.code(given_.get(c.feature.name, partition.ABSENT)) for c in validity.partition.fields))
        try:
            rec.reader.parse(dict(given_))
            wanted.append(True)
        except CaseError:
            wanted.append(False)
    assert validity.many(keys) == wanted
