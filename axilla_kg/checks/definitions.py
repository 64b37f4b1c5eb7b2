"""Check stage "definitions": what the variant classes say about which patients each variant covers.

Three guideline rules need the reasoner and the patient-case model rather than a SPARQL pattern:

* ``variant-overlap`` (WARN): two variants of one topic whose patient classes intersect — HermiT
  finds ``A ⊓ B`` satisfiable — so one patient could match both;
* ``cross-topic-conflict`` (WARN): overlapping variants of two topics that rate the same procedure
  in different categories, with both ratings and their sources;
* ``variant-gap`` (INFO): patients that no variant of a topic covers, e.g. a ≤2 cm cancer after
  neoadjuvant therapy, or a value (male) that no variant of the topic accepts.

Every overlap and gap comes with a witness case in the ``recommend`` JSON format, checked with the
compiled classifier, so ``axilla-kg recommend --case`` replays it.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.findings import Finding, Level
from axilla_kg.contract.cases import CaseError, parse_case
from axilla_kg.reasoning.reasoner import class_relations
from axilla_kg.recommend.classify import Classifier, CompiledVariant, Test

#: Fields a gap search varies; the others stay at a neutral value (no lump, no suspicious node,
#: diagnostic imaging done, an adult age) so that each gap reads as one clinical situation.
GAP_FIELDS = ("sex", "breast_cancer", "tumor_size_cm", "clinical_nodes", "neoadjuvant")
NEUTRAL: dict[str, Any] = {
    "age": 50,
    "diagnostic_breast_imaging_done": True,
    "axillary_lump": "none",
    "suspicious_node_on": "none",
}


def _enum(classifier: Classifier, name: str) -> list[Any]:
    """The values a case field can take, from the feature registry (booleans: both)."""
    feature = classifier.registry[name]
    return [False, True] if feature.kind == "boolean" else list(feature.values)


def _entity(v: CompiledVariant, labels: dict[str, str]) -> tuple[str, str]:
    return (v.variant_iri, labels.get(v.variant_iri, f"topic {v.topic} variant {v.number}"))


def _pick_number(tests: list[Test], integer: bool) -> Decimal | None:
    limits = sorted({t.limit for t in tests}) or [Decimal(50 if integer else 1)]
    step = Decimal(1) if integer else Decimal("0.5")
    candidates = sorted({x for limit in limits for x in (limit, limit + step, limit - step)} | {Decimal(50)})
    for value in candidates:
        if value > 0 and all(t.evaluate(value) for t in tests):
            return value
    return None


def witness(variants: list[CompiledVariant], classifier: Classifier) -> dict[str, Any] | None:
    """A case every one of ``variants`` matches, or None when the builder finds none."""
    case: dict[str, Any] = {}
    by_field: dict[str, list[Test]] = {}
    for v in variants:
        for t in v.tests:
            by_field.setdefault(t.field, []).append(t)
    for name, tests in by_field.items():
        if tests[0].kind == "in":
            allowed = set(_enum(classifier, name))
            for t in tests:
                allowed &= t.values
            if not allowed:
                return None
            case[name] = sorted(allowed, key=str)[0]
        else:
            value = _pick_number(tests, integer=name == "age")
            if value is None:
                return None
            case[name] = int(value) if name == "age" else float(value)
    case.setdefault("sex", "female")
    if any(k in case for k in ("tumor_size_cm", "clinical_nodes")) or case.get("neoadjuvant", "none") != "none":
        case.setdefault("breast_cancer", "new")
    try:
        parsed = parse_case(case)
    except CaseError:
        return None
    matched = {v.variant_iri for v in classifier.matches(parsed)}
    if not all(v.variant_iri in matched for v in variants):
        return None
    return parsed.to_json()


def check_definitions(ctx: CheckContext) -> list[Finding]:
    classifier = Classifier.from_graph(ctx.kg)
    variants = classifier.variants
    if not variants:
        return []
    labels = {v.variant_iri: f"topic {v.topic} variant {v.number}" for v in variants}
    logic = class_relations([v.class_iri for v in variants], extra=ctx.extra, reasoner=ctx.reasoner, subsumption=False)
    findings: list[Finding] = []
    ratings = _ratings(ctx)
    for a, b in itertools.combinations(variants, 2):
        pair = tuple(sorted((a.class_iri, b.class_iri)))
        if pair in logic.unsatisfiable_pairs:
            continue
        example = witness([a, b], classifier)
        if a.topic == b.topic:
            findings.append(
                Finding(
                    "variant-overlap",
                    Level.WARN,
                    f"topic {a.topic}: variants {a.number} and {b.number} overlap (the reasoner finds their "
                    "intersection satisfiable); a patient can match both",
                    (_entity(a, labels), _entity(b, labels)),
                    witness=example,
                )
            )
            continue
        for procedure in sorted(set(ratings.get(a.variant_iri, {})) & set(ratings.get(b.variant_iri, {}))):
            (cat_a, src_a), (cat_b, src_b) = ratings[a.variant_iri][procedure], ratings[b.variant_iri][procedure]
            if cat_a != cat_b:
                findings.append(
                    Finding(
                        "cross-topic-conflict",
                        Level.WARN,
                        f"'{procedure}': {cat_a} in topic {a.topic} variant {a.number} ({src_a}) but {cat_b} in "
                        f"topic {b.topic} variant {b.number} ({src_b}); a patient can match both",
                        (_entity(a, labels), _entity(b, labels)),
                        witness=example,
                        source=f"{src_a}; {src_b}",
                    )
                )
    findings += _gaps(classifier)
    return findings


def _ratings(ctx: CheckContext) -> dict[str, dict[str, tuple[str, str]]]:
    """Variant IRI → procedure → (category, source file:line) for ratings with a stated category."""
    rows = ctx.kg.sparql(
        """SELECT ?v ?procedure ?category ?file ?line WHERE {
          ?r ax:ratedVariant ?v ; ax:ratedProcedure ?p ; ax:category ?c .
          ?p ax:procedureName ?procedure . ?c ax:categoryText ?category .
          OPTIONAL { ?r ax:hasSourceRecord ?s . ?s ax:sourceFile ?file . OPTIONAL { ?s ax:sourceRow ?line } }
        }"""
    ).records()
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for r in rows:
        where = f"{r['file']}:{r['line']}" if r.get("line") else str(r.get("file") or "no source")
        out.setdefault(str(r["v"]), {})[str(r["procedure"])] = (str(r["category"]), where)
    return out


def _gap_values(classifier: Classifier, field: str) -> list[Any]:
    if field == "tumor_size_cm":
        return [None]  # replaced per topic by one value on each side of every threshold
    return _enum(classifier, field)


def _gaps(classifier: Classifier) -> list[Finding]:
    findings: list[Finding] = []
    topics = sorted({v.topic for v in classifier.variants})
    for topic in topics:
        mine = [v for v in classifier.variants if v.topic == topic]
        topic_entity = ((mine[0].topic_iri, f"topic {topic}"),)
        # a value no variant of the topic accepts is one finding, not one per combination
        excluded: dict[str, set[str]] = {}
        for field in ("sex", "breast_cancer"):
            for value in _enum(classifier, field):
                if all(
                    any(t.field == field and t.kind == "in" and value not in t.values for t in v.tests) for v in mine
                ):
                    excluded.setdefault(field, set()).add(value)
                    example = {"sex": value} if field == "sex" else {"sex": "female", field: value}
                    findings.append(
                        Finding(
                            "variant-gap",
                            Level.INFO,
                            f"topic {topic}: no variant accepts {field} '{value}'",
                            topic_entity,
                            witness=parse_case({**NEUTRAL, **example}).to_json(),
                        )
                    )
        sizes = sorted({t.limit for v in mine for t in v.tests if t.field == "tumor_size_cm"})
        size_values = sorted({s + d for s in sizes for d in (Decimal(0), Decimal("0.5"))}) or [Decimal("1.5")]
        axes: list[list[Any]] = []
        for field in GAP_FIELDS:
            values = [float(s) for s in size_values] if field == "tumor_size_cm" else _gap_values(classifier, field)
            axes.append([x for x in values if x not in excluded.get(field, set())])
        seen: set[tuple[Any, ...]] = set()
        for combo in itertools.product(*axes):
            data = dict(zip(GAP_FIELDS, combo, strict=True))
            if data["breast_cancer"] == "none":
                for key in ("tumor_size_cm", "clinical_nodes", "neoadjuvant"):
                    data.pop(key)
            cell = tuple(sorted(data.items()))
            if cell in seen:
                continue
            seen.add(cell)
            case = parse_case({**NEUTRAL, **data})
            # open world: a gap is a case every variant refutes (a variant it could still match is no gap)
            if all(any(r is False for r in v.evaluate(case)) for v in mine):
                described = ", ".join(f"{k}={v}" for k, v in data.items())
                findings.append(
                    Finding(
                        "variant-gap",
                        Level.INFO,
                        f"topic {topic}: no variant covers {described} (with no lump, no suspicious node, "
                        "diagnostic imaging done, age 50; other facts unknown)",
                        topic_entity,
                        witness=case.to_json(),
                    )
                )
    return findings
