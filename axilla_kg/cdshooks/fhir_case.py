"""From prefetched FHIR resources to a patient case in the ``recommend`` contract.

Each case field is read from one stated FHIR element and a code from :mod:`codes`; a field
with no such evidence is left out (the contract then reads it as "not known", or applies its
documented default), so missing data turns into the "needs" card rather than a guess. The
resources have already been validated as FHIR R4 by the request parser; what is read here is
plain JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from axilla_kg.cdshooks import codes
from axilla_kg.contract.fields import field_names


@dataclass
class Derivation:
    """The case fields found, and for each the FHIR element it came from (shown in the cards)."""

    data: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    #: what the reader could not use or found contradicting (shown in the cards; Markdown with any
    #: client text escaped where it was written)
    notes: list[str] = field(default_factory=list)

    def put(self, name: str, value: Any, source: str) -> None:
        if name in field_names():  # a field the contract does not have (any more) is never sent
            self.data[name] = value
            self.evidence[name] = source


#: Names our procedure(s) for a FHIR CodeableConcept: one name, the several a code covers, or None.
ProcedureOf = Callable[[dict[str, Any] | None], "str | tuple[str, ...] | None"]


def _covered(found: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if found is None:
        return ()
    return (found,) if isinstance(found, str) else tuple(found)


def resources(bundle: dict[str, Any] | None, kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(entry index, resource) for each entry of a searchset Bundle holding a ``kind`` resource."""
    for i, entry in enumerate((bundle or {}).get("entry") or []):
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == kind:
            yield i, resource


