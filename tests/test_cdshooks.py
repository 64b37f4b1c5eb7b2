"""CDS Hooks, tested as an EHR would call it: requests built and validated with fhir.resources
(R4B models), sent over HTTP to a real uvicorn server process, the answers checked against the
CDS Hooks response structure and the Argonaut PAMA extensions."""

from __future__ import annotations

import datetime as dt
import json
import select
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest
from frontdoor_helpers import fetch, front_door, post_json

PAMA_RATING = "http://fhir.org/argonaut/Extension/pama-rating"
PAMA_SYSTEM = "http://fhir.org/argonaut/CodeSystem/pama-rating"
PET_CT = "FDG-PET/CT skull base to mid-thigh"
SIGN = "/cds-services/axilla-imaging-order-sign"
SELECT = "/cds-services/axilla-imaging-order-select"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with front_door() as url:
        yield url


def _born(years: int) -> str:
    today = dt.datetime.now(dt.UTC).date()
    return (
        today.replace(year=today.year - years, day=1).isoformat()
        if today.day != 1
        else (today.replace(year=today.year - years).isoformat())
    )


def _searchset(*resources: Any) -> dict[str, Any]:
    bundle = Bundle(type="searchset", entry=[{"resource": r} for r in resources])
    return json.loads(bundle.model_dump_json(exclude_none=True))


def _order(procedure: str, oid: str = "order-1") -> ServiceRequest:
    return ServiceRequest(
        id=oid, status="draft", intent="order", code={"text": procedure}, subject={"reference": "Patient/p1"}
    )


def seed_request(*orders: ServiceRequest, size_cm: float | None = 1.5, hook: str = "order-sign") -> dict[str, Any]:
    """The seed article's patient: female, 52, new 1.5 cm breast cancer, clinically node-positive,
    diagnostic mammography done."""
    patient = Patient(id="p1", gender="female", birthDate=_born(52))
    cancer = Condition(
        id="c1",
        subject={"reference": "Patient/p1"},
        clinicalStatus={
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.912"}]},
    )
    nodes = Condition(
        id="c2",
        subject={"reference": "Patient/p1"},
        clinicalStatus={
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C77.3"}]},
    )
    observations = []
    if size_cm is not None:
        observations.append(
            Observation(
                id="o1",
                status="final",
                subject={"reference": "Patient/p1"},
                code={"coding": [{"system": "http://loinc.org", "code": "21889-1"}]},
                component=[
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "33728-7"}]},
                        "valueQuantity": {
                            "value": size_cm * 10,
                            "unit": "mm",
                            "system": "http://unitsofmeasure.org",
                            "code": "mm",
                        },
                    }
                ],
            )
        )
    mammo = Procedure(
        id="pr1", status="completed", subject={"reference": "Patient/p1"}, code={"text": "Mammography diagnostic"}
    )
    drafts = Bundle(type="collection", entry=[{"resource": o} for o in orders])
    context: dict[str, Any] = {
        "userId": "Practitioner/u1",
        "patientId": "p1",
        "draftOrders": json.loads(drafts.model_dump_json(exclude_none=True)),
    }
    if hook == "order-select":
        context["selections"] = [f"ServiceRequest/{o.id}" for o in orders]
    return {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": {
            "patient": json.loads(patient.model_dump_json(exclude_none=True)),
            "conditions": _searchset(cancer, nodes),
            "observations": _searchset(*observations),
            "procedures": _searchset(mammo),
        },
    }


def check_response(body: Any) -> None:
    """The CDS Hooks response structure (cds-hooks.hl7.org, 2.0: Card, Suggestion, Action, Link)."""
    assert isinstance(body, dict) and isinstance(body["cards"], list)
    for card in body["cards"]:
        uuid.UUID(card["uuid"])
        assert isinstance(card["summary"], str) and 0 < len(card["summary"]) <= 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert isinstance(card["source"]["label"], str) and card["source"]["label"]
        for link in card.get("links", []):
            assert link["type"] in ("absolute", "smart") and link["label"] and link["url"].startswith("http")
        if card.get("suggestions"):
            assert card["selectionBehavior"] in ("at-most-one", "any")
            for suggestion in card["suggestions"]:
                assert suggestion["label"]
                for action in suggestion["actions"]:
                    assert action["type"] in ("create", "update", "delete") and action["description"]
                    if action["type"] == "create":
                        ServiceRequest.model_validate(action["resource"])
    for action in body.get("systemActions", []):
        assert action["type"] == "update"
        ServiceRequest.model_validate(action["resource"])


