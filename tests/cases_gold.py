"""Gold patient cases, written from the official ACR variant titles (and, where the title is
silent, the scope its secondary source states), never from the implementation's output.

One case per variant of topics 286 (12), 235 (8), 153 (4), 179 (1), 205 (4) and 310 (2). Each
states every criterion of its variant's title, so it must match that variant and no other variant
of its topic; a criterion it leaves out must turn the variant into a candidate whose ``needs``
names that field.
"""

from __future__ import annotations

import random
from typing import Any

from axilla_kg.contract.cases import CaseError, PatientCase, parse_case

F = {"sex": "female"}
NEW = {"breast_cancer": "new"}
AXILLA = {"question": "axilla"}
INITIAL = {"imaging_step": "initial"}
NEXT = {"imaging_step": "next"}
BEFORE_NAC = {"neoadjuvant": "none"}
DX = {"diagnostic_breast_imaging_done": True}

#: the seed article's patient: 52 years, new 1.5 cm IDC, clinically node-positive, diagnostic
#: mammography and DBT done; untreated, and the question is the first imaging of the axilla
SEED_PATIENT = {
    "sex": "female",
    "age": 52,
    "breast_cancer": "new",
    "tumor_size_cm": 1.5,
    "clinical_nodes": "positive",
    "diagnostic_breast_imaging_done": True,
    "neoadjuvant": "none",
    "imaging_step": "initial",
}
#: the same patient exactly as the issue's new user typed her (no treatment phase, no step)
SEED_AS_TYPED = {k: v for k, v in SEED_PATIENT.items() if k not in ("neoadjuvant", "imaging_step")}

GOLD_286: dict[int, dict[str, Any]] = {
    # "Female. New palpable, unilateral, axillary lump. Initial imaging of the axilla."
    # (no known breast cancer: the scope of the variant's secondary source)
    1: {**F, "age": 45, **AXILLA, "breast_cancer": "none", "axillary_lump": "unilateral", **INITIAL},
    2: {**F, "age": 42, **AXILLA, "breast_cancer": "none", "axillary_lump": "bilateral", **INITIAL},
    # "Newly diagnosed breast cancer, 2 cm or less, with clinical node-negative. Initial imaging of
    # the axilla following diagnostic mammography or DBT." (newly diagnosed: before treatment)
    3: {**F, **AXILLA, "age": 55, **NEW, "tumor_size_cm": 1.4, "clinical_nodes": "negative", "nac_planned": False}
    | {**BEFORE_NAC, **DX, **INITIAL},
    4: {**SEED_PATIENT, **AXILLA},
    5: {**F, **AXILLA, "age": 62, **NEW, "tumor_size_cm": 2.8, "clinical_nodes": "negative", "nac_planned": False}
    | {**BEFORE_NAC, **DX, **INITIAL},
    # "... greater than 2 cm, with clinical node-positive ... (prior to treatment)"
    6: {**F, **AXILLA, "age": 58, **NEW, "tumor_size_cm": 3, "clinical_nodes": "positive", "nac_planned": False}
    | {**BEFORE_NAC, "surgery_done": False, **DX, **INITIAL},
    # "... greater than 2 cm, at mid-treatment of neoadjuvant chemotherapy, with initial clinical
    # node-negative disease but now presenting with new palpable axillary lump" (ipsilateral: scope)
    7: {
        **F,
        **AXILLA,
        "age": 48,
        **NEW,
        "tumor_size_cm": 3,
        "clinical_nodes": "negative",
        "neoadjuvant": "mid_treatment",
    }
    | {"axillary_lump": "unilateral", "node_side": "ipsilateral"},
    # "... greater than 2 cm, clinical node-negative. ... after completion of neoadjuvant chemotherapy."
    8: {**F, **AXILLA, "age": 50, **NEW, "tumor_size_cm": 3, "clinical_nodes": "negative", "neoadjuvant": "completed"},
    # "... clinical node-positive. ... after completion of neoadjuvant chemotherapy and prior to surgery."
    9: {**F, **AXILLA, "age": 52, **NEW, "tumor_size_cm": 3, "clinical_nodes": "positive", "neoadjuvant": "completed"}
    | {"surgery_done": False},
    # "Newly diagnosed locally recurrent breast cancer. Initial imaging of the axilla following
    # diagnostic mammography or DBT."
    10: {**F, **AXILLA, "age": 58, "breast_cancer": "recurrent", "recurrence_site": "local", **DX, **INITIAL},
    # "Suspicious axillary node on mammography or ultrasound. Next imaging study." (no known cancer)
    11: {**F, **AXILLA, "age": 52, "breast_cancer": "none", "suspicious_node_on": "mammography", **NEXT},
    # "Suspicious axillary node on any other imaging modality ... Next imaging study."
    12: {**F, **AXILLA, "age": 58, "breast_cancer": "none", "suspicious_node_on": "ct", **NEXT},
}

