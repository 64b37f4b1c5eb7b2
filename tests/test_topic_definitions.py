"""Topics 153, 179, 205 and 310 defined from their titles; the superseded 235-2017 edition kept as
history; contradicting facts refused naming both fields; defaults that a fact suspends.

The expected answers come from the official titles (quoted beside each case in
``tests/cases_gold.py``): "40 years of age or older" takes 40 and refuses 39, "younger than 25"
takes 24 and refuses 25, "adult" starts at 18. HermiT is asked the same boundary cases
(``-m slow``), so the bounds hold in both paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cases_gold import GOLD

from axilla_kg.authoring.definitions import read_definitions
from axilla_kg.contract.cases import CaseError, parse_case
from axilla_kg.errors import DataError
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.reasoning.reasoner import CaseQuestions
from axilla_kg.recommend.recommender import Recommender
from axilla_kg.resources import ontology_dir

from conftest import run_cli


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


def _verdict(rec: Recommender, data: dict[str, Any], key: tuple[str, int]) -> str:
    result = rec.recommend(parse_case(data), detail="brief")
    if any((m["topic"], m["variant"]) == key for m in result["matches"]):
        return "match"
    if any((c["topic"], c["variant"]) == key for c in result["candidates"]):
        return "candidate"
    return "refuted"


#: (gold case, age, expected verdict of the gold case's variant): each bound from both sides
AGE_BOUNDARIES = [
    (("153", 1), 40, "match"),
    (("153", 1), 39, "refuted"),
    (("153", 4), 40, "match"),
    (("205", 2), 24, "match"),
    (("205", 2), 25, "refuted"),
    (("205", 3), 25, "match"),
    (("205", 3), 24, "refuted"),
    (("205", 4), 25, "match"),
    (("205", 4), 24, "refuted"),
    (("179", 1), 18, "match"),
    (("179", 1), 17, "refuted"),
    (("205", 1), 0, "match"),  # "of any age"
    (("205", 1), 99, "match"),
]


@pytest.mark.parametrize(("key", "age", "expected"), AGE_BOUNDARIES)
def test_age_bounds_of_the_titles(rec: Recommender, key: tuple[str, int], age: int, expected: str) -> None:
    assert _verdict(rec, {**GOLD[key], "age": age}, key) == expected


@pytest.fixture(scope="module")
def hermit() -> Iterator[CaseQuestions]:
    with CaseQuestions() as questions:
        yield questions


@pytest.mark.slow
def test_hermit_agrees_on_the_age_bounds(rec: Recommender, hermit: CaseQuestions) -> None:
    cases = [parse_case({**GOLD[key], "age": age}) for key, age, _ in AGE_BOUNDARIES]
    iri = {(v.topic, v.number): v.variant_iri for v in rec.classifier.variants}
    for (key, age, expected), types in zip(AGE_BOUNDARIES, hermit.verdicts(cases), strict=True):
        found = "match" if iri[key] in types.matched else ("refuted" if iri[key] in types.refuted else "candidate")
        assert found == expected, (key, age)


def test_the_superseded_edition_is_never_matched_nor_a_candidate(rec: Recommender) -> None:
    assert "235-2017" not in {v.topic for v in rec.classifier.variants}
    # the 2017 titles' own words, given as facts, still reach only the current edition
    result = rec.recommend(parse_case(GOLD[("235", 2)]))
    topics = {m["topic"] for m in result["matches"]} | {c["topic"] for c in result["candidates"]}
    assert "235-2017" not in topics and ("235", 2) in {(m["topic"], m["variant"]) for m in result["matches"]}


def test_the_superseded_edition_is_still_shown() -> None:
    proc = run_cli("show", "2", "--topic", "235-2017")
    assert proc.returncode == 0, proc.stderr
    assert "Imaging of the breast after initiation or completion of neoadjuvant chemotherapy" in proc.stdout
    listed = run_cli("variants", "--topic", "235-2017", "--format", "json")
    assert listed.returncode == 0 and "Initial determination of tumor size" in listed.stdout


def test_a_definition_of_a_superseded_edition_is_refused(tmp_path: Path) -> None:
    draft = tmp_path / "variant-definitions.ttl"
    draft.write_text(
        (ontology_dir() / "variant-definitions.ttl").read_text(encoding="utf-8")
        + "\naxd:topic-235-2017-variant-1 ax:acceptsSex ax:Female .\n",
        encoding="utf-8",
    )
    topics = [p.read_text(encoding="utf-8") for p in sorted((ontology_dir() / "generated").glob("topic-*.ttl"))]
    registry = [ontology_dir() / "core.ttl", ontology_dir() / "terminology.ttl"]
    with pytest.raises(DataError, match="235-2017 is superseded"):
        read_definitions(draft, topics, registry)


def test_the_nac_response_question_reaches_235_variant_2(rec: Recommender) -> None:
    case = {**GOLD[("235", 2)], "question": "nac_response"}
    assert _verdict(rec, case, ("235", 2)) == "match"
    # with metastatic disease suspected the same question is also 235 V6's
    assert _verdict(rec, {**case, "metastatic_suspicion": True}, ("235", 6)) == "match"


def test_a_metastatic_suspicion_without_a_question_asks_it(rec: Recommender) -> None:
    case = parse_case({"sex": "female", "age": 60, "breast_cancer": "new", "metastatic_suspicion": True})
    assert case.get("question") is None and case.assumed == frozenset()
    result = rec.recommend(case)
    assert result["assumed"] == {} and "question" in result["needs"]
    v6 = next(c for c in result["candidates"] if (c["topic"], c["variant"]) == ("235", 6))
    assert "question" in v6["needs"]
    # without the suspicion (or with it false) the documented default still applies
    for data in ({"sex": "female"}, {"sex": "female", "breast_cancer": "new", "metastatic_suspicion": False}):
        assert parse_case(data).assumed == frozenset({"question"})
    # an explicit question is kept either way
    given = parse_case({"sex": "female", "breast_cancer": "new", "metastatic_suspicion": True, "question": "axilla"})
    assert given.get("question") == "axilla" and given.assumed == frozenset()


@pytest.mark.parametrize(
    "data",
    [
        {"sex": "female", "age": 60, "breast_cancer": "new", "metastatic_suspicion": True},
        {"sex": "female", "age": 45, "breast_presentation": "palpable_mass"},
        {"sex": "male", "age": 30, "breast_presentation": "gynecomastia"},
    ],
)
def test_the_next_question_is_the_question_itself(rec: Recommender, data: dict[str, Any]) -> None:
    """The suspended default leaves the question open, and the rules on its values (screening,
    nac_response, breast_presentation) are consistency checks (``ax:rulePresupposes false``), so the
    next question may ask it: it splits the candidates the most."""
    result = rec.recommend(parse_case(data))
    assert result["next_question"] is not None and result["next_question"]["field"] == "question"
    assert "screening" not in result["next_question"]["values"] or "breast_cancer" not in data


@pytest.mark.parametrize("presentation", ["palpable_mass", "gynecomastia"])
def test_a_breast_presentation_without_a_question_asks_it(presentation: str) -> None:
    case = parse_case({"sex": "male", "age": 30, "breast_presentation": presentation})
    assert case.get("question") is None and case.assumed == frozenset()
    assert parse_case({"sex": "male", "breast_presentation": "none"}).assumed == frozenset({"question"})


#: contradicting facts: the case, the field the error names first, and the other field it names
SCREENING = {"sex": "female", "question": "screening"}
CONTRADICTIONS = [
    (
        {
            "sex": "female",
            "breast_cancer": "new",
            "clinical_nodes": "negative",
            "neoadjuvant": "none",
            "axillary_lump": "unilateral",
            "node_side": "ipsilateral",
        },
        "axillary_lump",
        "clinical_nodes",
    ),
    ({"sex": "female", "breast_presentation": "gynecomastia"}, "breast_presentation", "sex"),
    ({"sex": "female", "question": "screening", "breast_cancer": "new"}, "question", "breast_cancer"),
    ({**SCREENING, "breast_presentation": "palpable_mass"}, "question", "breast_presentation"),
    ({"sex": "female", "question": "screening", "axillary_lump": "unilateral"}, "question", "axillary_lump"),
    ({"breast_cancer": "new", "question": "nac_response", "neoadjuvant": "none"}, "question", "neoadjuvant"),
    ({"question": "breast_presentation", "breast_presentation": "none"}, "question", "breast_presentation"),
    ({"sex": "female", "breast_cancer": "none", "clinical_stage": "I-IIA"}, "clinical_stage", "breast_cancer"),
    ({"sex": "female", "breast_cancer": "none", "mammography_birads": "6"}, "mammography_birads", "breast_cancer"),
    ({"sex": "female", "breast_cancer": "none", "us_birads": "6"}, "us_birads", "breast_cancer"),
    ({"sex": "female", "question": "locoregional_staging", "breast_cancer": "none"}, "question", "breast_cancer"),
]


@pytest.mark.parametrize(("data", "field", "other"), CONTRADICTIONS)
def test_contradicting_facts_name_both_fields(data: dict[str, Any], field: str, other: str) -> None:
    with pytest.raises(CaseError) as caught:
        parse_case({"sex": "male", **data})
    assert caught.value.field == field
    assert f"field '{field}'" in str(caught.value) and other in str(caught.value)


def test_the_lump_rule_needs_all_its_facts() -> None:
    """The same lump after neoadjuvant therapy started (286 V7), on the other side, or with the
    side or the treatment unknown, contradicts nothing."""
    base = {"sex": "female", "breast_cancer": "new", "clinical_nodes": "negative", "axillary_lump": "unilateral"}
    for extra in (
        {"node_side": "ipsilateral", "neoadjuvant": "mid_treatment"},
        {"node_side": "contralateral", "neoadjuvant": "none"},
        {"node_side": "ipsilateral"},
        {"neoadjuvant": "none"},
    ):
        parse_case({**base, **extra})
    parse_case({**base, "clinical_nodes": "positive", "node_side": "ipsilateral", "neoadjuvant": "none"})


def test_a_contradiction_on_the_command_line_is_one_line_and_exit_2() -> None:
    proc = run_cli("recommend", "--sex", "female", "--breast-presentation", "gynecomastia")
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "breast_presentation" in proc.stderr and "sex" in proc.stderr


# --- clinical stage I-IIA (AJCC 8th edition anatomic stage groups) ------------------------------
KNOWN = {"invasive": True, "chest_wall_or_skin": False, "distant_metastases": False}  # not Tis, not T4, M0
#: facts -> the derived stage (None: the AJCC rule does not decide it from these facts)
STAGES = [
    ({"tumor_size_cm": 1.5, "clinical_nodes": "negative", **KNOWN}, "I-IIA"),  # T1 N0 M0: IA
    ({"tumor_size_cm": 5, "clinical_nodes": "negative", **KNOWN}, "I-IIA"),  # T2 N0 M0: IIA
    ({"tumor_size_cm": 2, "clinical_nodes": "positive", "clinical_n_category": "N1", **KNOWN}, "I-IIA"),  # T1 N1: IIA
    ({"tumor_size_cm": 5.0000001, "clinical_nodes": "negative", **KNOWN}, "other"),  # T3 N0: IIB
    ({"tumor_size_cm": 2.0000001, "clinical_nodes": "positive", "clinical_n_category": "N1", **KNOWN}, "other"),  # IIB
    ({"tumor_size_cm": 1, "clinical_nodes": "positive", "clinical_n_category": "N2", **KNOWN}, "other"),  # IIIA
    ({"tumor_size_cm": 1, "clinical_nodes": "negative", **KNOWN, "chest_wall_or_skin": True}, "other"),  # T4: IIIB
    ({"tumor_size_cm": 1, "clinical_nodes": "negative", **KNOWN, "distant_metastases": True}, "other"),  # M1: IV
    ({"tumor_size_cm": 1, "clinical_nodes": "negative", **KNOWN, "invasive": False}, "other"),  # Tis: 0
    ({"tumor_size_cm": 6}, "other"),  # T3, T4 or Tis, whatever else: never I-IIA
    ({"tumor_size_cm": 3, "clinical_nodes": "positive"}, "other"),  # T2+ N+: IIB or beyond
    # size alone never excludes T4 (chest wall, skin) nor M1 nor in situ: not decided
    ({"tumor_size_cm": 1.5, "clinical_nodes": "negative"}, None),
    ({"tumor_size_cm": 1.5, "clinical_nodes": "negative", "invasive": True, "distant_metastases": False}, None),
    # node-positive 2 cm or less is IIA only when N1: with N2/N3 possible it is not decided
    ({"tumor_size_cm": 1.5, "clinical_nodes": "positive", **KNOWN}, None),
    (
        {"tumor_size_cm": 3, "clinical_nodes": "negative", "chest_wall_or_skin": False, "distant_metastases": False},
        None,
    ),
]


@pytest.mark.parametrize(("facts", "stage"), STAGES)
def test_clinical_stage_from_the_tnm_facts(facts: dict[str, Any], stage: str | None) -> None:
    case = parse_case({"sex": "female", "breast_cancer": "new", **facts})
    assert case.get("clinical_stage") == stage
    assert case.derived == (frozenset({"clinical_stage"}) if stage else frozenset())
    assert "clinical_stage" not in case.to_json()  # the echo replays: reading it derives it again
    if stage:
        assert parse_case(case.to_json()).get("clinical_stage") == stage
        parse_case({**case.to_json(), "clinical_stage": stage})  # stating it as well agrees


@pytest.mark.parametrize(("facts", "stage"), [s for s in STAGES if s[1]])
def test_a_stated_stage_the_facts_contradict_names_both(facts: dict[str, Any], stage: str) -> None:
    other = "other" if stage == "I-IIA" else "I-IIA"
    with pytest.raises(CaseError) as caught:
        parse_case({"sex": "female", "breast_cancer": "new", **facts, "clinical_stage": other})
    named = [name for name in facts if f"{name} " in str(caught.value)]
    assert caught.value.field == "clinical_stage" and named, str(caught.value)


def test_topic_310_from_derived_and_undecided_stages(rec: Recommender) -> None:
    staging = {
        "sex": "female",
        "age": 50,
        "breast_cancer": "new",
        "question": "systemic_staging",
        "neoadjuvant": "none",
    }
    early = {**staging, "tumor_size_cm": 1.5, "clinical_nodes": "negative", **KNOWN}
    assert _verdict(rec, early, ("310", 2)) == "match"
    assert _verdict(rec, {**staging, "tumor_size_cm": 6}, ("310", 2)) == "refuted"
    undecided = rec.recommend(parse_case({**staging, "tumor_size_cm": 1.5, "clinical_nodes": "negative"}))
    v2 = next(c for c in undecided["candidates"] if (c["topic"], c["variant"]) == ("310", 2))
    assert v2["needs"] == ["clinical_stage"]
    # the staging PET/CT of an asymptomatic stage I cancer: 310 V2 rates it
    result = rec.recommend(parse_case({**staging, "clinical_stage": "I-IIA"}))
    v2_match = next(m for m in result["matches"] if (m["topic"], m["variant"]) == ("310", 2))
    rated = {r["procedure"]: r["category"] for r in v2_match["ratings"]}
    assert rated["FDG-PET/CT skull base to mid-thigh"] == "Usually Not Appropriate"


def test_n_category_needs_positive_nodes() -> None:
    with pytest.raises(CaseError, match="clinical_nodes"):
        parse_case({"sex": "female", "breast_cancer": "new", "clinical_nodes": "negative", "clinical_n_category": "N1"})
