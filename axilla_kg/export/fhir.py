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
"""

from __future__ import annotations

import json
import re
from typing import Any

import rdflib
from rdflib import RDFS, Literal, URIRef

from axilla_kg import vocab
from axilla_kg.export.rdf import AX, DCTERMS, SourceGraph
from axilla_kg.vocab import PREFIXES, local_name

FHIR_BASE = vocab.FHIR
VOCAB_SYSTEM = vocab.VOCAB
USAGE_CONTEXT = "http://terminology.hl7.org/CodeSystem/usage-context-type"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
GENDER = "http://hl7.org/fhir/administrative-gender"
UCUM = "http://unitsofmeasure.org"
SKOS = rdflib.Namespace(PREFIXES["skos"])
#: a variant-definition bound as a FHIR Quantity comparator: exact, unlike an (inclusive) Range
COMPARATORS = {"minInclusive": ">=", "minExclusive": ">", "maxInclusive": "<=", "maxExclusive": "<"}
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


def _local(iri: Any) -> str:
    return local_name(str(iri))


def _label(g: rdflib.Graph, node: Any) -> str:
    labels = sorted(str(v) for v in g.objects(node, RDFS.label))
    return labels[0] if labels else _local(node)


def _one(g: rdflib.Graph, node: Any, prop: URIRef) -> Any:
    return next(iter(sorted(g.objects(node, prop), key=str)), None)


def _name(text: str) -> str:
    """A FHIR computable name: ``[A-Z]([A-Za-z0-9_]){0,254}``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)[:255]


def _mapped_codings(g: rdflib.Graph, node: Any) -> list[dict[str, str]]:
    """Standard codes the graph maps this node to (skos:exactMatch only: a coding is an equivalence)."""
    out = []
    for target in sorted(g.objects(node, SKOS.exactMatch), key=str):
        for prefix, system in _SYSTEMS.items():
            if str(target).startswith(prefix):
                out.append({"system": system, "code": str(target)[len(prefix) :]})
    return out


def _vocab_concept(g: rdflib.Graph, node: Any, text: str | None = None) -> dict[str, Any]:
    return {
        "coding": [{"system": VOCAB_SYSTEM, "code": _local(node), "display": _label(g, node)}],
        "text": text or _label(g, node),
    }


def _use_contexts(g: rdflib.Graph, variant: Any) -> list[dict[str, Any]]:
    focus = {"system": USAGE_CONTEXT, "code": "focus"}
    out: list[tuple[str, dict[str, Any]]] = []
    for prop, value in g.predicate_objects(variant):
        local = _local(prop)
        # the definition properties are the ones the feature registry names (ax:constrainsFeature)
        if _one(g, prop, AX.constrainsFeature) is None:
            continue
        feature = _label(g, prop)
        facet = _one(g, prop, AX.boundFacet)
        if local == "acceptsSex" and _local(value) in ("Female", "Male"):
            gender = _local(value).lower()
            context = {
                "code": {"system": USAGE_CONTEXT, "code": "gender"},
                "valueCodeableConcept": {"coding": [{"system": GENDER, "code": gender}], "text": gender},
            }
        elif isinstance(value, URIRef):
            context = {
                "code": focus,
                "valueCodeableConcept": _vocab_concept(g, value, f"{feature}: {_label(g, value)}"),
            }
        elif local == "minimumAgeYears":
            low = {"value": int(str(value)), "unit": "a", "system": UCUM, "code": "a"}
            context = {"code": {"system": USAGE_CONTEXT, "code": "age"}, "valueRange": {"low": low}}
        elif facet is not None and local.startswith("tumorSize"):
            # A FHIR Range is inclusive at both ends, so "greater than 2 cm" cannot be a Range low of 2
            # (it would overlap "2 cm or less" at 2.0): a Quantity with its comparator is exact.
            bound = {
                "value": float(str(value)),
                "comparator": COMPARATORS[str(facet)],
                "unit": "cm",
                "system": UCUM,
                "code": "cm",
            }
            context = {"code": focus, "valueQuantity": bound}
        else:
            shown = ("yes" if value.toPython() else "no") if isinstance(value, Literal) else str(value)
            context = {
                "code": focus,
                "valueCodeableConcept": {
                    "coding": [{"system": VOCAB_SYSTEM, "code": local, "display": feature}],
                    "text": f"{feature}: {shown}",
                },
            }
        out.append((json.dumps(context, sort_keys=True), context))
    return [c for _, c in sorted(out, key=lambda item: item[0])]