def _rating(action: dict[str, Any]) -> str:
    for ext in action["resource"]["extension"]:
        if ext["url"] == PAMA_RATING:
            return next(c["code"] for c in ext["valueCodeableConcept"]["coding"] if c["system"] == PAMA_SYSTEM)
    raise AssertionError("no pama-rating extension")


def test_discovery_lists_both_hooks_with_prefetch(base: str) -> None:
    status, headers, payload = fetch(base + "/cds-services")
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    services = {s["hook"]: s for s in json.loads(payload)["services"]}
    assert set(services) == {"order-select", "order-sign"}
    for s in services.values():
        assert s["id"] and s["description"]
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"


def test_seed_pet_ct_is_not_appropriate_with_us_axilla_suggestion(base: str) -> None:
    status, body = post_json(base + SIGN, seed_request(_order(PET_CT)))
    assert status == 200, body
    check_response(body)
    [action] = body["systemActions"]
    assert _rating(action) == "not-appropriate"
    assert body["extension"]["systemActions"] == body["systemActions"]
    resource = action["resource"]
    assert resource["id"] == "order-1" and resource["code"] == {"text": PET_CT}  # no semantic change
    urls = {e["url"] for e in resource["extension"]}
    assert "http://fhir.org/argonaut/Extension/pama-rating-consult-id" in urls
    rating_card = next(c for c in body["cards"] if c["summary"].startswith(PET_CT))
    assert "Usually Not Appropriate" in rating_card["summary"]
    assert any(link["url"].endswith("/topics/286/variants/4") for link in rating_card["links"])
    suggestion_card = next(c for c in body["cards"] if c.get("suggestions"))
    actions = suggestion_card["suggestions"][0]["actions"]
    created = next(a for a in actions if a["type"] == "create")
    assert created["resource"]["code"]["text"] == "US axilla"
    assert next(a for a in actions if a["type"] == "delete")["resourceId"] == "ServiceRequest/order-1"


def test_seed_us_axilla_is_appropriate_and_links_its_variant_page(base: str) -> None:
    status, body = post_json(base + SIGN, seed_request(_order("US axilla")))
    assert status == 200, body
    check_response(body)
    assert [_rating(a) for a in body["systemActions"]] == ["appropriate"]
    [card] = body["cards"]  # no lower-radiation alternative to US (RRL O)
    link = card["links"][0]["url"]
    page_status, _, page = fetch(link)
    assert page_status == 200 and b"Newly diagnosed breast cancer, 2 cm or less" in page


def test_unknown_tumour_size_gets_the_ask_for_data_card(base: str) -> None:
    status, body = post_json(base + SIGN, seed_request(_order(PET_CT), size_cm=None))
    assert status == 200
    check_response(body)
    assert "systemActions" not in body  # no rating without the facts
    [card] = body["cards"]
    assert card["indicator"] == "warning"
    assert "tumor_size_cm" in card["detail"] and "primary tumour size" in card["summary"]


def test_order_select_rates_only_the_selected_orders(base: str) -> None:
    request = seed_request(_order(PET_CT, "a"), _order("US axilla", "b"), hook="order-select")
    request["context"]["selections"] = ["ServiceRequest/b"]
    status, body = post_json(base + SELECT, request)
    assert status == 200, body
    check_response(body)
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["b"]


def test_an_order_we_do_not_know_gets_no_rating_and_inert_text(base: str) -> None:
    status, body = post_json(base + SIGN, seed_request(_order("[click](http://evil.example) *MRI*")))
    assert status == 200, body
    check_response(body)
    assert "systemActions" not in body
    [card] = body["cards"]
    assert "](http" not in card["detail"] and "\\[click\\]" in card["detail"]


def test_missing_prefetch_asks_for_the_facts_instead_of_guessing(base: str) -> None:
    request = seed_request(_order(PET_CT))
    del request["prefetch"]
    status, body = post_json(base + SIGN, request)
    assert status == 200
    check_response(body)
    assert "systemActions" not in body and body["cards"][0]["indicator"] == "warning"


