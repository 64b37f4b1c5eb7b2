"""The FHIR-to-case derivation, element by element (in-process: it is a pure function of the
prefetched JSON; the HTTP path is covered in test_cdshooks.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from axilla_kg.cdshooks.fhir_case import age_on, derive_case
from axilla_kg.contract.fields import field_names

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
TODAY = dt.date(2026, 12, 1)


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def condition(code: str, status: str = "active", verification: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
        "code": {"coding": [{"system": ICD, "code": code}]},
        "subject": {"reference": "Patient/p"},
    }
    if verification:
        out["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": verification}]}
    return out


def size(value: Any, unit: str, when: str = "2026-11-01", status: str = "final") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": status,
        "effectiveDateTime": when,
        "code": {"coding": [{"system": "http://loinc.org", "code": "21889-1"}]},
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "33728-7"}]},
                "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": unit},
            }
        ],
    }


def derive(**prefetch: Any) -> dict[str, Any]:
    names = {"Mammography diagnostic", "Digital breast tomosynthesis diagnostic", "US axilla"}
    return derive_case(
        prefetch, lambda c: (c or {}).get("text") if (c or {}).get("text") in names else None, TODAY
    ).data


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([condition("C50.912")], "new"),
        ([condition("C50.912", "recurrence")], "recurrent"),
        ([condition("C50.912", "relapse"), condition("C50.411")], "recurrent"),
        ([condition("C50.912", "remission")], None),
        ([condition("C50.912", verification="refuted")], None),
        ([condition("C50.999")], None),  # not in the ICD-10-CM table
        ([condition("Z85.3")], None),  # personal history of breast cancer is not a current cancer
        ([condition("C50")], "new"),
    ],
)
def test_breast_cancer_from_icd10cm_and_clinical_status(conditions: list[dict[str, Any]], expected: str | None) -> None:
    assert derive(conditions=bundle(*conditions)).get("breast_cancer") == expected


def test_axillary_node_metastasis_is_node_positive_and_nothing_says_negative() -> None:
    assert derive(conditions=bundle(condition("C50.912"), condition("C77.3")))["clinical_nodes"] == "positive"
    assert "clinical_nodes" not in derive(conditions=bundle(condition("C50.912"), condition("C77.3", "resolved")))
    assert "clinical_nodes" not in derive(conditions=bundle(condition("C50.912")))


def test_tumour_size_in_mm_or_cm_newest_final_one() -> None:
    assert derive(observations=bundle(size(Decimal("15"), "mm")))["tumor_size_cm"] == Decimal("1.5")
    assert derive(observations=bundle(size(Decimal("2.5"), "cm")))["tumor_size_cm"] == Decimal("2.5")
    newest = bundle(size(Decimal("3"), "cm", "2026-10-01"), size(Decimal("1.8"), "cm", "2026-11-20"))
    assert derive(observations=newest)["tumor_size_cm"] == Decimal("1.8")
    assert "tumor_size_cm" not in derive(observations=bundle(size(Decimal("3"), "cm", status="preliminary")))
    assert "tumor_size_cm" not in derive(observations=bundle(size(Decimal("3"), "[in_i]")))


def test_sex_age_and_imaging_done() -> None:
    patient = {"resourceType": "Patient", "gender": "female", "birthDate": "1974-12-02"}
    done = {"resourceType": "Procedure", "status": "completed", "code": {"text": "Mammography diagnostic"}}
    planned = {"resourceType": "Procedure", "status": "preparation", "code": {"text": "Mammography diagnostic"}}
    data = derive(patient=patient, procedures=bundle(done))
    assert {k: data[k] for k in ("sex", "age", "diagnostic_breast_imaging_done")} == {
        "sex": "female",
        "age": 51,
        "diagnostic_breast_imaging_done": True,
    }
    assert derive(patient={**patient, "gender": "other"}).get("sex") is None
    assert "diagnostic_breast_imaging_done" not in derive(procedures=bundle(planned))


@pytest.mark.parametrize(
    ("born", "age"), [("1974-12-01", 52), ("1974-12-02", 51), ("1974", None), ("1974-06", None), ("2027-01-01", None)]
)
def test_age_needs_a_full_birth_date(born: str, age: int | None) -> None:
    assert age_on(born, TODAY) == age


def chemo(status: str, code: str = "367336001") -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "status": status,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
        "subject": {"reference": "Patient/p"},
    }


@pytest.mark.parametrize(
    ("procedures", "phase", "step"),
    [
        ([], "none", "initial"),
        ([chemo("in-progress")], "mid_treatment", "initial"),
        ([chemo("completed", "385786002")], "completed", "initial"),
        ([chemo("not-done")], "none", "initial"),
        ([{"resourceType": "Procedure", "status": "completed", "code": {"text": "US axilla"}}], "none", "next"),
        ([{"resourceType": "Procedure", "status": "preparation", "code": {"text": "US axilla"}}], "none", "initial"),
    ],
)
def test_procedure_history_gives_treatment_phase_and_imaging_step(
    procedures: list[dict[str, Any]], phase: str, step: str
) -> None:
    data = derive(conditions=bundle(condition("C50.912")), procedures=bundle(*procedures))
    assert data["neoadjuvant"] == phase
    if "imaging_step" in field_names():  # a case field once the feature registry has it (issue 10)
        assert data["imaging_step"] == step


def test_without_the_procedure_list_phase_and_step_stay_unknown() -> None:
    data = derive(conditions=bundle(condition("C50.912")))
    assert "neoadjuvant" not in data and "imaging_step" not in data
