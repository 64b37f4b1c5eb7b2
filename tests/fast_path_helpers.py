"""What ``tests/test_fast_path.py`` and ``tests/test_fast_path_reference.py`` share: the fast
path's answer for a case, in the form HermiT's verdicts take.

The two files are separate so that ``pytest -n 2 --dist loadfile`` can run the long property test
and the reference checks (the realisation, the stage grid) on different workers."""

from __future__ import annotations

from axilla_kg.contract.cases import PatientCase
from axilla_kg.recommend.recommender import Recommender


def answered(recommender: Recommender, case: PatientCase) -> tuple[set[str], set[str]]:
    """(matched, refuted) variant IRIs as ``recommend`` answers them: its matches, and every
    variant that is neither a match nor a candidate."""
    result = recommender.recommend(case, detail="brief")
    iri = {(v.topic, v.number): v.variant_iri for v in recommender.classifier.variants}
    matched = {iri[(m["topic"], m["variant"])] for m in result["matches"]}
    candidates = {iri[(c["topic"], c["variant"])] for c in result["candidates"]}
    return matched, set(iri.values()) - matched - candidates
