"""Variant definitions → OWL 2 defined classes (``ontology/generated/variant-classes.ttl``).

``ontology/variant-definitions.ttl`` states, per variant, which values of each patient feature it
accepts: easy to review against an ACR title. The reasoner needs the same content as class
axioms: each variant gets a class ``owl:equivalentClass`` to the intersection of
``ax:PatientCase`` with one restriction per constrained feature, so HermiT can classify a patient
case individual into it. Generating the axioms keeps one source of truth; the golden test in
``tests/test_generated_golden.py`` keeps the committed file equal to this generator's output.

Size and age bounds become datatype restrictions over exactly the datatypes the case data uses
(``xsd:decimal`` for sizes, ``xsd:integer`` for age): HermiT silently classifies nothing when the
two differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyoxigraph

from axilla_kg.errors import DataError

AX = "https://w3id.org/axilla-kg/vocab#"
AXD = "https://w3id.org/axilla-kg/id/"

# accepts-predicate of the definitions file → case property of the class axiom
OBJECT_FEATURES: dict[str, str] = {
    "acceptsSex": "hasSex",
    "acceptsBreastCancerStatus": "hasBreastCancerStatus",
    "acceptsClinicalNodalStatus": "hasClinicalNodalStatus",
    "acceptsNeoadjuvantPhase": "hasNeoadjuvantPhase",
    "acceptsAxillaryLump": "hasAxillaryLump",
    "acceptsSuspiciousNodeModality": "suspiciousNodeFoundOn",
}
# numeric bound predicate → (case property, XSD datatype, facet)
NUMERIC_BOUNDS: dict[str, tuple[str, str, str]] = {
    "tumorSizeMaxInclusiveCm": ("tumorSizeCm", "decimal", "maxInclusive"),
    "tumorSizeMinExclusiveCm": ("tumorSizeCm", "decimal", "minExclusive"),
    "minimumAgeYears": ("ageYears", "integer", "minInclusive"),
}
BOOLEAN_REQUIREMENTS: dict[str, str] = {
    "requiresDiagnosticBreastImagingDone": "diagnosticBreastImagingDone",
}


@dataclass
class VariantDefinition:
    iri: str
    topic_key: str
    number: int
    accepts: dict[str, list[str]]  # case property local name → accepted value IRIs (sorted)
    bounds: list[tuple[str, str, str, str]]  # (property, datatype, facet, lexical value)
    required_true: list[str]  # boolean case properties that must be true
    requires_suspicious_node: bool


def class_iri(variant_iri: str) -> str:
    """The defined class of patients matching a variant: the variant IRI with ``-patient``."""
    return variant_iri + "-patient"


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rsplit("/", 1)[-1]


def read_definitions(path: Path, topic_turtle: list[str]) -> list[VariantDefinition]:
    """Parse the definitions file; ``topic_turtle`` (the topic files' text) gives each variant's
    topic and number."""
    store = pyoxigraph.Store()
    try:
        store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
        for text in topic_turtle:
            store.bulk_load(text, format=pyoxigraph.RdfFormat.TURTLE)
    except (SyntaxError, OSError) as exc:
        raise DataError(f"{path}: {exc}") from exc
    rows = store.query(
        f"""PREFIX ax: <{AX}>
        SELECT ?v ?key ?n ?p ?o WHERE {{
          ?v ?p ?o . ?v ax:inTopic ?t ; ax:variantNumber ?n . ?t ax:topicKey ?key .
          FILTER(STRSTARTS(STR(?p), "{AX}accepts") || STRSTARTS(STR(?p), "{AX}requires")
                 || ?p IN (ax:tumorSizeMaxInclusiveCm, ax:tumorSizeMinExclusiveCm, ax:minimumAgeYears))
        }}"""
    )
    found: dict[str, VariantDefinition] = {}
    for row in rows:  # type: ignore[union-attr]
        iri = row["v"].value
        d = found.setdefault(iri, VariantDefinition(iri, row["key"].value, int(row["n"].value), {}, [], [], False))
        pred, obj = _local(row["p"].value), row["o"]
        if pred in OBJECT_FEATURES:
            d.accepts.setdefault(OBJECT_FEATURES[pred], []).append(obj.value)
        elif pred in NUMERIC_BOUNDS:
            prop, datatype, facet = NUMERIC_BOUNDS[pred]
            lexical = str(Decimal(obj.value)) if datatype == "decimal" else str(int(obj.value))
            d.bounds.append((prop, datatype, facet, lexical))
        elif pred in BOOLEAN_REQUIREMENTS:
            if obj.value == "true":
                d.required_true.append(BOOLEAN_REQUIREMENTS[pred])
        elif pred == "requiresSuspiciousNode":
            d.requires_suspicious_node = obj.value == "true"
        else:
            raise DataError(f"{path}: {iri}: unknown definition predicate ax:{pred}")
    for d in found.values():
        for values in d.accepts.values():
            values.sort()
        d.bounds.sort()
        d.required_true.sort()
        if d.requires_suspicious_node and "suspiciousNodeFoundOn" not in d.accepts:
            raise DataError(f"{path}: {iri}: ax:requiresSuspiciousNode without ax:acceptsSuspiciousNodeModality")
    return sorted(found.values(), key=lambda d: (d.topic_key, d.number))


def _ref(iri: str) -> str:
    if iri.startswith(AX):
        return "ax:" + iri[len(AX) :]
    if iri.startswith(AXD):
        return "axd:" + iri[len(AXD) :]
    return f"<{iri}>"


def _restrictions(d: VariantDefinition) -> list[str]:
    parts: list[str] = []
    for prop in sorted(d.accepts):
        values = d.accepts[prop]
        if len(values) == 1:
            parts.append(f"[ a owl:Restriction ; owl:onProperty ax:{prop} ; owl:hasValue {_ref(values[0])} ]")
        else:
            one_of = " ".join(_ref(v) for v in values)
            parts.append(
                f"[ a owl:Restriction ; owl:onProperty ax:{prop} ; "
                f"owl:someValuesFrom [ a owl:Class ; owl:oneOf ( {one_of} ) ] ]"
            )
    for prop, datatype, facet, lexical in d.bounds:
        literal = f'"{lexical}"^^xsd:{datatype}'
        parts.append(
            f"[ a owl:Restriction ; owl:onProperty ax:{prop} ; owl:someValuesFrom [ a rdfs:Datatype ; "
            f"owl:onDatatype xsd:{datatype} ; owl:withRestrictions ( [ xsd:{facet} {literal} ] ) ] ]"
        )
    for prop in d.required_true:
        parts.append(f'[ a owl:Restriction ; owl:onProperty ax:{prop} ; owl:hasValue "true"^^xsd:boolean ]')
    return parts


def render(definitions: list[VariantDefinition]) -> str:
    """Turtle for every variant's defined class, deterministic (sorted by topic, variant)."""
    out = [
        "# GENERATED by `python -m axilla_kg.ingest` from ontology/variant-definitions.ttl: do not edit.",
        "# One OWL defined class per variant: the patients the variant's title describes.",
        "@prefix ax:   <https://w3id.org/axilla-kg/vocab#> .",
        "@prefix axd:  <https://w3id.org/axilla-kg/id/> .",
        "@prefix owl:  <http://www.w3.org/2002/07/owl#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .",
        "",
    ]
    for d in definitions:
        cls = _ref(class_iri(d.iri))
        members = "\n            ".join(["ax:PatientCase", *_restrictions(d)])
        out.append(f"{_ref(d.iri)} ax:patientClass {cls} .")
        out.append(
            f"{cls} a owl:Class ;\n"
            f'    rdfs:label "patient matching ACR topic {d.topic_key} variant {d.number}"@en ;\n'
            f'    skos:definition "The patient cases that ACR topic {d.topic_key} variant {d.number} describes: '
            f'a patient case with every feature value the variant definition accepts."@en ;\n'
            f"    ax:classOfVariant {_ref(d.iri)} ;\n"
            f"    owl:equivalentClass [ a owl:Class ; owl:intersectionOf (\n            {members}\n        ) ] .\n"
        )
    return "\n".join(out)


def generate(definitions_file: Path, topic_turtle: list[str], out_dir: Path) -> dict[Path, str]:
    """The generated class file, in memory (the caller writes it atomically with the rest)."""
    return {out_dir / "variant-classes.ttl": render(read_definitions(definitions_file, topic_turtle))}
