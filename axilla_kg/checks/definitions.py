"""Check stage "definitions": what the variant classes say about which patients each variant covers.

* ``variant-overlap`` (WARN): two variants of one topic whose patient classes intersect, so one
  patient could match both;
* ``cross-topic-conflict`` (WARN): overlapping variants of two topics that rate the same procedure
  in different categories, with both ratings and their sources;
* ``variant-gap`` (INFO): patients that no variant of a topic covers, e.g. a ≤2 cm cancer after
  neoadjuvant therapy, or a value (male) that no variant of the topic accepts.

Computed symbolically (:mod:`axilla_kg.checks.regions`) on the compiled variant classes: each
class is a box of accepted values per field, an overlap is a non-empty intersection of two boxes
(equal to HermiT finding ``A ⊓ B`` satisfiable; ``reference_overlaps`` asks HermiT, and the tests
compare), and a gap is a part of a topic's case space that every variant refutes. Pairs are
only formed where they can matter: within a topic, and across topics among the variants that
rate one procedure in different categories, bucketed by the value of their most constrained
field, so the work grows with the number of variants, not its square.

Every overlap and gap comes with a witness case in the ``recommend`` JSON format, checked with the
compiled classifier, so ``axilla-kg recommend --case`` replays it. Entities carry the graph's own
labels (``rdfs:label``), the same in every stage.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.findings import Finding, Level
from axilla_kg.checks.regions import (
    Constraint,
    Interval,
    Region,
    admits,
    atoms,
    condition_constraint,
    describe,
    domain,
    feasible,
    intersect,
    pick,
)
from axilla_kg.checks.regions import region_of as _region_of
from axilla_kg.contract.cases import CaseError, parse_case
from axilla_kg.contract.features import Feature, Registry
from axilla_kg.recommend.classify import Classifier, CompiledVariant


def neutral_values(registry: Registry) -> dict[str, Any]:
    """Fields held at a neutral value in a gap search (no lump, no suspicious node, diagnostic
    imaging done, an adult age: each feature's ``ax:gapNeutralValue`` in the registry) so that
    each gap reads as one clinical situation."""
    return {f.name: f.neutral for f in registry.features if f.neutral is not None}


def excluded_value_fields(registry: Registry) -> tuple[str, ...]:
    """Fields for which a value that no variant of a topic accepts is reported once, by itself
    (``ax:gapReportedAlone``)."""
    return tuple(f.name for f in registry.features if f.reported_alone)


def neutral_text(registry: Registry) -> str:
    """What a gap finding says about the fields it holds fixed."""
    held = ", ".join(f"{name}={_shown(value)}" for name, value in neutral_values(registry).items())
    return f"with {held}; other facts unknown" if held else "other facts unknown"


def _shown(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def required_values(registry: Registry) -> dict[str, Any]:
    """A value for every required field (its first value): what every shown example case gives."""
    return {f.name: f.values[0] for f in registry.features if f.required and f.values}


def example_case(case: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """``case`` completed as an overlap's example: every required field given (its first value),
    and the field a case rule presupposes (a tumour size presupposes a known cancer) given its
    first allowed value, until no rule asks for more."""
    out = {**required_values(registry), **case}
    for _ in range(len(registry.rules) + 1):
        added = False
        for rule in registry.rules:
            given = out.get(rule.field)
            if (
                given is None
                or rule.other in out
                or not rule.presupposes
                or (rule.when is not None and given not in rule.when)
                or not all(c.holds(out.get(c.field)) for c in rule.conditions)
            ):
                continue
            allowed = [v for v in registry[rule.other].values if v in rule.allows]
            if allowed:
                out[rule.other] = allowed[0]
                added = True
        if not added:
            break
    return out


@dataclass
class Compiled:
    """The classifier with each variant's box (None: its definition is unsatisfiable), and the
    registry's derivation rules (a feature derived from others, mirrored by OWL class axioms)."""

    classifier: Classifier
    regions: dict[str, Region | None]
    features: dict[str, Feature]
    derivations: tuple[Any, ...] = ()

    @classmethod
    def from_classifier(cls, classifier: Classifier) -> Compiled:
        features = {f.name: f for f in classifier.registry.features}
        derivations = tuple(getattr(classifier.registry, "derivations", ()))
        regions: dict[str, Region | None] = {}
        for v in classifier.variants:
            box = _region_of(v, features)
            regions[v.variant_iri] = box if box is not None and feasible(box, derivations, features) else None
        return cls(classifier, regions, features, derivations)

    @property
    def registry(self) -> Registry:
        return self.classifier.registry

    def region(self, v: CompiledVariant) -> Region | None:
        return self.regions[v.variant_iri]

    def feasible(self, region: Region | None) -> Region | None:
        return feasible(region, self.derivations, self.features) if region is not None else None

    def meet(self, a: CompiledVariant, b: CompiledVariant) -> Region | None:
        """What the two variants have in common (a box the derivation rules allow), or None."""
        ra, rb = self.region(a), self.region(b)
        return self.feasible(intersect(ra, rb)) if ra is not None and rb is not None else None


def witness(variants: Sequence[CompiledVariant], compiled: Compiled, region: Region) -> dict[str, Any] | None:
    """A case inside ``region`` that every one of ``variants`` matches, or None when the values
    picked contradict a case rule (the overlap is real but has no valid single case here)."""
    features = {f.name: f for f in compiled.registry.features}
    case = example_case({name: pick(c, features.get(name)) for name, c in region.items()}, compiled.registry)
    try:
        parsed = parse_case(case, compiled.registry)
    except CaseError:
        return None
    if not all(v.matches(parsed) for v in variants):
        return None
    return parsed.to_json()


def check_definitions(ctx: CheckContext) -> list[Finding]:
    compiled = Compiled.from_classifier(Classifier.from_graph(ctx.kg))
    variants = compiled.classifier.variants
    if not variants:
        return []
    findings = overlaps(ctx, compiled)
    findings += conflicts(ctx, compiled, _ratings(ctx))
    findings += gaps(ctx, compiled)
    return findings


def _by_topic(variants: Iterable[CompiledVariant]) -> dict[str, list[CompiledVariant]]:
    out: dict[str, list[CompiledVariant]] = {}
    for v in variants:
        out.setdefault(v.topic_iri, []).append(v)
    return out


def overlaps(ctx: CheckContext, compiled: Compiled) -> list[Finding]:
    findings = []
    for mine in _by_topic(compiled.classifier.variants).values():
        for i, a in enumerate(mine):
            for b in mine[i + 1 :]:
                common = compiled.meet(a, b)
                if common is None:
                    continue
                both = [
                    describe(k, c)
                    for k, c in sorted(common.items())
                    if a.constraints().get(k) != b.constraints().get(k)
                ]
                findings.append(
                    Finding(
                        "variant-overlap",
                        Level.WARN,
                        f"{_name(ctx, a)} and {_name(ctx, b)} overlap; a patient can match both"
                        + (f" (both cover {', '.join(both)})" if both else " (the same definition)"),
                        (ctx.entity(a.variant_iri), ctx.entity(b.variant_iri)),
                        witness=witness([a, b], compiled, common),
                    )
                )
    return findings


def _name(ctx: CheckContext, v: CompiledVariant) -> str:
    return ctx.label(v.variant_iri) or f"topic {v.topic} variant {v.number}"


def overlapping_pairs(
    compiled: Compiled, candidates: Iterable[tuple[CompiledVariant, CompiledVariant]]
) -> set[tuple[str, str]]:
    """The candidate pairs whose boxes meet, as sorted (class IRI, class IRI) pairs."""
    out = set()
    for a, b in candidates:
        if compiled.meet(a, b) is not None:
            out.add((min(a.class_iri, b.class_iri), max(a.class_iri, b.class_iri)))
    return out


def reference_overlaps(
    ctx: CheckContext, variants: Sequence[CompiledVariant], claimed: Collection[tuple[str, str]] | None = None
) -> set[tuple[str, str]]:
    """What the reasoner says: the pairs of ``variants`` whose class intersection is satisfiable
    (quadratic, for the tests that hold the algebra equal to it). HermiT answers in the process's
    JVM, and confirms ``claimed`` (the pairs expected to overlap) at once where it is right
    (:func:`axilla_kg.reasoning.reasoner.satisfiable_pairs`); Pellet in one reasoner call for all pairs."""
    from axilla_kg.reasoning.reasoner import class_relations, satisfiable_pairs

    classes = sorted({v.class_iri for v in variants})
    pairs = [(a, b) for i, a in enumerate(classes) for b in classes[i + 1 :]]
    if ctx.reasoner == "hermit":
        return satisfiable_pairs(pairs, extra=ctx.extra, claimed=claimed)
    logic = class_relations(classes, extra=ctx.extra, reasoner=ctx.reasoner, subsumption=False)
    return {pair for pair in pairs if pair not in logic.unsatisfiable_pairs}


def _bucket_key(compiled: Compiled, group: list[CompiledVariant]) -> str | None:
    """The set-valued field most of ``group`` constrain (the index that splits it best)."""
    counts: dict[str, int] = {}
    for v in group:
        region = compiled.region(v) or {}
        for name, c in region.items():
            if isinstance(c, frozenset):
                counts[name] = counts.get(name, 0) + 1
    return max(sorted(counts), key=lambda k: counts[k]) if counts else None


def candidate_pairs(compiled: Compiled, group: list[CompiledVariant]) -> set[tuple[int, int]]:
    """Index pairs of ``group`` (from different topics) that may overlap: variants are bucketed by
    each value of the field most of them constrain (a variant free on it goes to every bucket)."""
    key = _bucket_key(compiled, group)
    buckets: dict[Any, list[int]] = {}
    free: list[int] = []
    for i, v in enumerate(group):
        c = (compiled.region(v) or {}).get(key) if key is not None else None
        if isinstance(c, frozenset):
            for value in c:
                buckets.setdefault(value, []).append(i)
        else:
            free.append(i)
    pairs: set[tuple[int, int]] = set()
    for members in [*buckets.values(), []]:
        everyone = sorted(set(members) | set(free))
        for x, i in enumerate(everyone):
            for j in everyone[x + 1 :]:
                if group[i].topic_iri != group[j].topic_iri:
                    pairs.add((i, j))
    return pairs


def conflicts(ctx: CheckContext, compiled: Compiled, ratings: dict[str, dict[str, tuple[str, str]]]) -> list[Finding]:
    """Cross-topic conflicts: overlapping variants of two topics rating one procedure differently."""
    by_procedure: dict[str, list[CompiledVariant]] = {}
    for v in compiled.classifier.variants:
        if compiled.region(v) is None:
            continue
        for procedure in ratings.get(v.variant_iri, {}):
            by_procedure.setdefault(procedure, []).append(v)
    found: dict[tuple[str, str], set[str]] = {}
    for procedure, group in by_procedure.items():
        if len({ratings[v.variant_iri][procedure][0] for v in group}) < 2:
            continue
        for i, j in candidate_pairs(compiled, group):
            a, b = sorted((group[i], group[j]), key=lambda v: (v.topic, v.number))
            if ratings[a.variant_iri][procedure][0] == ratings[b.variant_iri][procedure][0]:
                continue
            if compiled.meet(a, b) is not None:
                found.setdefault((a.variant_iri, b.variant_iri), set()).add(procedure)
    variants = {v.variant_iri: v for v in compiled.classifier.variants}
    findings = []
    for (ia, ib), procedures in sorted(found.items()):
        a, b = variants[ia], variants[ib]
        common = compiled.meet(a, b)
        example = witness([a, b], compiled, common) if common is not None else None
        for procedure in sorted(procedures):
            (cat_a, src_a), (cat_b, src_b) = ratings[ia][procedure], ratings[ib][procedure]
            findings.append(
                Finding(
                    "cross-topic-conflict",
                    Level.WARN,
                    f"'{procedure}': {cat_a} in {_name(ctx, a)} ({src_a}) but {cat_b} in {_name(ctx, b)} ({src_b}); "
                    "a patient can match both",
                    (ctx.entity(ia), ctx.entity(ib)),
                    witness=example,
                    source=f"{src_a}; {src_b}",
                )
            )
    return findings


def _ratings(ctx: CheckContext) -> dict[str, dict[str, tuple[str, str]]]:
    """Variant IRI → procedure → (category, source file:line) for ratings with a stated category."""
    rows = ctx.kg.read("stated-ratings").records()
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for r in rows:
        where = f"{r['file']}:{r['line']}" if r.get("line") else str(r.get("file") or "no source")
        out.setdefault(str(r["v"]), {})[str(r["procedure"])] = (str(r["category"]), where)
    return out


# --- gaps ----------------------------------------------------------------------------------------


@dataclass
class Gap:
    """A box of valid cases that every variant of the topic refutes."""

    topic_iri: str
    box: Region  # the axes' pieces plus the topic's scope
    excluded: tuple[str, Any] | None = None  # (field, value) no variant of the topic accepts


def topic_gaps(compiled: Compiled, mine: list[CompiledVariant]) -> list[Gap]:
    """The gaps of one topic.

    The case space searched: the fields some variant of the topic constrains, each over its
    valid values, except the topic's scope (a field every variant constrains in the same way,
    e.g. the clinical question of a topic that is about one question; the search stays inside it)
    and the neutral fields (:func:`neutral_values`), held fixed. A field that a case rule makes inapplicable (a tumour
    size without a known cancer) stays unknown, and a variant's test on an unknown field does not
    refute it (open world). The space is split field by field into the pieces the variants
    distinguish; a piece no variant can still match is a gap.
    """
    registry = compiled.registry
    features = {f.name: f for f in registry.features}
    topic_iri = mine[0].topic_iri
    boxes = [r for r in (compiled.region(v) for v in mine) if r is not None]
    if not boxes:
        return []
    out: list[Gap] = []
    excluded: dict[str, set[Any]] = {}
    for name in excluded_value_fields(registry):
        if name not in features or not all(name in b for b in boxes):
            continue
        for value in sorted(domain(features[name]), key=str):  # type: ignore[arg-type]
            if not any(admits(b[name], value) for b in boxes):
                excluded.setdefault(name, set()).add(value)
                out.append(Gap(topic_iri, {}, (name, value)))
    neutral = neutral_values(registry)
    alive = [b for b in boxes if all(admits(b[k], v) for k, v in neutral.items() if k in b)]
    scope: Region = {}
    for name in sorted({k for b in boxes for k in b}):
        if name in neutral:
            continue
        first = boxes[0].get(name)
        if first is not None and all(b.get(name) == first for b in boxes):
            scope[name] = first
    axes = sorted({k for b in alive for k in b} - set(scope) - set(neutral), key=lambda k: (features[k].order, k))
    found: list[Region] = []
    derived = {d.feature for d in compiled.derivations}
    fixed: Region = {
        k: frozenset([v]) if isinstance(v, (str, bool)) else Interval(Decimal(v), False, Decimal(v), False, True)
        for k, v in neutral.items()
    }
    conditions: dict[str, list[Constraint]] = {}
    for d in compiled.derivations:
        for c in d.conditions:
            conditions.setdefault(c.field, []).append(condition_constraint(c, features))

    def search(i: int, assigned: Region, live: list[Region]) -> None:
        if not live:
            found.append(dict(assigned))
            return
        if any(not (set(b) & set(axes[i:])) and not (set(b) & derived) for b in live):
            return  # some variant matches whatever the remaining fields say
        if i == len(axes):
            cell = {**fixed, **scope, **assigned}
            if not any(compiled.feasible(intersect(cell, b)) is not None for b in live):
                found.append(dict(assigned))  # the derivation rules refute what is left
            return
        name = axes[i]
        dom = _applicable(registry, name, assigned, domain(features[name]))
        if dom is None:  # inapplicable here: unknown, refutes nothing
            search(i + 1, assigned, live)
            return
        if isinstance(dom, frozenset):
            dom = dom - excluded.get(name, set())
        parts = [b.get(name) for b in live] + list(conditions.get(name, []))
        for piece, accepting in atoms(dom, parts):
            search(i + 1, {**assigned, name: piece}, [live[j] for j in sorted(accepting) if j < len(live)])

    search(0, {}, alive)
    for box in _merge(found):
        out.append(Gap(topic_iri, {**scope, **box}))
    return out


def _applicable(registry: Registry, name: str, assigned: Region, dom: Constraint) -> Constraint | None:
    """The values of ``name`` the case rules allow given the fields assigned so far; None when a
    rule makes the field inapplicable altogether."""
    for rule in registry.rules:
        if rule.field == name and rule.other in assigned:
            other = assigned[rule.other]
            if isinstance(other, frozenset) and not (other & rule.allows):
                if rule.when is None:
                    return None
                if isinstance(dom, frozenset):
                    dom = dom - rule.when
        if rule.other == name and rule.field in assigned and isinstance(dom, frozenset):
            given = assigned[rule.field]
            if isinstance(given, frozenset) and (rule.when is None or given <= rule.when):
                dom = dom & rule.allows
    return dom


def _merge(boxes: list[Region]) -> list[Region]:
    """Join boxes that differ in the values of one set-valued field only (fewer, larger gaps)."""
    changed = True
    while changed:
        changed = False
        for i, a in enumerate(boxes):
            for j in range(i + 1, len(boxes)):
                b = boxes[j]
                if set(a) != set(b):
                    continue
                diff = [k for k in a if a[k] != b[k]]
                if len(diff) == 1 and isinstance(a[diff[0]], frozenset) and isinstance(b[diff[0]], frozenset):
                    merged = dict(a)
                    merged[diff[0]] = a[diff[0]] | b[diff[0]]  # type: ignore[operator]
                    boxes = [x for k, x in enumerate(boxes) if k not in (i, j)] + [merged]
                    changed = True
                    break
            if changed:
                break
    return boxes


def gaps(ctx: CheckContext, compiled: Compiled) -> list[Finding]:
    findings = []
    registry = compiled.registry
    features = {f.name: f for f in registry.features}
    neutral, required, held = neutral_values(registry), required_values(registry), neutral_text(registry)
    for topic_iri, mine in sorted(_by_topic(compiled.classifier.variants).items()):
        label = ctx.label(topic_iri) or f"topic {mine[0].topic}"
        for gap in topic_gaps(compiled, mine):
            if gap.excluded is not None:
                name, value = gap.excluded
                findings.append(
                    Finding(
                        "variant-gap",
                        Level.INFO,
                        f"{label}: no variant accepts {name} '{value}'",
                        (ctx.entity(topic_iri),),
                        witness=_case({**neutral, **required, name: value}, compiled),
                    )
                )
                continue
            case = {**required, **neutral}
            case.update({name: pick(c, features.get(name)) for name, c in gap.box.items()})
            shown = [(k, c) for k, c in gap.box.items() if c != domain(features[k])]  # a whole domain says nothing
            described = ", ".join(describe(k, c) for k, c in sorted(shown, key=lambda kv: features[kv[0]].order))
            findings.append(
                Finding(
                    "variant-gap",
                    Level.INFO,
                    f"{label}: no variant covers {described or 'any case'} ({held})",
                    (ctx.entity(topic_iri),),
                    witness=_refuted(case, compiled, mine),
                )
            )
    return findings


def _case(data: dict[str, Any], compiled: Compiled) -> dict[str, Any] | None:
    try:
        return parse_case(data, compiled.registry).to_json()
    except CaseError:
        return None


def _refuted(data: dict[str, Any], compiled: Compiled, mine: list[CompiledVariant]) -> dict[str, Any] | None:
    """The case as a witness when it is valid and every variant of the topic refutes it."""
    try:
        case = parse_case(data, compiled.registry)
    except CaseError:
        return None
    if any(all(r is not False for r in v.evaluate(case)) for v in mine if compiled.region(v) is not None):
        return None
    return case.to_json()


__all__ = ["Compiled", "Gap", "Interval", "check_definitions", "reference_overlaps", "topic_gaps", "witness"]
