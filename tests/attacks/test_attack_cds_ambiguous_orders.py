"""Issue 19, "an order naming two studies is rated as one": an order whose codings and text name
different studies (or whose text names several) gets no rating, no PAMA stamp, and a card that says
the order is ambiguous. Sent over HTTP to a real server process, requests validated with fhir.resources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from frontdoor_helpers import front_door, post_json
from test_cdshooks import SIGN, check_response, seed_request

CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with front_door() as url:
        yield url


def _order(code: dict[str, Any]) -> ServiceRequest:
    return ServiceRequest(id="order-1", status="draft", intent="order", code=code, subject={"reference": "Patient/p1"})


@pytest.mark.parametrize(
    "code",
    [
        # the reported case: text US axilla, coding CPT 78815 (PET/CT)
        {"text": "US axilla", "coding": [{"system": CPT, "code": "78815"}]},
        # two CPT codings of different studies
        {"coding": [{"system": CPT, "code": "78815"}, {"system": CPT, "code": "77049"}]},
        # a text naming two studies
        {"text": "US axilla and PET/CT skull base to mid-thigh"},
        # a code of our study with a text naming a study outside these criteria
        {"text": "CT HEAD W/O", "coding": [{"system": CPT, "code": "78815"}]},
        # the coding's display names another study than the text (display read as an uncoded part)
        {"text": "US axilla", "coding": [{"system": "urn:local", "code": "X1", "display": "MRI BREAST W/O & W"}]},
        # a PET/CT code with a non-FDG tracer named in the text
        {"text": "PSMA PET/CT skull base to mid-thigh", "coding": [{"system": CPT, "code": "78815"}]},
        # a CPT code outside the mapping (it may be any study) with a text naming one of ours
        {"text": "US axilla", "coding": [{"system": CPT, "code": "70450"}]},
        # a LOINC code (US-guided FNA of the axilla) with a PET/CT text
        {"text": "FDG-PET/CT skull base to mid-thigh", "coding": [{"system": LOINC, "code": "106308-0"}]},
    ],
)
def test_an_order_naming_different_studies_is_never_rated(base: str, code: dict[str, Any]) -> None:
    status, body = post_json(base + SIGN, seed_request(_order(code)))
    assert status == 200, body
    check_response(body)
    assert "systemActions" not in body and "extension" not in body
    [card] = body["cards"]
    assert card["summary"].startswith("Ambiguous order") and card["indicator"] == "warning"
    assert "suggestions" not in card


def test_agreeing_parts_are_one_order(base: str) -> None:
    """The control: a code and a text naming the same study are rated (so the test above can fail)."""
    code = {"text": "NM PET/CT SKULL BASE TO MID-THIGH", "coding": [{"system": CPT, "code": "78815"}]}
    status, body = post_json(base + SIGN, seed_request(_order(code)))
    assert status == 200 and body["systemActions"]