def _codings(concept: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((concept or {}).get("coding") or [])


def _has_code(concept: dict[str, Any] | None, system: str, code: str) -> bool:
    return any(c.get("system") == system and c.get("code") == code for c in _codings(concept))


def _status(concept: dict[str, Any] | None, system: str) -> str | None:
    for c in _codings(concept):
        if c.get("system") == system:
            return str(c.get("code"))
    return None


def age_on(birth_date: str, today: dt.date) -> int | None:
    """Whole years on ``today``; None for a partial date (year or year-month only)."""
    try:
        born = dt.date.fromisoformat(birth_date)
    except ValueError:
        return None
    if len(birth_date) != 10 or born > today:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def derive_case(
    prefetch: dict[str, Any],
    procedure_of: ProcedureOf,
    today: dt.date | None = None,
    axillary_imaging: frozenset[str] = frozenset({"US axilla"}),
    reason: Derivation | None = None,
) -> Derivation:
    """The case fields the prefetched ``patient``, ``conditions``, ``observations`` and
    ``procedures`` state. ``procedure_of`` names our procedure for a FHIR CodeableConcept;
    ``axillary_imaging`` are our procedures that image the axilla (a completed one makes the
    ordered study a next step); ``reason`` are the facts the order's own reason states
    (:mod:`axilla_kg.cdshooks.indication`), merged with the Conditions by :func:`merge`."""
    today = today or dt.datetime.now(dt.UTC).date()
    record = Derivation()
    patient = prefetch.get("patient")
    if isinstance(patient, dict):
        gender = patient.get("gender")
        if gender in ("female", "male"):
            record.put("sex", gender, f"Patient.gender = {gender}")
        birth = patient.get("birthDate")
        if isinstance(birth, str):
            age = age_on(birth, today)
            if age is not None:
                record.put("age", age, f"Patient.birthDate = {birth} (age on {today.isoformat()})")
    read_conditions(prefetch.get("conditions"), record)
    out = record if reason is None else merge(record, reason, isinstance(prefetch.get("conditions"), dict))
    _tumour_size(prefetch.get("observations"), out)
    _imaging_done(prefetch.get("procedures"), procedure_of, out)
    if isinstance(prefetch.get("procedures"), dict):
        _history(prefetch["procedures"], procedure_of, axillary_imaging, out)
    return out


def read_conditions(bundle: dict[str, Any] | None, out: Derivation) -> None:
    """``breast_cancer`` and ``clinical_nodes`` from a Bundle of Conditions (also used for a Condition an
    order's ``reasonReference`` points to)."""
    cancer: list[tuple[str, str, str]] = []  # (value, code, status)
    nodes: str | None = None
    for i, cond in resources(bundle, "Condition"):
        if _status(cond.get("verificationStatus"), codes.CONDITION_VERIFICATION) in codes.NOT_A_DIAGNOSIS:
            continue
        status = _status(cond.get("clinicalStatus"), codes.CONDITION_CLINICAL)
        for c in _codings(cond.get("code")):
            if c.get("system") != codes.ICD10CM or not isinstance(c.get("code"), str):
                continue
            code = c["code"]
            if codes.is_breast_cancer(code) and status in codes.CLINICAL_STATUS:
                cancer.append((codes.CLINICAL_STATUS[status], code, status))
            elif codes.is_axillary_node_metastasis(code) and status in ("active", "recurrence", "relapse"):
                nodes = f"conditions.entry[{i}] Condition.code = ICD-10-CM {code} ({codes.describe(code)})"
    if cancer:
        # a recurrence anywhere in the record outranks an active primary: the question is then
        # about recurrent disease
        value, code, status = max(cancer, key=lambda c: c[0] == "recurrent")
        out.put(
            "breast_cancer",
            value,
            f"Condition.code = ICD-10-CM {code} ({codes.describe(code)}), clinicalStatus = {status}",
        )
    if nodes is not None:
        out.put("clinical_nodes", "positive", nodes)


def _tumour_size(bundle: dict[str, Any] | None, out: Derivation) -> None:
    best: tuple[str, Decimal, str] | None = None  # (effective, cm, source)
    for i, obs in resources(bundle, "Observation"):
        if obs.get("status") not in codes.FINAL_OBSERVATION:
            continue
        if not _has_code(obs.get("code"), codes.LOINC, codes.TUMOR_SIZE):
            continue
        for comp in obs.get("component") or []:
            if not _has_code(comp.get("code"), codes.LOINC, codes.TUMOR_MAX_DIMENSION):
                continue
            quantity = comp.get("valueQuantity") or {}
            per_cm = codes.LENGTH_UNITS.get(str(quantity.get("code")))
            if quantity.get("system") != codes.UCUM or per_cm is None or quantity.get("value") is None:
                continue
            try:
                cm = Decimal(str(quantity["value"])) / per_cm
            except InvalidOperation:
                continue
            effective = str(obs.get("effectiveDateTime") or "")
            source = (
                f"observations.entry[{i}] Observation LOINC {codes.TUMOR_SIZE}, component LOINC "
                f"{codes.TUMOR_MAX_DIMENSION} = {quantity['value']} {quantity['code']}"
            )
            if best is None or effective > best[0]:
                best = (effective, cm, source)
    if best is not None:
        out.put("tumor_size_cm", best[1], best[2])


def _imaging_done(bundle: dict[str, Any] | None, procedure_of: ProcedureOf, out: Derivation) -> None:
    for i, proc in resources(bundle, "Procedure"):
        if proc.get("status") != "completed":
            continue
        covered = _covered(procedure_of(proc.get("code")))
        name = covered[0] if len(covered) == 1 else None
        if name in codes.DIAGNOSTIC_BREAST_IMAGING:
            out.put("diagnostic_breast_imaging_done", True, f"procedures.entry[{i}] Procedure '{name}', completed")
            return


def _history(
    bundle: dict[str, Any],
    procedure_of: ProcedureOf,
    axillary_imaging: frozenset[str],
    out: Derivation,
) -> None:
    """What the patient's procedure list (the ``procedures`` prefetch: every Procedure of the
    patient) says about the treatment phase and the imaging step. Only read when that list was
    sent; its absence leaves both not known."""
    count = sum(1 for _ in resources(bundle, "Procedure"))
    chemo: tuple[int, str] | None = None
    imaged: tuple[int, str] | None = None
    maybe: tuple[int, str] | None = None  # a completed study whose code covers axillary imaging and more
    for i, proc in resources(bundle, "Procedure"):
        status = str(proc.get("status"))
        codings = (proc.get("code") or {}).get("coding") or []
        if (
            status in codes.CHEMO_PHASE
            and any(c.get("system") == codes.SNOMED and c.get("code") in codes.CHEMOTHERAPY for c in codings)
            and (chemo is None or codes.CHEMO_PHASE[status] == "mid_treatment")
        ):
            chemo = (i, status)
        covered = set(_covered(procedure_of(proc.get("code")))) if status == "completed" else set()
        if covered and covered <= axillary_imaging and imaged is None:
            imaged = (i, ", ".join(sorted(covered)))
        elif covered & axillary_imaging and maybe is None:
            maybe = (i, ", ".join(sorted(covered)))
    if out.data.get("breast_cancer") == "new":
        if chemo is None:
            out.put("neoadjuvant", "none", f"no chemotherapy Procedure (SNOMED CT 367336001/385786002) among {count}")
        else:
            i, status = chemo
            out.put("neoadjuvant", codes.CHEMO_PHASE[status], f"procedures.entry[{i}] chemotherapy, status {status}")
    if imaged is None and maybe is not None:
        out.notes.append(
            f"procedures.entry[{maybe[0]}] may or may not have imaged the axilla (its code covers {maybe[1]}): "
            "imaging step not known"
        )
    elif imaged is None:
        out.put("imaging_step", "initial", f"no completed axillary imaging among {count} prefetched procedures")
    else:
        out.put("imaging_step", "next", f"procedures.entry[{imaged[0]}] '{imaged[1]}', completed")


def merge(record: Derivation, reason: Derivation, conditions_sent: bool) -> Derivation:
    """The record's facts with the order's reason merged in, field by field: a fact only one states is
    used (reported when the Conditions were sent but do not state it); two different values are a
    disagreement: the field is left out (so the card asks for it) and both are reported."""
    out = Derivation(dict(record.data), dict(record.evidence), list(record.notes))
    for name, value in reason.data.items():
        said = reason.evidence[name]
        if name not in record.data:
            out.put(name, value, said)
            if conditions_sent:
                out.notes.append(f"the order's reason states {name} = {value}; the prefetched Conditions do not")
            continue
        mine = record.data[name]
        if mine == value:
            out.evidence[name] = f"{record.evidence[name]}; also {said}"
        elif name == "breast_cancer" and mine == "recurrent" and "no recurrence stated" in said:
            out.evidence[name] = f"{record.evidence[name]}; the order's reason agrees (recurrence from the record)"
        else:
            del out.data[name]
            del out.evidence[name]
            out.notes.append(
                f"disagreement on {name}: the record says {mine} ({record.evidence[name]}), "
                f"the order's reason says {value} ({said}); not used"
            )
    return out
