"""The patient-case contract: every rule of the JSON object, and the error that names the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from axilla_kg.contract.cases import CaseError, loads_case, parse_case
from axilla_kg.contract.features import shipped_registry


def test_defaults_and_unknowns() -> None:
    # open world: only the question has a default (the axilla), and it is reported as assumed
    case = parse_case({"sex": "male"})
    assert case.breast_cancer is None and case.neoadjuvant is None and case.axillary_lump is None
    assert case.tumor_size_cm is None and case.age is None and case.suspicious_node_on is None
    assert case.to_json() == {"sex": "male", "question": "axilla"}
    assert case.assumed_json() == {"question": "axilla"}
    assert parse_case({"sex": "male", "question": None}).to_json() == {"sex": "male"}


@pytest.mark.parametrize("name", ["metastatic_suspicion", "question", "nac_planned", "axilla_previously_evaluated"])
def test_never_assumed(name: str) -> None:
    # the list: suspicion of metastases, a breast-extent question, NAC planned, axilla evaluated
    default = shipped_registry()[name].default
    assert default in (None, "axilla")
    assert name not in parse_case({"sex": "female"}).to_json() or default == "axilla"


def test_sizes_are_exact_decimals() -> None:
    case = loads_case('{"sex": "female", "breast_cancer": "new", "tumor_size_cm": 2.00000000000001}')
    assert case.tumor_size_cm == Decimal("2.00000000000001")
    assert case.tumor_size_cm > 2


def test_sizes_beyond_double_precision_are_refused() -> None:
    # the reasoner (through owlready2) would read this as 2.0 and disagree with the exact comparison
    with pytest.raises(CaseError, match="significant digits"):
        loads_case('{"sex": "female", "breast_cancer": "new", "tumor_size_cm": 2.00000000000000000001}')


def test_tumour_sizes_beyond_the_plausible_are_refused_naming_the_field() -> None:
    # the bound is the CDS route's plausible length (100 cm), now also the case contract's, read
    # from the registry; 10^29 cm used to pass `recommend --case` and reach the reasoner
    from axilla_kg.cdshooks.request import MAX_LENGTH_CM

    assert shipped_registry()["tumor_size_cm"].maximum == Decimal(100) == MAX_LENGTH_CM
    assert parse_case({"sex": "female", "breast_cancer": "new", "tumor_size_cm": 100}).tumor_size_cm == 100
    for size in ("100.01", "100000000000000000000000000000"):
        with pytest.raises(CaseError, match=r"tumor_size_cm.*at most 100"):
            loads_case('{"sex": "female", "breast_cancer": "new", "tumor_size_cm": ' + size + "}")


def test_round_trip_through_to_json() -> None:
    data = {
        "sex": "female",
        "age": 61,
        "breast_cancer": "new",
        "tumor_size_cm": 1.5,
        "clinical_nodes": "positive",
        "neoadjuvant": "completed",
        "axillary_lump": "unilateral",
        "suspicious_node_on": "pet_ct",
        "diagnostic_breast_imaging_done": False,
        "question": "nac_response",
        "node_side": "contralateral",
        "metastatic_suspicion": True,
        "nac_planned": True,
        "surgery_done": False,
        "axilla_previously_evaluated": True,
        "imaging_step": "next",
    }
    case = parse_case(data)
    assert case.to_json() == data
    assert list(case.to_json()) == [f for f in shipped_registry().fields if f in data]
    assert parse_case(case.to_json()) == case


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"breast_cancer": "new"}, "sex", "required"),
        ({"sex": "femal"}, "sex", "did you mean 'female'"),
        ({"sex": "female", "tumour_size_cm": 2}, "tumour_size_cm", "did you mean 'tumor_size_cm'"),
        ({"sex": "female", "breast_cancer": "new", "tumor_size_cm": -1}, "tumor_size_cm", "positive"),
        ({"sex": "female", "breast_cancer": "new", "tumor_size_cm": 0}, "tumor_size_cm", "positive"),
        ({"sex": "female", "breast_cancer": "new", "tumor_size_cm": "2"}, "tumor_size_cm", "number"),
        ({"sex": "female", "breast_cancer": "new", "tumor_size_cm": True}, "tumor_size_cm", "number"),
        ({"sex": "female", "breast_cancer": "none", "tumor_size_cm": 1.5}, "tumor_size_cm", 'breast_cancer "none"'),
        ({"sex": "female", "breast_cancer": "none", "clinical_nodes": "positive"}, "clinical_nodes", "contradicts"),
        ({"sex": "female", "breast_cancer": "none", "neoadjuvant": "completed"}, "neoadjuvant", "contradicts"),
        (
            {"sex": "female", "breast_cancer": "none", "metastatic_suspicion": True},
            "metastatic_suspicion",
            "contradicts",
        ),
        ({"sex": "female", "node_side": "ipsilateral"}, "node_side", "needs breast_cancer"),
        ({"sex": "female", "breast_cancer": "none", "node_side": "ipsilateral"}, "node_side", "contradicts"),
        ({"sex": "female", "breast_cancer": "new", "recurrence_site": "local"}, "recurrence_site", "contradicts"),
        (
            {"sex": "female", "breast_cancer": "new", "nac_planned": False, "neoadjuvant": "mid_treatment"},
            "nac_planned",
            "contradicts",
        ),
        ({"sex": "female", "breast_cancer": "none", "question": "breast_extent"}, "question", "contradicts"),
        ({"sex": "female", "question": "armpit"}, "question", "not one of"),
        ({"sex": "female", "imaging_step": "first"}, "imaging_step", "not one of"),
        ({"sex": "female", "metastatic_suspicion": "yes"}, "metastatic_suspicion", "true or false"),
        ({"sex": "female", "nac_planned": 1}, "nac_planned", "true or false"),
        ({"sex": "female", "surgery_done": "false"}, "surgery_done", "true or false"),
        ({"sex": "female", "axilla_previously_evaluated": None, "node_side": 3}, "node_side", "expected one of"),
        ({"sex": "female", "age": -3}, "age", "between 0"),
        ({"sex": "female", "age": 40.5}, "age", "whole years"),
        ({"sex": "female", "age": "40"}, "age", "whole years"),
        ({"sex": "female", "diagnostic_breast_imaging_done": "yes"}, "diagnostic_breast_imaging_done", "true or false"),
        ({"sex": "female", "suspicious_node_on": "PET"}, "suspicious_node_on", "not one of"),
        ({"sex": "female", "axillary_lump": ["unilateral"]}, "axillary_lump", "expected one of"),
    ],
)
def test_invalid_cases_name_the_field(data: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(CaseError) as err:
        parse_case(data)
    assert err.value.field == field
    assert f"field '{field}'" in str(err.value) and fragment in str(err.value)


@pytest.mark.parametrize("text", ["[1, 2]", '"female"', "{", "null"])
def test_not_an_object(text: str) -> None:
    with pytest.raises(CaseError):
        loads_case(text)


def test_null_means_not_known() -> None:
    case = parse_case({"sex": "female", "breast_cancer": "new", "tumor_size_cm": None, "suspicious_node_on": None})
    assert case.tumor_size_cm is None and case.suspicious_node_on is None
