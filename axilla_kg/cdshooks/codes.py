"""The code lists the CDS Hooks service reads patient facts by, each with where it was verified.

Nothing here is invented: every ICD-10-CM code is checked against the code table shipped in the
``simple-icd-10-cm`` package when the module is imported (an unknown code stops the import),
and every LOINC code and FHIR system URI is cited from the page it was read on. The README's
mapping table is this module in prose.
"""

from __future__ import annotations

import simple_icd_10_cm as icd10cm

from axilla_kg.vocab import by_category_text

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

#: ICD-10-CM category C50 "Malignant neoplasm of breast": the code or any code below it.
BREAST_CANCER_CATEGORY = "C50"
#: ICD-10-CM C77.3 "Secondary and unspecified malignant neoplasm of axilla and upper limb lymph
#: nodes": a coded axillary nodal metastasis, read as clinically node-positive.
AXILLARY_NODE_METASTASIS = "C77.3"

#: Condition.clinicalStatus codes (FHIR R4 condition-clinical code system) -> breast_cancer value.
#: inactive / remission / resolved say nothing about a current cancer and are not read.
CLINICAL_STATUS = {"active": "new", "recurrence": "recurrent", "relapse": "recurrent"}
#: Condition.verificationStatus codes that mean the diagnosis does not hold.
NOT_A_DIAGNOSIS = frozenset({"refuted", "entered-in-error"})

#: mCODE TumorSize (http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-tumor-size): an
#: Observation coded LOINC 21889-1 "Size Tumor" whose longest dimension is the component coded
#: LOINC 33728-7 "Size.maximum dimension in Tumor", a Quantity in UCUM cm or mm.
TUMOR_SIZE = "21889-1"
TUMOR_MAX_DIMENSION = "33728-7"
LENGTH_UNITS = {"cm": 1, "mm": 10}  # UCUM code -> units per centimetre
FINAL_OBSERVATION = frozenset({"final", "amended", "corrected"})

SNOMED = "http://snomed.info/sct"
#: Chemotherapy as a Procedure: SNOMED CT 367336001 "Chemotherapy (procedure)" (the FHIR R4
#: example procedure-example-f201-tpf) and 385786002 "Chemotherapy care" (the HL7 ICHOM breast
#: cancer IG's Chemotherapy profile example, Procedure-ChemotherapyPatient147). Read for the
#: neoadjuvant phase of a new cancer: in progress -> mid_treatment, completed -> completed.
CHEMOTHERAPY = frozenset({"367336001", "385786002"})
CHEMO_PHASE = {"in-progress": "mid_treatment", "completed": "completed"}

#: The procedures (by our exact ACR names) whose completed Procedure resource means "diagnostic
#: mammography or DBT done".
DIAGNOSTIC_BREAST_IMAGING = ("Mammography diagnostic", "Digital breast tomosynthesis diagnostic")

#: Argonaut "CDS Hooks for PAMA" (https://github.com/argonautproject/cds-hooks-for-pama,
#: docs/index.md, section "CDS Service returns a PAMA Response"): the ServiceRequest extensions
#: and the rating code system with its three codes.
PAMA_RATING = "http://fhir.org/argonaut/Extension/pama-rating"
PAMA_RATING_SYSTEM = "http://fhir.org/argonaut/CodeSystem/pama-rating"
PAMA_QCDSM = "http://fhir.org/argonaut/Extension/pama-rating-qcdsm-consulted"
PAMA_CONSULT_ID = "http://fhir.org/argonaut/Extension/pama-rating-consult-id"
PAMA_AUC_APPLIED = "http://fhir.org/argonaut/Extension/pama-rating-auc-applied"
PAMA_CODES = ("appropriate", "not-appropriate", "no-criteria-apply")
#: ACR category -> PAMA rating. "May Be Appropriate" adheres to the criteria (it is a rating in
#: the appropriate range, not a contra-indication); the exact ACR category always travels as a
#: translation Coding next to the PAMA code, as the profile allows.
#: Keyed by the category individual; the category texts are terminology.ttl's.
PAMA_BY_CATEGORY = by_category_text(
    {
        "ax:UsuallyAppropriate": "appropriate",
        "ax:MayBeAppropriate": "appropriate",
        "ax:MayBeAppropriateDisagreement": "appropriate",
        "ax:UsuallyNotAppropriate": "not-appropriate",
    }
)


def is_breast_cancer(code: str) -> bool:
    """An ICD-10-CM code of breast cancer (C50 or below it), checked against the code table."""
    return icd10cm.is_valid_item(code) and (
        code == BREAST_CANCER_CATEGORY or icd10cm.is_descendant(code, BREAST_CANCER_CATEGORY)
    )


def is_axillary_node_metastasis(code: str) -> bool:
    return icd10cm.is_valid_item(code) and icd10cm.remove_dot(code) == icd10cm.remove_dot(AXILLARY_NODE_METASTASIS)


def is_valid(code: str) -> bool:
    """A code of the shipped ICD-10-CM table (with or without its dot)."""
    return bool(icd10cm.is_valid_item(code))


def describe(code: str) -> str:
    return str(icd10cm.get_description(code))


for _code in (BREAST_CANCER_CATEGORY, AXILLARY_NODE_METASTASIS):  # the shipped table must know them
    if not icd10cm.is_valid_item(_code):  # pragma: no cover - a broken code table
        raise RuntimeError(f"ICD-10-CM code {_code} is not in the simple-icd-10-cm code table")
