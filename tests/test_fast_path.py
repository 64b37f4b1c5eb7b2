"""The fast path gives exactly the reasoner's answers: hypothesis generates patient cases over
every field of the feature registry, old and new (at least 5,000 per run, boundary sizes such as
2.0 and 2.0000001 included), and for every case ``recommend``'s matches *and* candidates must
equal HermiT's: matched = the variants HermiT entails the case is in, candidates = the variants
it entails neither way, and so every other variant is refuted.

HermiT answers through :class:`axilla_kg.reasoning.reasoner.CaseQuestions` (class satisfiability, one JVM
for the whole module); a fixed set of cases holds that equal to the realisation of case
individuals (``realise_cases``, the older reference), which is too slow for thousands of cases.

AXILLA_KG_REASONER_CASES (the number of distinct cases, 5,000 by default) lowers the count for a
quick local run; CI runs the default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from cases_gold import GOLD, boundary_case_json, repaired
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from axilla_kg.contract.cases import PatientCase, loads_case, parse_case
from axilla_kg.contract.features import shipped_registry
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.reasoning.reasoner import CaseQuestions, CaseTypes, realise_cases
from axilla_kg.recommend.recommender import Recommender

TOTAL = int(os.environ.get("AXILLA_KG_REASONER_CASES", "5000"))

#: the 2 cm bound of the 286 titles and the 2 and 5 cm bounds of the AJCC stage derivation
boundary = st.sampled_from(
    ["2", "2.0", "2.0000001", "1.9999999", "2.00000000000001", "1.99999999999999", "5", "5.0000001", "4.9999999"]
).map(Decimal)
sizes = st.one_of(
    st.none(),
    boundary,
    st.decimals(min_value=Decimal("0.0000001"), max_value=Decimal("12"), places=7, allow_nan=False),
)
#: every age bound of a title, from both sides: adult (18), 205's "younger than 25" / "25 or older",
#: 153's "40 years of age or older"
ages = st.one_of(st.none(), st.sampled_from([17, 18, 24, 25, 39, 40]), st.integers(min_value=0, max_value=120))


@st.composite
def cases(draw: st.DrawFn) -> PatientCase:
    """Every registry field, each possibly unknown; contradictory fields are dropped (unknown)."""
    data: dict[str, Any] = {}
    for feature in shipped_registry().features:
        if feature.kind == "enum":
            data[feature.name] = draw(st.sampled_from([None, *feature.values]))
        elif feature.kind == "boolean":
            data[feature.name] = draw(st.sampled_from([None, True, False]))
        elif feature.kind == "decimal":
            data[feature.name] = draw(sizes)
        else:
            data[feature.name] = draw(ages)
    data["sex"] = data["sex"] or draw(st.sampled_from(["female", "male"]))
    return repaired(data)


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender.load(KnowledgeGraph.load())


@pytest.fixture(scope="module")
def hermit() -> Iterator[CaseQuestions]:
    with CaseQuestions() as questions:
        yield questions


def answered(recommender: Recommender, case: PatientCase) -> tuple[set[str], set[str]]:
    """(matched, refuted) variant IRIs as ``recommend`` answers them: its matches, and every
    variant that is neither a match nor a candidate."""
    result = recommender.recommend(case, detail="brief")
    iri = {(v.topic, v.number): v.variant_iri for v in recommender.classifier.variants}
    matched = {iri[(m["topic"], m["variant"])] for m in result["matches"]}
    candidates = {iri[(c["topic"], c["variant"])] for c in result["candidates"]}
    return matched, set(iri.values()) - matched - candidates


def _fixed_cases() -> list[PatientCase]:
    """Few, because each costs seconds in the realisation: gold cases (one match, the rest
    refuted), gold cases with one criterion unknown (candidates; an enum and a boolean field), and
    the seed patient just above the 2 cm boundary (an exact decimal)."""
    fixed = [parse_case(GOLD[key]) for key in (("286", 4), ("235", 6))]
    fixed += [parse_case({**GOLD[key], name: None}) for key, name in UNKNOWN_ONE]
    fixed.append(loads_case(boundary_case_json("2.0000001")))
    return fixed


#: (gold case, a criterion of its variant): the case without it makes the variant a candidate
UNKNOWN_ONE = [(("286", 4), "imaging_step"), (("286", 7), "node_side"), (("235", 4), "nac_planned")]


@pytest.mark.slow
def test_case_questions_equal_the_realisation_on_a_fixed_set(recommender: Recommender, hermit: CaseQuestions) -> None:
    """The new reference against the old one (HermiT realising case individuals, complement
    classes included), and both against ``recommend``. Complement realisation takes seconds per
    case in HermiT, hence a fixed set."""
    fixed = _fixed_cases()
    realised = realise_cases(fixed, reasoner="hermit")
    asked = hermit.verdicts(fixed)
    assert [(t.matched, t.refuted) for t in asked] == [(t.matched, t.refuted) for t in realised]
    for case, types in zip(fixed, asked, strict=True):
        assert (types.matched, types.refuted) == answered(recommender, case), case.to_json()
    variants = len(recommender.classifier.variants)
    assert any(t.matched for t in asked), "no gold case matched: datatype mismatch?"
    assert any(len(t.matched) + len(t.refuted) < variants for t in asked), "no candidate in the fixed set"


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
        out[parse_case(base | {k: v for k, v in facts.items() if v is not None})] = None
    return list(out)


@pytest.mark.slow
def test_hermit_derives_the_stage_as_the_contract_does(recommender: Recommender, hermit: CaseQuestions) -> None:
    """The derivation rules' class axioms: HermiT, given only the facts the case states (not the
    stage the contract derived), reaches the same matches and candidates as the fast path."""
    grid = _stage_grid()
    assert sum(1 for c in grid if c.derived) > len(grid) // 2  # most of the grid derives a stage
    assert any(c.get("clinical_stage") == "I-IIA" for c in grid) and any(
        c.get("clinical_stage") == "other" for c in grid
    )
    for case, types in zip(grid, hermit.verdicts([c.given() for c in grid]), strict=True):
        assert (types.matched, types.refuted) == answered(recommender, case), case.values


@pytest.mark.slow
def test_fast_path_equals_hermit(recommender: Recommender, hermit: CaseQuestions) -> None:
    """One case per example, so a failure shrinks to one small case. Hypothesis repeats some
    cases (about 7 %); HermiT is asked each distinct case once, and the run must reach TOTAL
    distinct cases."""
    asked: dict[PatientCase, CaseTypes] = {}

    @settings(max_examples=TOTAL + TOTAL // 5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cases())
    @example(parse_case(GOLD[("286", 4)]))  # a match, whatever hypothesis draws
    @example(parse_case({**GOLD[("286", 4)], "imaging_step": None}))  # a candidate
    @example(loads_case(boundary_case_json("2.0")))
    @example(loads_case(boundary_case_json("2.0000001")))
    @example(loads_case(boundary_case_json("5")))
    @example(loads_case(boundary_case_json("5.0000001")))
    @example(parse_case(GOLD[("310", 2)]))
    def check(case: PatientCase) -> None:
        expected = asked.get(case)
        if expected is None:
            expected = asked[case] = hermit.verdicts([case])[0]
        matched, refuted = answered(recommender, case)
        assert (matched, refuted) == (expected.matched, expected.refuted), (
            f"{case.to_json()}: fast path matched {sorted(matched)} refuted {sorted(refuted)} != "
            f"HermiT matched {sorted(expected.matched)} refuted {sorted(expected.refuted)}"
        )

    check()
    assert len(asked) >= TOTAL, f"only {len(asked)} distinct cases"
    # all three answers occurred (the explicit examples see to it), not only refutations
    variants = len(recommender.classifier.variants)
    assert any(t.matched for t in asked.values())
    assert any(len(t.matched) + len(t.refuted) < variants for t in asked.values())
    sizes = {c.get("tumor_size_cm") for c in asked}
    assert {Decimal("2"), Decimal("2.0000001"), Decimal("5"), Decimal("5.0000001")} <= sizes
