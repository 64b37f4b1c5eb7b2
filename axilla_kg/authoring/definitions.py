"""Variant definitions → OWL 2 defined classes (``ontology/generated/variant-classes.ttl``).

``ontology/variant-definitions.ttl`` states, per variant, which values of each patient feature it
accepts: easy to review against an ACR title. The reasoner needs the same content as class
axioms: each variant gets a class ``owl:equivalentClass`` to the intersection of
``ax:PatientCase`` with one restriction per constrained feature, so HermiT can classify a patient
case individual into it. Generating the axioms keeps one source of truth; the golden test in
``tests/test_generated_golden.py`` keeps the committed file equal to this generator's output.

Which definition property constrains which case property (and with which facet) comes from the
feature registry (:mod:`axilla_kg.contract.features`), so a new feature needs no change here.

Size and age bounds become datatype restrictions over exactly the datatypes the case data uses
(``xsd:decimal`` for sizes, ``xsd:integer`` for age): HermiT silently classifies nothing when the
two differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyoxigraph

from axilla_kg.contract.features import FACET_OPS, REGISTRY_FILES, Condition, Registry
from axilla_kg.errors import DataError
from axilla_kg.formats.turtle import Blank, Collection, Lang, Ref, Resource, Typed, Value, document
from axilla_kg.graph.reads import read_store, texts
from axilla_kg.vocab import AX, XSD, curie, local_name


@dataclass
class VariantDefinition:
    iri: str
    topic_key: str
    number: int
    accepts: dict[str, list[str]]  # case property IRI -> accepted value IRIs (sorted)
    bounds: list[tuple[str, str, str, str]]  # (case property IRI, XSD datatype, facet, lexical value)
    booleans: dict[str, bool]  # boolean case property IRI -> the value the case must have


def class_iri(variant_iri: str) -> str:
    """The defined class of patients matching a variant: the variant IRI with ``-patient``."""
    return variant_iri + "-patient"


def read_definitions(
    path: Path, topic_turtle: list[str], registry_files: Sequence[Path] | None = None
) -> list[VariantDefinition]:
    """Parse the definitions file; ``topic_turtle`` (the topic files' text) gives each variant's
    topic and number, and the registry (``core.ttl`` and ``terminology.ttl`` beside ``path``,
    unless ``registry_files`` says otherwise) which definition property constrains which feature."""
    files = list(registry_files) if registry_files is not None else [path.parent / n for n in REGISTRY_FILES]
    registry = Registry.from_files(files)
    features = {f.name: f for f in registry.features}
    store = pyoxigraph.Store()
    try:
        store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
        for text in topic_turtle:
            store.bulk_load(text, format=pyoxigraph.RdfFormat.TURTLE)
    except (SyntaxError, OSError) as exc:
        raise DataError(f"{path}: {exc}") from exc
    result = read_store(store, "definition-statements")
    rows = [dict(zip(result.variables, row, strict=True)) for row in texts(result)]
    ignored = {AX + "inTopic", AX + "variantNumber", AX + "criterionNote"}
    found: dict[str, VariantDefinition] = {}
    for row in rows:
        iri, pred, obj = str(row["v"]), str(row["p"]), str(row["o"])
        if pred in ignored or (pred not in registry.definition_props and not _is_definition_like(pred)):
            continue
        if row["newer"] is not None:
            # a superseded edition is history: shown, never matched (so it gets no patient class)
            raise DataError(
                f"{path}: {iri}: topic {row['key']} is superseded by <{row['newer']}>; "
                "a superseded edition gets no definition"
            )
        d = found.setdefault(iri, VariantDefinition(iri, str(row["key"]), int(str(row["n"])), {}, [], {}))
        if pred not in registry.definition_props:
            raise DataError(
                f"{path}: {iri}: unknown definition predicate ax:{local_name(pred)} (no ax:constrainsFeature)"
            )
        name, facet = registry.definition_props[pred]
        feature = features[name]
        if facet:
            if feature.kind not in ("decimal", "integer"):
                raise DataError(f"{path}: {iri}: ax:{local_name(pred)} bounds the non-numeric feature '{name}'")
            lexical = str(Decimal(obj)) if feature.kind == "decimal" else str(int(obj))
            d.bounds.append((feature.prop, feature.kind, facet, lexical))
        elif feature.kind == "boolean":
            if feature.prop in d.booleans:
                raise DataError(f"{path}: {iri}: two values for the boolean feature '{name}'")
            d.booleans[feature.prop] = obj in ("true", "1")
        elif feature.kind == "enum":
            if feature.value_of(obj) is None:
                raise DataError(f"{path}: {iri}: <{obj}> is not a case value of '{name}'")
            d.accepts.setdefault(feature.prop, []).append(obj)
        else:
            raise DataError(f"{path}: {iri}: ax:{local_name(pred)} gives a value, not a bound, for numeric '{name}'")
    for d in found.values():
        for values in d.accepts.values():
            values.sort()
        d.bounds.sort()
    return sorted(found.values(), key=lambda d: (d.topic_key, d.number))


def _is_definition_like(pred: str) -> bool:
    """Predicates that look like definition criteria must be registered: a typo is an error."""
    local = local_name(pred)
    return local.startswith(("accepts", "requires")) or "Exclusive" in local or "Inclusive" in local


def _ref(iri: str) -> Ref:
    """A reference to a term, as a prefixed name where it can be one (the writer checks the rest)."""
    return Ref(curie(iri, ("ax", "axd", "xsd"), plain=True) or iri)


def _restriction(prop: str, *pairs: tuple[str, Value]) -> Blank:
    return Blank((("a", Ref("owl:Restriction")), ("owl:onProperty", _ref(prop)), *pairs))


def _restrictions(d: VariantDefinition) -> list[Value]:
    parts: list[Value] = []
    for prop in sorted(d.accepts):
        values = d.accepts[prop]
        if len(values) == 1:
            parts.append(_restriction(prop, ("owl:hasValue", _ref(values[0]))))
        else:
            one_of = Blank((("a", Ref("owl:Class")), ("owl:oneOf", Collection(tuple(_ref(v) for v in values)))))
            parts.append(_restriction(prop, ("owl:someValuesFrom", one_of)))
    for prop, datatype, facet, lexical in d.bounds:
        bound = Blank(((_ref(XSD + facet).turtle(), Typed(lexical, _ref(XSD + datatype))),))
        datarange = Blank(
            (
                ("a", Ref("rdfs:Datatype")),
                ("owl:onDatatype", _ref(XSD + datatype)),
                ("owl:withRestrictions", Collection((bound,))),
            )
        )
        parts.append(_restriction(prop, ("owl:someValuesFrom", datarange)))
    for prop in sorted(d.booleans):
        flag = "true" if d.booleans[prop] else "false"
        parts.append(_restriction(prop, ("owl:hasValue", Typed(flag, Ref("xsd:boolean")))))
    return parts


def _condition_restriction(registry: Registry, condition: Condition) -> Blank:
    """A derivation rule's condition as the restriction a variant class would use for it."""
    feature = registry[condition.field]
    if condition.op:
        facet = next(f for f, op in FACET_OPS.items() if op == condition.op)
        lexical = str(condition.limit) if feature.kind == "decimal" else str(int(condition.limit))
        bound = Blank(((_ref(XSD + facet).turtle(), Typed(lexical, _ref(XSD + feature.kind))),))
        datarange = Blank(
            (
                ("a", Ref("rdfs:Datatype")),
                ("owl:onDatatype", _ref(XSD + feature.kind)),
                ("owl:withRestrictions", Collection((bound,))),
            )
        )
        return _restriction(feature.prop, ("owl:someValuesFrom", datarange))
    if feature.kind == "boolean":
        (flag,) = condition.values
        return _restriction(feature.prop, ("owl:hasValue", Typed("true" if flag else "false", Ref("xsd:boolean"))))
    iris = sorted(feature.value_iris[v] for v in condition.values)
    if len(iris) == 1:
        return _restriction(feature.prop, ("owl:hasValue", _ref(iris[0])))
    one_of = Blank((("a", Ref("owl:Class")), ("owl:oneOf", Collection(tuple(_ref(i) for i in iris)))))
    return _restriction(feature.prop, ("owl:someValuesFrom", one_of))


def derivation_axioms(registry: Registry) -> list[Resource]:
    """One named class per derivation rule, equivalent to the cases that give its conditions and
    contained in the cases whose derived feature has the derived value: so the reasoner derives
    what the case contract derives (``tests/test_fast_path.py`` checks it without the derived value)."""
    resources: list[Resource] = []
    for rule in sorted(registry.derivations, key=lambda r: r.iri):
        cls = Resource(_ref(rule.iri + "-cases").turtle()).add("a", Ref("owl:Class"))
        cls.add("rdfs:label", Lang(f"patient cases to which the derivation rule applies: {rule.label}"))
        cls.add(
            "skos:definition",
            Lang(
                "The patient cases that give every condition of this derivation rule; each of them has the "
                "value the rule derives."
            ),
        )
        cls.add("rdfs:seeAlso", _ref(rule.iri))
        members = Collection(
            (Ref("ax:PatientCase"), *[_condition_restriction(registry, c) for c in rule.conditions]), multiline=True
        )
        cls.add("owl:equivalentClass", Blank((("a", Ref("owl:Class")), ("owl:intersectionOf", members))))
        target = registry[rule.feature]
        cls.add("rdfs:subClassOf", _restriction(target.prop, ("owl:hasValue", _ref(rule.value_iri))))
        resources.append(cls)
    return resources


def render(definitions: list[VariantDefinition], registry: Registry | None = None) -> str:
    """Turtle for every variant's defined class, deterministic (sorted by topic, variant), and the
    class axioms of the registry's derivation rules."""
    header = [
        "GENERATED by `python -m axilla_kg.authoring.ingest` from ontology/variant-definitions.ttl: do not edit.",
        "One OWL defined class per variant: the patients the variant's title describes; then one class",
        "axiom per derivation rule of ontology/terminology.ttl (e.g. clinical stage I-IIA from TNM facts).",
    ]
    resources: list[Resource] = []
    for d in definitions:
        cls = _ref(class_iri(d.iri))
        resources.append(Resource(_ref(d.iri).turtle()).add("ax:patientClass", cls))
        members = Collection((Ref("ax:PatientCase"), *_restrictions(d)), multiline=True)
        defined = Resource(cls.turtle()).add("a", Ref("owl:Class"))
        defined.add("rdfs:label", Lang(f"patient matching ACR topic {d.topic_key} variant {d.number}"))
        defined.add(
            "skos:definition",
            Lang(
                f"The patient cases that ACR topic {d.topic_key} variant {d.number} describes: "
                "a patient case with every feature value the variant definition accepts."
            ),
        )
        defined.add("ax:classOfVariant", _ref(d.iri))
        defined.add("owl:equivalentClass", Blank((("a", Ref("owl:Class")), ("owl:intersectionOf", members))))
        resources.append(defined)
    if registry is not None:
        resources += derivation_axioms(registry)
    return document(header, resources)


def generate(definitions_file: Path, topic_turtle: list[str], out_dir: Path) -> dict[Path, str]:
    """The generated class file, in memory (the caller writes it atomically with the rest)."""
    registry = Registry.from_files([definitions_file.parent / n for n in REGISTRY_FILES])
    return {out_dir / "variant-classes.ttl": render(read_definitions(definitions_file, topic_turtle), registry)}
