"""A FHIR R4 Bundle in the HL7 Clinical Practice Guidelines (CPG-on-FHIR) pattern.

One ``PlanDefinition`` per variant plays the role of a CPG *recommendation definition*: its
``description`` is the variant's applicability (the official title plus the completeness of its
table) and its ``useContext`` lists the structured patient features the variant accepts. It has
one action per rated procedure: the action's ``code`` carries the ACR appropriateness category,
its ``definitionCanonical`` points at the procedure's ``ActivityDefinition`` (a CPG
*service request activity*: ``kind = ServiceRequest``, ``intent = proposal``) and its
``documentation`` cites the sources. No ``meta.profile`` is claimed: the resources are valid base
R4 (checked in the tests with fhir.resources' R4B models, the closest it ships) but were not
validated against the CPG profiles, which also want CQL libraries we do not have.

The output is plain JSON built from the graph, so the package needs no FHIR library at runtime.
The graph is read through the named queries ``queries/internal/export-*.rq``; what a variant
accepts is mapped by the feature registry's own data (``ax:constrainsFeature``, ``ax:boundFacet``,
``ax:fhirUsageContext``, ``ax:ucumUnit``, ``ax:caseValue``), so a new feature needs no code here;
actions are ordered by ``ax:categoryRank``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from axilla_kg import vocab
from axilla_kg.export.rdf import SourceGraph
from axilla_kg.vocab import local_name

FHIR_BASE = vocab.FHIR
VOCAB_SYSTEM = vocab.VOCAB
USAGE_CONTEXT = "http://terminology.hl7.org/CodeSystem/usage-context-type"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
GENDER = "http://hl7.org/fhir/administrative-gender"
#: the codes of FHIR R4's administrative-gender code system
GENDER_CODES = ("male", "female", "other", "unknown")
UCUM = "http://unitsofmeasure.org"
XSD_INTEGER = vocab.XSD + "integer"
XSD_BOOLEAN = vocab.XSD + "boolean"
#: a variant-definition bound as a FHIR Quantity comparator: exact, unlike an (inclusive) Range
COMPARATORS = {"minInclusive": ">=", "minExclusive": ">", "maxInclusive": "<=", "maxExclusive": "<"}
#: an inclusive bound, as the end of a FHIR Range (inclusive at both ends)
RANGE_ENDS = {"minInclusive": "low", "maxInclusive": "high"}
#: usage-context types whose value FHIR states as a Range (an age bracket)
RANGE_CONTEXTS = frozenset({"age"})
COPYRIGHT = (
    "ACR Appropriateness Criteria content (variant titles, procedure names, categories, ratings, "
    "radiation levels) is (c) American College of Radiology; see https://acsearch.acr.org for the "
    "authoritative, complete tables. Not a substitute for the ACR documents or clinical judgement."
)
_SYSTEMS = {
    "http://radlex.org/RID/": "http://radlex.org",
    "http://purl.bioontology.org/ontology/RADLEX/": "http://radlex.org",
    "http://loinc.org/rdf/": "http://loinc.org",
    "https://loinc.org/": "http://loinc.org",
    "http://purl.obolibrary.org/obo/NCIT_": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    "http://snomed.info/id/": "http://snomed.info/sct",
}

Row = dict[str, "str | None"]


def _group(rows: Iterable[Row], column: str) -> dict[str, list[Row]]:
    """Rows of a query grouped by one column (in first-seen order)."""
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(row[column] or "", []).append(row)
    return out


def _first(rows: list[Row], column: str) -> str | None:
    """The smallest value of a column among the rows (the graph holds one; a stable pick when more)."""
    return min((v for row in rows if (v := row[column]) is not None), default=None)


def _all(rows: list[Row], column: str) -> list[str]:
    return sorted({v for row in rows if (v := row[column]) is not None})


def _label(rows: list[Row], column: str, node: str | None) -> str:
    """A node's label: its smallest ``rdfs:label``, else its local name."""
    return _first(rows, column) or local_name(str(node))