ADULT = {"age": 50}
GOLD_235: dict[int, dict[str, Any]] = {
    # "Known breast cancer. Initial determination of tumor size and extent within the breast prior
    # to neoadjuvant chemotherapy. Initial imaging."
    1: {**F, **ADULT, **NEW, "question": "breast_extent", "nac_planned": True, **BEFORE_NAC, **INITIAL},
    # "Known breast cancer. Imaging of the breast after initiation or completion of neoadjuvant
    # chemotherapy. Initial imaging."
    2: {"sex": "male", "age": 60, **NEW, "question": "breast_extent", "neoadjuvant": "mid_treatment", **INITIAL},
    # "Known breast cancer, clinically node-negative. Axillary evaluation prior to neoadjuvant
    # chemotherapy. Initial imaging."
    3: {**F, **ADULT, **NEW, **AXILLA, "clinical_nodes": "negative", "nac_planned": True, **BEFORE_NAC, **INITIAL},
    4: {**F, **ADULT, **NEW, **AXILLA, "clinical_nodes": "positive", "nac_planned": True, **BEFORE_NAC, **INITIAL},
    # "Known breast cancer, clinically node-negative. Axillary evaluation after completion of
    # neoadjuvant chemotherapy, axilla not previously evaluated. Initial imaging."
    5: {**F, **ADULT, **NEW, **AXILLA, "clinical_nodes": "negative", "neoadjuvant": "completed"}
    | {"axilla_previously_evaluated": False, **INITIAL},
    # "Known breast cancer with clinical suspicion of metastatic disease. Staging or assessment of
    # response to neoadjuvant chemotherapy. Initial imaging."
    6: {**F, "age": 60, **NEW, "question": "systemic_staging", "metastatic_suspicion": True, **INITIAL},
    # "Known axillary lymph node-positive breast cancer on prior mammography, US, or MRI. Axillary
    # evaluation after completion of neoadjuvant chemotherapy, axilla previously evaluated. Next
    # imaging study."
    7: {**F, **ADULT, **NEW, **AXILLA, "clinical_nodes": "positive", "suspicious_node_on": "ultrasound"}
    | {"neoadjuvant": "completed", "axilla_previously_evaluated": True, **NEXT},
    # "Known breast cancer. Axillary imaging suspicious for metastatic disease on mammography, US,
    # or MRI during initial evaluation. Next imaging study."
    8: {**F, **ADULT, **NEW, **AXILLA, "suspicious_node_on": "mri", **BEFORE_NAC, **NEXT},
}

