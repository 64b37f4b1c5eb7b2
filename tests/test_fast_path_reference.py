"""HermiT's case verdicts (:class:`axilla_kg.reasoning.reasoner.CaseQuestions`, the reference of
``tests/test_fast_path.py``) against the older reference, the realisation of case individuals, on
a fixed set of cases; and the clinical-stage derivation, read by HermiT from the facts alone,
against the fast path on a grid around its bounds.

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
from axilla_kg.reasoning.reasoner import CaseQuestions, realise_cases
from axilla_kg.recommend.recommender import Recommender


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender.load(KnowledgeGraph.load())


@pytest.fixture(scope="module")
def hermit() -> Iterator[CaseQuestions]:
    with CaseQuestions() as questions:
        yield questions


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
    for case, types in zip(grid, hermit.verdicts([c.given() for c in grid]), strict=True):
        assert (types.matched, types.refuted) == answered(recommender, case), case.values