def _name(text: str) -> str:
    """A FHIR computable name: ``[A-Z]([A-Za-z0-9_]){0,254}``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)[:255]


def _mapped_codings(targets: list[str]) -> list[dict[str, str]]:
    """Standard codes the graph maps a node to (skos:exactMatch only: a coding is an equivalence)."""
    out = []
    for target in targets:
        for prefix, system in _SYSTEMS.items():
            if target.startswith(prefix):
                out.append({"system": system, "code": target[len(prefix) :]})
    return out


def _vocab_concept(node: str | None, label: str, text: str | None = None) -> dict[str, Any]:
    return {
        "coding": [{"system": VOCAB_SYSTEM, "code": local_name(str(node)), "display": label}],
        "text": text or label,
    }


def _use_context(rows: list[Row]) -> dict[str, Any]:
    """One statement of what a variant accepts (one property and value), mapped by the feature
    registry's data: the feature's FHIR usage-context type, the bound's facet, its UCUM unit."""
    row = rows[0]
    prop, value, usage, facet = row["property"], row["value"] or "", row["usage"], row["facet"]
    feature = _label(rows, "propertyLabel", prop)
    case_value = _first(rows, "caseValue")
    if row["isIndividual"] == "true":
        if usage == "gender" and case_value in GENDER_CODES:
            coding = {"system": GENDER, "code": case_value}
            return {
                "code": {"system": USAGE_CONTEXT, "code": "gender"},
                "valueCodeableConcept": {"coding": [coding], "text": case_value},
            }
        shown = f"{feature}: {_label(rows, 'valueLabel', value)}"
        return {
            "code": {"system": USAGE_CONTEXT, "code": "focus"},
            "valueCodeableConcept": _vocab_concept(value, _label(rows, "valueLabel", value), shown),
        }
    code = {"system": USAGE_CONTEXT, "code": usage or "focus"}
    if facet in COMPARATORS:
        number: int | float = int(value) if row["datatype"] == XSD_INTEGER else float(value)
        unit = row["ucum"] or ""
        quantity: dict[str, Any] = {"value": number, "unit": unit, "system": UCUM, "code": unit}
        if usage in RANGE_CONTEXTS and facet in RANGE_ENDS:
            return {"code": code, "valueRange": {RANGE_ENDS[facet]: quantity}}
        # A FHIR Range is inclusive at both ends, so "greater than 2 cm" cannot be a Range low of 2
        # (it would overlap "2 cm or less" at 2.0): a Quantity with its comparator is exact.
        bound = {"value": number, "comparator": COMPARATORS[facet], "unit": unit, "system": UCUM, "code": unit}
        return {"code": code, "valueQuantity": bound}
    shown = ("yes" if value in ("true", "1") else "no") if row["datatype"] == XSD_BOOLEAN else value
    return {
        "code": code,
        "valueCodeableConcept": {
            "coding": [{"system": VOCAB_SYSTEM, "code": local_name(str(prop)), "display": feature}],
            "text": f"{feature}: {shown}",
        },
    }


def _use_contexts(rows: list[Row]) -> list[dict[str, Any]]:
    statements: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        statements.setdefault((row["property"] or "", row["value"] or ""), []).append(row)
    contexts = [_use_context(group) for group in statements.values()]
    return sorted(contexts, key=lambda c: json.dumps(c, sort_keys=True))


def _activity(proc: str, rows: list[Row], version: str) -> dict[str, Any]:
    name = _first(rows, "name") or _label(rows, "label", proc)
    rid = local_name(proc)
    details = [f"Imaging procedure as named by the ACR: {name}."]
    rrl = _first(rows, "rrl")
    if rrl is not None:
        details.append(f"Adult relative radiation level: {_label(rows, 'rrlLabel', rrl)}.")
    code: dict[str, Any] = {"text": name}
    codings = _mapped_codings(_all(rows, "match"))
    if codings:
        code["coding"] = codings
    return {
        "resourceType": "ActivityDefinition",
        "id": rid,
        "url": f"{FHIR_BASE}/ActivityDefinition/{rid}",
        "version": version,
        "name": _name(name),
        "title": name,
        "status": "draft",
        "experimental": True,
        "description": " ".join(details),
        "kind": "ServiceRequest",
        "intent": "proposal",
        "code": code,
    }


