"""`decided` and `next_question` from HermiT's verdicts equal those of the compiled classifier.

Both are functions of the open variants (the matches, and the candidates with the fields they
still need), so they are as equal to the reasoner as the matches and candidates that
``tests/test_fast_path.py`` checks on thousands of cases. This test ties them directly on partial
cases (gold cases missing one or two facts, and the seed patient as typed): the open variants
rebuilt from HermiT's matched/refuted verdicts give the same decided answers and next question.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cases_gold import GOLD, SEED_AS_TYPED
from test_fast_path import hermit, recommender  # noqa: F401 - module fixtures: one JVM, one graph

from axilla_kg.contract.cases import CaseError, PatientCase, parse_case
from axilla_kg.reasoning.reasoner import CaseQuestions
from axilla_kg.recommend.decide import Open
from axilla_kg.recommend.recommender import Recommender

DROPS = (("imaging_step",), ("nac_planned",), ("neoadjuvant", "imaging_step"), ("clinical_nodes",), ("age",))


def partial_cases() -> Iterator[PatientCase]:
    yield parse_case(SEED_AS_TYPED)
    for _, gold in sorted(GOLD.items()):
        for drop in DROPS:
            try:
                yield parse_case({k: v for k, v in gold.items() if k not in drop})
            except CaseError:
                continue


@pytest.mark.slow
def test_decided_and_next_question_from_hermit_equal_the_fast_path(
    recommender: Recommender,  # noqa: F811
    hermit: CaseQuestions,  # noqa: F811
) -> None:
    cases = list(dict.fromkeys(partial_cases()))
    verdicts = hermit.verdicts(cases)
    decided_somewhere = asked_somewhere = False
    for case, types in zip(cases, verdicts, strict=True):
        open_ = []
        for v in recommender.classifier.variants:
            if v.variant_iri in types.matched:
                open_.append(Open(v, "match"))
            elif v.variant_iri not in types.refuted:
                open_.append(Open(v, "candidate", tuple(t for t in v.tests if t.field not in case.values)))
        open_ = [o for o in open_ if o.variant.topic_iri not in recommender.superseded]
        fast = recommender.recommend(case, detail="brief")
        assert recommender.decider.decided(open_)[0] == fast["decided"], case.to_json()
        assert recommender.decider.next_question(case, open_) == fast["next_question"], case.to_json()
        decided_somewhere |= bool(fast["decided"])
        asked_somewhere |= fast["next_question"] is not None
    assert decided_somewhere and asked_somewhere