M = {"sex": "male"}
MASS = {"question": "breast_presentation", "breast_presentation": "palpable_mass"}
GOLD_153: dict[int, dict[str, Any]] = {
    # "Adult female, 40 years of age or older. Palpable breast mass. Initial imaging."
    1: {**F, "age": 45, **MASS, **INITIAL},
    # "... Mammography findings are suspicious or highly suggestive of malignancy (BI-RADS 4 or 5).
    # Next imaging study."
    2: {**F, "age": 52, **MASS, "mammography_birads": "5", **NEXT},
    # "... Diagnostic mammography, DBT, and US findings are probably benign (BI-RADS 3). Next imaging study."
    3: {**F, "age": 61, **MASS, "mammography_birads": "3", "us_birads": "3", **NEXT},
    # "... Mammography findings are benign (BI-RADS 2) at the site of palpable mass. Next imaging
    # study." (40 exactly: "40 years of age or older")
    4: {**F, "age": 40, **MASS, "mammography_birads": "2", **NEXT},
}
GOLD_179: dict[int, dict[str, Any]] = {
    # "Adult female. Breast cancer screening. Average risk."
    1: {**F, "age": 50, "question": "screening", "breast_cancer_risk": "average"},
}
GOLD_205: dict[int, dict[str, Any]] = {
    # "Male patient of any age with symptoms of gynecomastia and physical examination consistent
    # with gynecomastia or pseudogynecomastia. Initial imaging."
    1: {**M, "age": 16, "question": "breast_presentation", "breast_presentation": "gynecomastia", **INITIAL},
    # "Male younger than 25 years of age with indeterminate palpable breast mass. Initial imaging."
    2: {**M, "age": 24, **MASS, **INITIAL},
    # "Male 25 years of age or older with indeterminate palpable breast mass. Initial imaging."
    3: {**M, "age": 25, **MASS, **INITIAL},
    # "Male 25 years of age or older with indeterminate palpable breast mass. Mammography or digital
    # breast tomosynthesis indeterminate or suspicious."
    4: {**M, "age": 67, **MASS, "mammography_birads": "4"},
}
GOLD_310: dict[int, dict[str, Any]] = {
    # "Newly diagnosed. Clinical stage I-IIA (early stage) breast cancer at presentation. Evaluation
    # for locoregional disease (includes IDC, ILC or NOS)." (at presentation: before treatment)
    1: {**F, "age": 52, **NEW, "question": "locoregional_staging", "clinical_stage": "I-IIA", **BEFORE_NAC},
    # "... Evaluation for distant disease (includes IDC, or ILC, or NOS)."
    2: {**M, "age": 66, **NEW, "question": "systemic_staging", "clinical_stage": "I-IIA", **BEFORE_NAC},
}

BY_TOPIC = {"286": GOLD_286, "235": GOLD_235, "153": GOLD_153, "179": GOLD_179, "205": GOLD_205, "310": GOLD_310}
GOLD: dict[tuple[str, int], dict[str, Any]] = {
    (topic, n): c for topic, cases in BY_TOPIC.items() for n, c in cases.items()
}

# size (as JSON text, so no float rounding) -> the topic-286 variant a node-positive case falls in
BOUNDARY_SIZES = {
    "2.0": 4,
    "2": 4,
    "1.9999999": 4,
    "2.0000001": 6,
    "2.00000000000001": 6,
    "1.99999999999999": 4,
    "0.1": 4,
    "12": 6,
}


def boundary_case_json(size: str) -> str:
    return (
        '{"sex": "female", "breast_cancer": "new", "clinical_nodes": "positive", "neoadjuvant": "none", '
        '"surgery_done": false, "imaging_step": "initial", '
        f'"diagnostic_breast_imaging_done": true, "tumor_size_cm": {size}}}'
    )


def repaired(data: dict[str, Any]) -> PatientCase:
    """A valid case from random field values: a field the contract calls contradictory is dropped
    (it becomes unknown) until the case parses. Bounded by the number of fields."""
    data = dict(data)
    for _ in range(len(data) + 1):
        try:
            return parse_case(data)
        except CaseError as exc:
            if not exc.field or exc.field not in data:
                raise
            del data[exc.field]
    raise AssertionError(f"could not repair {data}")


def random_cases(seed: int, count: int) -> list[PatientCase]:
    """A fixed, seeded set of cases over every field of the registry (for Pellet = HermiT)."""
    from axilla_kg.contract.features import shipped_registry

    rng = random.Random(seed)
    out = []
    for _ in range(count):
        data: dict[str, Any] = {}
        for feature in shipped_registry().features:
            if feature.kind == "enum":
                data[feature.name] = rng.choice([None, *feature.values])
            elif feature.kind == "boolean":
                data[feature.name] = rng.choice([None, True, False])
            elif feature.kind == "decimal":
                data[feature.name] = rng.choice([None, 1.0, 2.0, 2.0000001, 2.5])
            else:
                data[feature.name] = rng.choice([None, 17, 18, 70])
        data["sex"] = data["sex"] or "female"
        out.append(repaired(data))
    return out
