"""The fast path gives exactly the reasoner's answers: hypothesis generates patient cases over
every field of the feature registry, old and new (at least 5,000 per run, boundary sizes such as
2.0 and 2.0000001 included), and for every case the compiled classifier's matches must equal
HermiT's classification of the case individual. (Candidates against HermiT's complement
realisation are checked on a fixed set in ``test_recommend.py``: that realisation is too slow in
HermiT for thousands of cases.)

Cases go to HermiT 125 at a time (one example = one reasoner call, in one JVM): with every
registry field drawn, a larger list no longer fits hypothesis's example buffer.
AXILLA_KG_REASONER_CASES lowers the count for a quick local run; CI runs the default.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from cases_gold import repaired
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.contract.cases import PatientCase
from axilla_kg.contract.features import shipped_registry
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.reasoning.reasoner import classify_cases
from axilla_kg.recommend.recommender import Recommender

BATCH = 125
TOTAL = int(os.environ.get("AXILLA_KG_REASONER_CASES", "5000"))

boundary = st.sampled_from(["2", "2.0", "2.0000001", "1.9999999", "2.00000000000001", "1.99999999999999"]).map(Decimal)
sizes = st.one_of(
    st.none(),
    boundary,
    st.decimals(min_value=Decimal("0.0000001"), max_value=Decimal("12"), places=7, allow_nan=False),
)
ages = st.one_of(st.none(), st.sampled_from([17, 18]), st.integers(min_value=0, max_value=120))


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


@pytest.mark.slow
def test_fast_path_equals_hermit(recommender: Recommender) -> None:
    seen: list[int] = []

    @settings(
        max_examples=max(1, TOTAL // BATCH),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(st.lists(cases(), min_size=BATCH, max_size=BATCH))
    def check(batch: list[PatientCase]) -> None:
        hermit = classify_cases(batch, reasoner="hermit", batch_size=BATCH)
        for case, expected in zip(batch, hermit, strict=True):
            fast = {v.variant_iri for v in recommender.classifier.matches(case)}
            assert fast == expected, f"{case.to_json()}: fast path {sorted(fast)} != HermiT {sorted(expected)}"
        seen.append(len(batch))

    check()
    assert sum(seen) >= BATCH * max(1, TOTAL // BATCH)
