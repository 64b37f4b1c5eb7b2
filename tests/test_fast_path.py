"""The fast path gives exactly the reasoner's answers: hypothesis generates patient cases (at
least 5,000 per run, boundary sizes such as 2.0 and 2.0000001 included) and every case's matches
from the compiled classifier must equal HermiT's classification of the case individual.

Cases go to HermiT 250 at a time (one example = one reasoner call), the batch size it runs
best at. AXILLA_KG_REASONER_CASES lowers the count for a quick local run; CI runs the default.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.cases import PatientCase, parse_case
from axilla_kg.graph import KnowledgeGraph
from axilla_kg.reasoning import classify_cases
from axilla_kg.recommend import Recommender

BATCH = 250
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
    data: dict[str, Any] = {"sex": draw(st.sampled_from(["female", "male"]))}
    data["breast_cancer"] = draw(st.sampled_from(["none", "new", "recurrent"]))
    if data["breast_cancer"] != "none":
        data["tumor_size_cm"] = draw(sizes)
        data["clinical_nodes"] = draw(st.sampled_from([None, "negative", "positive"]))
        data["neoadjuvant"] = draw(st.sampled_from(["none", "mid_treatment", "completed"]))
    data["age"] = draw(ages)
    data["axillary_lump"] = draw(st.sampled_from(["none", "unilateral", "bilateral"]))
    data["suspicious_node_on"] = draw(
        st.sampled_from([None, "mammography", "ultrasound", "mri", "ct", "pet_ct", "other"])
    )
    data["diagnostic_breast_imaging_done"] = draw(st.sampled_from([None, True, False]))
    return parse_case(data)


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