def _action(rating: str, rows: list[Row]) -> tuple[tuple[int, str], dict[str, Any]]:
    proc = _first(rows, "procedure")
    name = _first(rows, "procedureName") or _label(rows, "procedureLabel", proc)
    category_node = _first(rows, "category")
    category = _first(rows, "categoryText") or ""
    parts = [category or "category not stated in the source"]
    rrl = _first(rows, "rrl")
    if rrl is not None:
        parts.append(f"RRL {_first(rows, 'rrlSymbol') or _label(rows, 'rrlLabel', rrl)}")
    score = _first(rows, "score")
    if score is not None:
        parts.append(f"rating {score}")
    soe = _first(rows, "soe")
    if soe is not None:
        parts.append(f"strength of evidence {_label(rows, 'soeLabel', soe)}")
    parts.append(f"confidence {_first(rows, 'confidence') or 'unknown'}")
    file = _first(rows, "file")
    if file is not None:
        parts.append(f"source {file}:{_first(rows, 'line')}")
    action: dict[str, Any] = {
        "id": local_name(rating),
        "title": name,
        "description": "; ".join(parts) + ".",
        "code": [_vocab_concept(category_node, _label(rows, "categoryLabel", category_node), category or None)],
        "definitionCanonical": f"{FHIR_BASE}/ActivityDefinition/{local_name(str(proc))}",
    }
    urls = _all(rows, "url")
    if urls:
        action["documentation"] = [{"type": "citation", "url": u} for u in urls]
    rank = _first(rows, "categoryRank")
    return (int(rank) if rank is not None else 99, name), action


def _plan(key: str, rows: list[Row], actions: list[Row], contexts: list[Row], version: str) -> dict[str, Any]:
    number = int(_first(rows, "number") or 0)
    title = _first(rows, "title")
    rid = f"acr-{key}-variant-{number}"
    complete = _first(rows, "complete")
    note = _first(rows, "note")
    description = f"Applies to: {title}"
    if complete in ("false", "0"):
        description += (
            " Rating table INCOMPLETE in this graph: a procedure not listed is unrated here, not 'not appropriate'."
        )
        if note:
            description += f" {note}"
    ordered = sorted((_action(r, group) for r, group in _group(actions, "rating").items()), key=lambda a: a[0])
    plan: dict[str, Any] = {
        "resourceType": "PlanDefinition",
        "id": rid,
        "url": f"{FHIR_BASE}/PlanDefinition/{rid}",
        "version": version,
        "name": _name(f"Acr {key} variant {number}"),
        "title": f"ACR {key} variant {number}",
        "type": {"coding": [{"system": PLAN_TYPE, "code": "eca-rule", "display": "ECA Rule"}]},
        "status": "draft",
        "experimental": True,
        "publisher": "axilla-kg contributors",
        "description": description,
        "copyright": COPYRIGHT,
        "useContext": _use_contexts(contexts),
        "action": [a for _, a in ordered],
    }
    sources = _all(rows, "derivedFrom")
    if sources:
        plan["relatedArtifact"] = [{"type": "derived-from", "url": u} for u in sources]
    if not plan["useContext"]:
        del plan["useContext"]
    if not plan["action"]:
        del plan["action"]
    return plan


def fhir_bundle(source: SourceGraph, *, topic: str | None = None) -> dict[str, Any]:
    """The Bundle as a JSON-ready dict: ActivityDefinitions first, then PlanDefinitions by topic and variant."""
    keys = [topic] if topic is not None else list(source.topics)
    for key in keys:
        source.topic_node(key)
    version = source.version
    procedures = _group(source.read("export-fhir-procedures"), "procedure")
    entries = [_activity(proc, rows, version) for proc, rows in sorted(procedures.items())]
    for key in keys:
        variants = _group(source.read("export-variants", topic=key), "variant")
        actions = _group(source.read("export-fhir-actions", topic=key), "variant")
        contexts = _group(source.read("export-fhir-contexts", topic=key), "variant")
        ordered = sorted(variants.items(), key=lambda item: int(_first(item[1], "number") or 0))
        entries += [
            _plan(key, rows, actions.get(variant, []), contexts.get(variant, []), version) for variant, rows in ordered
        ]
    return {
        "resourceType": "Bundle",
        "id": "axilla-kg" + (f"-topic-{topic}" if topic else ""),
        "type": "collection",
        "timestamp": source.generation_time().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "entry": [{"fullUrl": r["url"], "resource": r} for r in entries],
    }


def fhir_bundle_json(source: SourceGraph, *, topic: str | None = None) -> str:
    return json.dumps(fhir_bundle(source, topic=topic), ensure_ascii=False, indent=1) + "\n"
