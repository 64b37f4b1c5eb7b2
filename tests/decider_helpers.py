"""What the next-question tests (``test_question_memo.py``, ``test_question_scoring.py``) build
their expectations from: a decider with nothing remembered, and the open variants as the
recommender builds them from the compiled classifier's verdicts. (The tests import them under
their old local names ``_fresh`` and ``_opened``: a derandomized hypothesis test is seeded from
its source, so renaming the calls would change which cases those tests draw.)"""

from __future__ import annotations

import dataclasses

from axilla_kg.contract.cases import PatientCase
from axilla_kg.recommend.decide import Decider, Open
from axilla_kg.recommend.recommender import Recommender


def fresh_decider(rec: Recommender) -> Decider:
    """A decider with empty memos (so no answer comes from another case)."""
    return dataclasses.replace(rec, _decider=None).decider


def open_variants(rec: Recommender, case: PatientCase) -> list[Open]:
    """The open variants as the recommender builds them: matches, then candidates with their
    unknown tests; superseded editions left out."""
    out: list[Open] = []
    outcomes = rec.outcomes(case)
    for v, res in outcomes:
        if all(r is True for r in res) and v.topic_iri not in rec.superseded:
            out.append(Open(v, "match"))
    for v, res in outcomes:
        if False not in res and None in res and v.topic_iri not in rec.superseded:
            out.append(Open(v, "candidate", tuple(t for t, r in zip(v.tests, res, strict=True) if r is None)))
    return out
