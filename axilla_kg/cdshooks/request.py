"""Reading a CDS Hooks request: strict JSON, the CDS Hooks fields, and FHIR R4 validation.

Anything wrong is a :class:`BadRequest` naming the element (``context.draftOrders.entry[0].
resource.status``), answered 400. FHIR resources are validated with ``fhir.resources``' R4B
models (R4B's ServiceRequest, Patient, Condition, Observation, Procedure and Bundle are R4's),
plus the codes this service reads from closed value sets. ``fhirServer`` and
``fhirAuthorization`` are accepted and never used: prefetch is the only way data comes in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from axilla_kg.cdshooks.codes import LENGTH_UNITS, UCUM
from axilla_kg.errors import BadRequest
from axilla_kg.inputs import safejson

MAX_BODY = 1_048_576  # bytes
#: Resources in one prefetched Bundle (a patient's Conditions, Observations...), checked before any
#: is validated: 12,000 Conditions cost ~2 s of FHIR validation.
MAX_PREFETCH_ENTRIES = 1000
#: Draft orders in one call (an order set is a handful; each gets a card, so this also caps the answer).
MAX_DRAFT_ORDERS = 100
#: Largest length read from an Observation (any UCUM length unit), in centimetres: a measurement
#: over a metre is a unit or typing error, refused rather than read as a tumour size.
MAX_LENGTH_CM = Decimal(100)
#: FHIR nests deeper than a patient case (Bundle > entry > resource > code > coding > ...).
MAX_DEPTH = 64
PREFETCH_KINDS = {
    "patient": "Patient",
    "conditions": "Condition",
    "observations": "Observation",
    "procedures": "Procedure",
}
GENDERS = frozenset({"male", "female", "other", "unknown"})


@dataclass
class HookRequest:
    hook: str
    hook_instance: str
    patient_id: str
    orders: list[dict[str, Any]]
    prefetch: dict[str, Any] = field(default_factory=dict)


def loads(body: bytes) -> Any:
    """Strict JSON (:mod:`axilla_kg.inputs.safejson`: size and depth limits, duplicate keys,
    plain decimal numbers kept exact as ``Decimal``, no NaN/Infinity, strict UTF-8)."""
    if len(body) > MAX_BODY:
        raise BadRequest("", f"request body over {MAX_BODY} bytes")
    try:
        return safejson.loads(body, max_depth=MAX_DEPTH, max_chars=MAX_BODY)
    except safejson.JSONInputError as exc:
        raise BadRequest(exc.field, str(exc)) from None


def _path(prefix: str, loc: tuple[Any, ...]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _validate(model: str, data: Any, element: str) -> None:
    """Validate one resource (or Bundle) with the R4B model of its type."""
    from fhir.resources.R4B import get_fhir_model_class

    if not isinstance(data, dict):
        raise BadRequest(element, "expected a FHIR resource (JSON object)")
    if data.get("resourceType") != model:
        raise BadRequest(
            f"{element}.resourceType", f"expected '{model}', got {json.dumps(data.get('resourceType'), default=str)}"
        )
    try:
        get_fhir_model_class(model).model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadRequest(_path(element, tuple(first["loc"])), str(first["msg"])) from None
    except (KeyError, ValueError, TypeError) as exc:  # e.g. an unknown resourceType inside a Bundle
        raise BadRequest(element, f"not a valid FHIR R4 {model}: {exc}") from None


def _string(obj: dict[str, Any], key: str, element: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(element, "required, a non-empty string")
    return value


def _bundle_of(data: Any, element: str, max_entries: int = MAX_PREFETCH_ENTRIES) -> dict[str, Any]:
    """A Bundle, validated with every entry's resource (the R4B Bundle model validates each
    ``entry.resource`` as the type its ``resourceType`` names); at most ``max_entries`` entries."""
    entries = data.get("entry") if isinstance(data, dict) else None
    if isinstance(entries, list) and len(entries) > max_entries:
        raise BadRequest(f"{element}.entry", f"{len(entries)} entries, at most {max_entries} are accepted")
    _validate("Bundle", data, element)
    for i, entry in enumerate(data.get("entry") or []):
        resource = entry.get("resource")
        where = f"{element}.entry[{i}].resource"
        if not isinstance(resource, dict):
            raise BadRequest(where, "missing")
    return dict(data)


def parse_request(body: bytes, hook: str) -> HookRequest:
    data = loads(body)
    if not isinstance(data, dict):
        raise BadRequest("", "a CDS Hooks request must be a JSON object")
    if data.get("hook") != hook:
        raise BadRequest("hook", f"this service answers '{hook}', got {json.dumps(data.get('hook'), default=str)}")
    instance = _string(data, "hookInstance", "hookInstance")
    context = data.get("context")
    if not isinstance(context, dict):
        raise BadRequest("context", "required, a JSON object")
    _string(context, "userId", "context.userId")
    patient_id = _string(context, "patientId", "context.patientId")
    drafts = _bundle_of(context.get("draftOrders"), "context.draftOrders", MAX_DRAFT_ORDERS)
    orders = [e["resource"] for e in drafts.get("entry") or [] if e["resource"].get("resourceType") == "ServiceRequest"]
    selections = context.get("selections")
    if hook == "order-select":
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
            raise BadRequest("context.selections", "required for order-select, a list of 'Type/id' strings")
        chosen = set(selections)
        orders = [o for o in orders if f"ServiceRequest/{o.get('id')}" in chosen]
    prefetch_in = data.get("prefetch")
    if prefetch_in is None:
        prefetch_in = {}
    if not isinstance(prefetch_in, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(prefetch_in), "a number")
        raise BadRequest("prefetch", f"must be a JSON object of prefetch keys, got {kind}")
    prefetch: dict[str, Any] = {}
    for key, value in prefetch_in.items():
        if value is None or key not in PREFETCH_KINDS:
            continue  # a prefetch the client could not fill, or one we never asked for
        if key == "patient":
            _validate("Patient", value, "prefetch.patient")
            if value.get("id") not in (None, patient_id):
                raise BadRequest("prefetch.patient.id", f"'{value.get('id')}' is not context.patientId '{patient_id}'")
            if value.get("gender") is not None and value.get("gender") not in GENDERS:
                raise BadRequest("prefetch.patient.gender", f"'{value.get('gender')}' is not an administrative gender")
            prefetch[key] = value
        else:
            prefetch[key] = _bundle_of(value, f"prefetch.{key}")
    _plausible_lengths(prefetch.get("observations"), "prefetch.observations")
    return HookRequest(hook, instance, patient_id, orders, prefetch)


def _plausible_lengths(bundle: dict[str, Any] | None, element: str) -> None:
    """Refuse an Observation length (value or component value, UCUM cm or mm) over ``MAX_LENGTH_CM``."""
    for i, entry in enumerate((bundle or {}).get("entry") or []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Observation":
            continue
        where = f"{element}.entry[{i}].resource"
        quantities = [(f"{where}.valueQuantity", resource.get("valueQuantity"))]
        quantities += [
            (f"{where}.component[{j}].valueQuantity", comp.get("valueQuantity"))
            for j, comp in enumerate(resource.get("component") or [])
            if isinstance(comp, dict)
        ]
        for path, quantity in quantities:
            if not isinstance(quantity, dict) or quantity.get("system") != UCUM:
                continue
            per_cm = LENGTH_UNITS.get(str(quantity.get("code")))
            value = quantity.get("value")
            if per_cm is None or not isinstance(value, int | Decimal):
                continue
            if abs(Decimal(value)) > MAX_LENGTH_CM * per_cm:
                raise BadRequest(
                    f"{path}.value", f"a length of more than {MAX_LENGTH_CM} cm is not a plausible measurement"
                )
