"""Gold patient cases: one per topic-286 variant, written from the ACR variant titles (not from
the implementation's output), plus the 2.0 cm boundary cases."""

from __future__ import annotations

from typing import Any

NEW = {"sex": "female", "breast_cancer": "new"}
DX = {"diagnostic_breast_imaging_done": True}

GOLD_286: dict[int, dict[str, Any]] = {
    1: {"sex": "female", "axillary_lump": "unilateral"},
    2: {"sex": "female", "axillary_lump": "bilateral"},
    3: {**NEW, "tumor_size_cm": 1.5, "clinical_nodes": "negative", **DX},
    4: {**NEW, "tumor_size_cm": 1.5, "clinical_nodes": "positive", **DX},
    5: {**NEW, "tumor_size_cm": 3.2, "clinical_nodes": "negative", **DX},
    6: {**NEW, "tumor_size_cm": 3.2, "clinical_nodes": "positive", **DX},
    7: {
        **NEW,
        "tumor_size_cm": 3.2,
        "clinical_nodes": "negative",
        "neoadjuvant": "mid_treatment",
        "axillary_lump": "unilateral",
    },
    8: {**NEW, "tumor_size_cm": 3.2, "clinical_nodes": "negative", "neoadjuvant": "completed"},
    9: {**NEW, "tumor_size_cm": 3.2, "clinical_nodes": "positive", "neoadjuvant": "completed"},
    10: {"sex": "female", "breast_cancer": "recurrent", **DX},
    11: {"sex": "female", "suspicious_node_on": "ultrasound"},
    12: {"sex": "female", "suspicious_node_on": "mri"},
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
        '{"sex": "female", "breast_cancer": "new", "clinical_nodes": "positive", '
        f'"diagnostic_breast_imaging_done": true, "tumor_size_cm": {size}}}'
    )