def _activity(g: rdflib.Graph, proc: Any, version: str) -> dict[str, Any]:
    name = str(_one(g, proc, AX.procedureName) or _label(g, proc))
    rid = _local(proc)
    details = [f"Imaging procedure as named by the ACR: {name}."]
    rrl = _one(g, proc, AX.adultRRL)
    if rrl is not None:
        details.append(f"Adult relative radiation level: {_label(g, rrl)}.")
    code: dict[str, Any] = {"text": name}
    codings = _mapped_codings(g, proc)
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


def _action(g: rdflib.Graph, rating: Any) -> tuple[tuple[int, str], dict[str, Any]]:
    proc = _one(g, rating, AX.ratedProcedure)
    name = str(_one(g, proc, AX.procedureName) or _label(g, proc))
    category_node = _one(g, rating, AX.category)
    category = vocab.text_by_iri("category").get(str(category_node), "")
    record = _one(g, rating, AX.hasSourceRecord)
    parts = [category or "category not stated in the source"]
    rrl = _one(g, rating, AX.listedRRL)
    if rrl is not None:
        parts.append(f"RRL {vocab.text_by_iri('rrl').get(str(rrl), _label(g, rrl))}")
    score = _one(g, rating, AX.ratingScore)
    if score is not None:
        parts.append(f"rating {score}")
    soe = _one(g, rating, AX.strengthOfEvidence)
    if soe is not None:
        parts.append(f"strength of evidence {vocab.text_by_iri('soe').get(str(soe), _label(g, soe))}")
    parts.append(f"confidence {vocab.text_by_iri('confidence').get(str(_one(g, rating, AX.confidence)), 'unknown')}")
    file, line = _one(g, record, AX.sourceFile), _one(g, record, AX.sourceRow)
    if file is not None:
        parts.append(f"source {file}:{line}")
    action: dict[str, Any] = {
        "id": _local(rating),
        "title": name,
        "description": "; ".join(parts) + ".",
        "code": [_vocab_concept(g, category_node, category or None)],
        "definitionCanonical": f"{FHIR_BASE}/ActivityDefinition/{_local(proc)}",
    }
    urls = sorted(str(u) for u in g.objects(record, DCTERMS.source))
    if urls:
        action["documentation"] = [{"type": "citation", "url": u} for u in urls]
    return (vocab.rank_by_iri("category").get(str(category_node), 99), name), action


def _plan(g: rdflib.Graph, key: str, variant: Any, version: str) -> dict[str, Any]:
    number = int(_one(g, variant, AX.variantNumber))
    title = str(_one(g, variant, AX.officialTitle))
    rid = f"acr-{key}-variant-{number}"
    complete = _one(g, variant, AX.ratingTableComplete)
    note = _one(g, variant, AX.completenessNote)
    description = f"Applies to: {title}"
    if complete is not None and not complete.toPython():
        description += (
            " Rating table INCOMPLETE in this graph: a procedure not listed is unrated here, not 'not appropriate'."
        )
        if note:
            description += f" {note}"
    actions = sorted((_action(g, r) for r in g.subjects(AX.ratedVariant, variant)), key=lambda a: a[0])
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
        "useContext": _use_contexts(g, variant),
        "action": [a for _, a in actions],
    }
    sources = sorted({str(u) for r in [_one(g, variant, AX.definitionSource)] for u in g.objects(r, DCTERMS.source)})
    if sources:
        plan["relatedArtifact"] = [{"type": "derived-from", "url": u} for u in sources]
    if not plan["useContext"]:
        del plan["useContext"]
    if not plan["action"]:
        del plan["action"]
    return plan


def fhir_bundle(source: SourceGraph, *, topic: str | None = None) -> dict[str, Any]:
    """The Bundle as a JSON-ready dict: ActivityDefinitions first, then PlanDefinitions by topic and variant."""
    g = source.graph
    keys = [topic] if topic is not None else list(source.topics)
    for key in keys:
        source.topic_node(key)
    version = source.version
    entries = []
    for proc in sorted(g.subjects(rdflib.RDF.type, AX.Procedure), key=str):
        entries.append(_activity(g, proc, version))
    for key in keys:
        variants = sorted(g.subjects(AX.inTopic, source.topics[key]), key=lambda v: int(_one(g, v, AX.variantNumber)))
        entries += [_plan(g, key, v, version) for v in variants]
    return {
        "resourceType": "Bundle",
        "id": "axilla-kg" + (f"-topic-{topic}" if topic else ""),
        "type": "collection",
        "timestamp": source.generation_time().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "entry": [{"fullUrl": r["url"], "resource": r} for r in entries],
    }


def fhir_bundle_json(source: SourceGraph, *, topic: str | None = None) -> str:
    return json.dumps(fhir_bundle(source, topic=topic), ensure_ascii=False, indent=1) + "\n"