@pytest.mark.parametrize(
    ("mutate", "element"),
    [
        (
            lambda r: r["context"]["draftOrders"]["entry"][0]["resource"].__setitem__("status", 5),
            "context.draftOrders.entry[0].resource.status",
        ),
        (
            lambda r: r["context"]["draftOrders"]["entry"][0]["resource"].pop("subject"),
            "context.draftOrders.entry[0].resource.subject",
        ),
        (lambda r: r.__setitem__("hook", "patient-view"), "hook"),
        (lambda r: r["context"].pop("patientId"), "context.patientId"),
        (
            lambda r: r["context"].__setitem__("draftOrders", {"resourceType": "Patient"}),
            "context.draftOrders.resourceType",
        ),
        (lambda r: r["prefetch"]["patient"].__setitem__("id", "someone-else"), "prefetch.patient.id"),
        (lambda r: r["prefetch"]["patient"].__setitem__("gender", "femal"), "prefetch.patient.gender"),
        (
            lambda r: r["prefetch"]["conditions"]["entry"][0]["resource"].__setitem__("code", "C50"),
            "prefetch.conditions.entry[0].resource.code",
        ),
        (lambda r: r.pop("context"), "context"),
    ],
)
def test_invalid_requests_get_400_naming_the_element(base: str, mutate: Any, element: str) -> None:
    request = seed_request(_order(PET_CT))
    mutate(request)
    status, body = post_json(base + SIGN, request)
    assert status == 400 and body["element"] == element, body


@pytest.mark.parametrize(
    "raw",
    [
        b'{"hook": "order-sign", "hook": "order-sign"}',
        b'{"hook": NaN}',
        b"[" * 100_000,
        b"\xff\xfe",
        b"{",
        b'{"hook": 1' + b"1" * 5000 + b"}",
        b'{"hook": 1e999999999}',
        b'{"hook": "\\ud800"}',
    ],
)
def test_malformed_json_gets_400(base: str, raw: bytes) -> None:
    status, body = post_json(base + SIGN, raw)
    assert status == 400 and body["error"]


def test_unknown_service_is_404(base: str) -> None:
    status, body = post_json(base + "/cds-services/nope", seed_request(_order(PET_CT)))
    assert status == 404 and body["element"] == "id"


def test_fhir_server_is_never_contacted(base: str) -> None:
    """A listening socket stands in for the EHR's FHIR server; after the answer (which would have
    waited for any fetch) no connection may be pending on it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        request = seed_request(_order(PET_CT))
        request["fhirServer"] = f"http://127.0.0.1:{listener.getsockname()[1]}/fhir"
        request["fhirAuthorization"] = {
            "access_token": "x",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "a",
            "subject": "s",
        }
        del request["prefetch"]["conditions"]
        status, body = post_json(base + SIGN, request)
        assert status == 200 and body["cards"]
        readable, _, _ = select.select([listener], [], [], 0)
        assert readable == []


def test_fhir_decimals_are_echoed_exactly_in_the_system_action(base: str) -> None:
    order = _order(PET_CT)
    request = seed_request(order)
    request["context"]["draftOrders"]["entry"][0]["resource"]["quantityQuantity"] = {"value": 1.50}
    raw = json.dumps(request).replace('"value": 1.5}', '"value": 1.50}').encode()
    assert b'"value": 1.50}' in raw
    status, headers, payload = fetch(base + SIGN, raw, {"Content-Type": "application/json"})
    assert status == 200 and headers["content-type"] == "application/json"
    assert b'"quantityQuantity":{"value":1.50}' in payload  # not 1.5: FHIR decimal precision is kept


def test_a_wrongly_typed_hook_is_named_not_a_crash(base: str) -> None:
    request = seed_request(_order(PET_CT))
    request["hook"] = 1.5
    status, body = post_json(base + SIGN, request)
    assert status == 400 and body["element"] == "hook"


def test_order_select_without_selections_is_400(base: str) -> None:
    request = seed_request(_order(PET_CT), hook="order-select")
    del request["context"]["selections"]
    status, body = post_json(base + SELECT, request)
    assert status == 400 and body["element"] == "context.selections"
