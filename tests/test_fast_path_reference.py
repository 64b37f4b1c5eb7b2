"""HermiT's case verdicts (:class:`axilla_kg.reasoning.reasoner.CaseQuestions`, the reference of
``tests/test_fast_path.py``) against the older reference, HermiT's entailments about case
individuals, on a fixed set of cases; verdicts given a claim (confirmed at once, as the
5,000-case test asks them) against verdicts asked question by question, with right and planted
wrong claims; and the clinical-stage derivation, read by HermiT from the facts alone, against the
fast path on a grid around its bounds.

Apart from ``tests/test_fast_path.py`` (the 5,000-case property test) so that
``pytest -n 2 --dist loadfile`` runs the two on different workers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from itertools import product

import pytest
from cases_gold import GOLD, boundary_case_json
from fast_path_helpers import answered

from axilla_kg.contract.cases import CaseError, PatientCase, loads_case, parse_case
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.reasoning.reasoner import CaseQuestions, CaseTypes, entailed_case_types, realise_cases
from axilla_kg.recommend.recommender import Recommender


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender.load(KnowledgeGraph.load())


@pytest.fixture(scope="module")
def hermit() -> Iterator[CaseQuestions]:
    with CaseQuestions() as questions:
        yield questions


def _fixed_cases() -> list[PatientCase]:
    """Gold cases (one match, the rest refuted), gold cases with one criterion unknown
    (candidates; an enum and a boolean field), and the seed patient just above the 2 cm boundary
    (an exact decimal)."""
    fixed = [parse_case(GOLD[key]) for key in (("286", 4), ("235", 6))]
    fixed += [parse_case({**GOLD[key], name: None}) for key, name in UNKNOWN_ONE]
    fixed.append(loads_case(boundary_case_json("2.0000001")))
    return fixed


#: (gold case, a criterion of its variant): the case without it makes the variant a candidate
UNKNOWN_ONE = [(("286", 4), "imaging_step"), (("286", 7), "node_side"), (("235", 4), "nac_planned")]


@pytest.mark.slow
def test_case_questions_equal_the_entailments_about_case_individuals(
    recommender: Recommender, hermit: CaseQuestions
) -> None:
    """The new reference against the old one, and both against ``recommend``. The old one: the
    cases as individuals in one ABox, and what HermiT entails about each, V(a) and ¬V(a)
    (:func:`entailed_case_types`: the types the realisation against complement classes gives,
    asked as instance checks, seconds where that realisation took minutes); the matches also as
    owlready2 reads them off HermiT's realisation (:func:`realise_cases`, what
    ``recommend --reasoner hermit`` runs)."""
    fixed = _fixed_cases()
    entailed = entailed_case_types(fixed)
    realised = realise_cases(fixed, refute=False)
    asked = hermit.verdicts(fixed)
    assert [(t.matched, t.refuted) for t in asked] == [(t.matched, t.refuted) for t in entailed]
    assert [t.matched for t in asked] == [t.matched for t in realised]
    for case, types in zip(fixed, asked, strict=True):
        assert (types.matched, types.refuted) == answered(recommender, case), case.to_json()
    variants = len(recommender.classifier.variants)
    assert any(t.matched for t in asked), "no gold case matched: datatype mismatch?"
    assert any(len(t.matched) + len(t.refuted) < variants for t in asked), "no candidate in the fixed set"


def _wrong(types: CaseTypes, variants: list[str], k: int) -> CaseTypes:
    """A claim that differs from ``types`` in one variant, the kind of error chosen by ``k``:
    a match, a refutation or a candidate claimed as one of the other two."""
    matched, refuted = set(types.matched), set(types.refuted)
    candidates = [v for v in variants if v not in matched | refuted]
    moves = [
        (sorted(matched), lambda v: (matched - {v}, refuted)),  # a match claimed a candidate
        (sorted(refuted), lambda v: (matched, refuted - {v})),  # a refutation claimed a candidate
        (candidates, lambda v: (matched | {v}, refuted)),  # a candidate claimed a match
        (candidates, lambda v: (matched, refuted | {v})),  # a candidate claimed refuted
        (sorted(matched), lambda v: (matched - {v}, refuted | {v})),  # a match claimed refuted
        (sorted(refuted), lambda v: (matched | {v}, refuted - {v})),  # a refutation claimed a match
    ]
    for shift in range(len(moves)):
        pool, move = moves[(k + shift) % len(moves)]
        if pool:
            new_matched, new_refuted = move(pool[k % len(pool)])
            return CaseTypes(new_matched, new_refuted)
    raise AssertionError("no variant to move")


@pytest.mark.slow
def test_a_claim_changes_the_questions_not_the_verdict(recommender: Recommender, hermit: CaseQuestions) -> None:
    """What the 5,000-case test rests on: given each case's verdict as its claim, HermiT confirms
    them all at once (no case asked question by question) and returns them; given claims with a
    planted error in every third case (each kind of error in turn), it asks those cases their
    questions and returns its own verdicts, the same as asked without a claim."""
    cases = [*_fixed_cases(), *(parse_case(gold) for gold in GOLD.values())]
    cases = list(dict.fromkeys(cases))
    truth = hermit.verdicts(cases)  # question by question
    variants = sorted({v.variant_iri for v in recommender.classifier.variants})
    confirmed, asked = hermit.confirmed, hermit.asked
    right = hermit.verdicts(cases, claimed=truth)
    assert [(t.matched, t.refuted) for t in right] == [(t.matched, t.refuted) for t in truth]
    assert (hermit.confirmed - confirmed, hermit.asked - asked) == (len(cases), 0)
    claims = [_wrong(t, variants, k // 3) if k % 3 == 0 else t for k, t in enumerate(truth)]
    planted = sum(1 for c, t in zip(claims, truth, strict=True) if (c.matched, c.refuted) != (t.matched, t.refuted))
    assert planted == len(range(0, len(cases), 3))
    confirmed, asked = hermit.confirmed, hermit.asked
    again = hermit.verdicts(cases, claimed=claims)
    assert [(t.matched, t.refuted) for t in again] == [(t.matched, t.refuted) for t in truth]
    assert (hermit.confirmed - confirmed, hermit.asked - asked) == (len(cases) - planted, planted)


def _stage_grid() -> list[PatientCase]:
    """Every combination of the facts the clinical-stage derivation reads, around its bounds."""
    out: dict[PatientCase, None] = {}
    base = {"sex": "female", "breast_cancer": "new", "question": "systemic_staging", "neoadjuvant": "none"}
    nodal = [("negative", None), ("positive", None), ("positive", "N1"), ("positive", "N2"), (None, None)]
    sizes = ("2", "2.5", "5", "5.5", None)
    for size, (nodes, category), invasive, t4, m1 in product(
        sizes, nodal, (True, False, None), (False, True, None), (False, None)
    ):
        facts = {"clinical_nodes": nodes, "clinical_n_category": category, "invasive": invasive}
        facts |= {"chest_wall_or_skin": t4, "distant_metastases": m1, "tumor_size_cm": Decimal(size) if size else None}
        data = base | {k: v for k, v in facts.items() if v is not None}
        out[parse_case(data)] = None
        for stage in ("I-IIA", "other"):  # a stated stage: the reasoner also reads the rules backwards
            with contextlib.suppress(CaseError):  # refused when the facts derive the other stage
                out[parse_case({**data, "clinical_stage": stage, "question": "axilla"})] = None
    return list(out)


@pytest.mark.slow
def test_hermit_derives_the_stage_as_the_contract_does(recommender: Recommender, hermit: CaseQuestions) -> None:
    """The derivation rules' class axioms: HermiT, given only the facts the case states (not the
    stage the contract derived), reaches the same matches and candidates as the fast path."""
    grid = _stage_grid()
    assert sum(1 for c in grid if c.derived) > len(grid) // 4  # many derive a stage, others state it
    assert any(c.get("clinical_stage") == "I-IIA" for c in grid) and any(
        c.get("clinical_stage") == "other" for c in grid
    )
    fast = [answered(recommender, case) for case in grid]
    claimed = [CaseTypes(matched, refuted) for matched, refuted in fast]  # confirmed at once, or asked
    for case, types, answer in zip(grid, hermit.verdicts([c.given() for c in grid], claimed), fast, strict=True):
        assert (types.matched, types.refuted) == answer, case.values
