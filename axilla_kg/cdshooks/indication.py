"""The indication wherever the EHR puts it: the order's ``ServiceRequest.reasonCode`` and
``reasonReference`` next to the ``conditions`` prefetch.

An order's reason is read with the same codes as a Condition (:mod:`codes`): ICD-10-CM C50 (or below)
is a current breast cancer, C77.3 a coded axillary nodal metastasis (clinically node-positive). A reason
code carries no clinical status, so a C50 reason reads as ``breast_cancer = new`` (as an active C50
Condition does) unless the record says recurrence: a Condition whose clinicalStatus is recurrence or
relapse, or a reason listing ICD-10-CM Z85.3 (personal history of breast cancer) next to the C50 code.
A ``reasonReference`` to a Condition is read from the prefetch (we never fetch).

The reason and the prefetched Conditions are merged field by field: a fact only one of them states is
used (and when the Conditions were sent but do not state it, that is reported); two different values
for one field are a disagreement: the field is left out (so the card asks for it) and both are shown.
"""

from __future__ import annotations

from typing import Any

from axilla_kg.cdshooks import codes
from axilla_kg.cdshooks.fhir_case import Derivation, read_conditions, resources
from axilla_kg.cdshooks.markdown import md_escape

BREAST_CANCER_HISTORY = "Z85.3"


def _codings(concept: Any) -> list[dict[str, Any]]:
    return [c for c in ((concept or {}).get("coding") or []) if isinstance(c, dict)]


def reason_facts(order: dict[str, Any], prefetch: dict[str, Any]) -> tuple[Derivation, list[str]]:
    """The case facts the order's reason states, and notes on what was not read."""
    out = Derivation()
    notes: list[str] = []
    cancer: tuple[str, str] | None = None  # (code, where)
    history = False
    for i, concept in enumerate(order.get("reasonCode") or []):
        for c in _codings(concept):
            code = c.get("code")
            where = f"ServiceRequest.reasonCode[{i}]"
            if c.get("system") != codes.ICD10CM or not isinstance(code, str):
                notes.append(f"{where}: a code outside ICD-10-CM is not read")
                continue
            if codes.is_breast_cancer(code):
                cancer = cancer or (code, where)
            elif codes.is_axillary_node_metastasis(code):
                out.put("clinical_nodes", "positive", f"{where} = ICD-10-CM {code} ({codes.describe(code)})")
            elif code.replace(".", "") == BREAST_CANCER_HISTORY.replace(".", ""):
                history = True
            elif codes.is_valid(code):
                notes.append(f"{where}: ICD-10-CM {code} ({codes.describe(code)}) sets no case field")
            else:
                notes.append(f"{where}: '{md_escape(code[:20])}' is not an ICD-10-CM code")
    if cancer is not None:
        code, where = cancer
        value = "recurrent" if history else "new"
        why = " with Z85.3 (history of breast cancer): recurrent" if history else ", no recurrence stated: new"
        out.put("breast_cancer", value, f"{where} = ICD-10-CM {code} ({codes.describe(code)}){why}")
    conditions = prefetch.get("conditions")
    ids = {str(r.get("id")): (i, r) for i, r in resources(conditions, "Condition")}
    for i, ref in enumerate(order.get("reasonReference") or []):
        target = str((ref or {}).get("reference") or "")
        where = f"ServiceRequest.reasonReference[{i}]"
        kind, _, rid = target.partition("/")
        if kind != "Condition":
            notes.append(f"{where}: only Condition references are read")
            continue
        if rid not in ids:
            notes.append(f"{where}: Condition/{md_escape(rid[:64])} is not in the conditions prefetch (never fetched)")
            continue
        entry, resource = ids[rid]
        single = Derivation()
        read_conditions({"entry": [{"resource": resource}]}, single)
        if not single.data:
            notes.append(f"{where}: Condition/{md_escape(rid[:64])} states no case field (or is refuted)")
        for name, value in single.data.items():
            out.put(name, value, f"{where} -> conditions.entry[{entry}]: {single.evidence[name]}")
    return out, notes
