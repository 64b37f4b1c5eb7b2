"""The fast path: the variants' OWL class axioms compiled into predicates over a patient case.

The OWL reasoner defines which variants a case belongs to (``axilla_kg.reasoning.reasoner``), but it costs
a JVM start and tens of milliseconds per case. The class axioms only use a small, decidable
fragment — an intersection of ``hasValue``, ``someValuesFrom oneOf`` and ``someValuesFrom``
datatype-facet restrictions on functional properties — whose meaning for one fully described
individual is a plain conjunction of tests. This module reads those axioms from the graph (so a
draft topic passed with ``--data`` is compiled too) and refuses any construct outside the
fragment instead of guessing. ``tests/test_fast_path.py`` checks with hypothesis that the result
equals HermiT's classification.

Each test is three-valued: satisfied, violated, or unknown (the case leaves the field out). A
match needs every test satisfied, exactly what the reasoner entails under the open world; a
variant with no violated test is a candidate (the reasoner entails neither the class nor its
complement); the unknown tests give ``needs`` and the violated ones ``differs_in``. Which
property is which case field comes from the feature registry (:mod:`axilla_kg.contract.features`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from axilla_kg.contract.cases import PatientCase
from axilla_kg.contract.features import FACET_OPS, Condition, Derivation, Feature, Registry, within
from axilla_kg.errors import CompileError
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.results import Term
from axilla_kg.vocab import AX, OWL, RDF, RDFS, XSD

PATIENT_CASE = AX + "PatientCase"

SATISFIED, VIOLATED, UNKNOWN = True, False, None


@dataclass(frozen=True)
class Test:
    """One restriction of a variant class, as a test on one case field."""

    field: str
    kind: str  # "in" | "bound"
    values: frozenset[Any] = frozenset()  # kind "in": accepted case values (strings, or one boolean)
    op: str = ""  # kind "bound": >=, >, <=, <
    limit: Decimal = Decimal(0)

    def evaluate(self, value: Any) -> bool | None:
        if value is None:
            return UNKNOWN
        if self.kind == "in":
            return value in self.values
        return within(value, self.op, self.limit)

    def describe(self) -> str:
        if self.kind == "in":
            return " or ".join(sorted(v if isinstance(v, str) else ("true" if v else "false") for v in self.values))
        return f"{self.op} {self.limit}"


@dataclass
class CompiledVariant:
    topic: str
    number: int
    variant_iri: str
    class_iri: str
    tests: list[Test] = field(default_factory=list)
    topic_iri: str = ""
    #: the registry's derivation rules (``ax:DerivationRule``) that read or derive a field this
    #: variant tests: their class axioms let the reasoner refute the variant by contraposition
    derivations: tuple[Derivation, ...] = ()

    @property
    def fields(self) -> list[str]:
        return sorted({t.field for t in self.tests})

    def evaluate(self, case: PatientCase) -> list[bool | None]:
        values = case.values
        results = self.tested(case)
        if self.refutable(results):
            self._refute_by_derivation(values, results)
        return results

    def tested(self, case: PatientCase) -> list[bool | None]:
        """Each test's result on the case's own values (before any refutation by derivation)."""
        values = case.values
        return [t.evaluate(values.get(t.field)) for t in self.tests]

    def refutable(self, tested: Sequence[bool | None]) -> bool:
        """Whether a derivation rule may still refute the variant, given its tests' results: only a
        candidate (no test violated, some unknown) of a variant with derivation rules. Otherwise
        :meth:`evaluate` is :meth:`tested` and reads nothing but the tested fields."""
        return bool(self.derivations) and None in tested and False not in tested

    def _refute_by_derivation(self, values: dict[str, Any], results: list[bool | None]) -> None:
        """What HermiT concludes from a derivation rule's class axiom read backwards: if the case's
        facts together with this variant's still-unknown criteria imply every condition of a rule
        that derives a value other than the one the case (or the variant) gives the derived
        field, no completion of the case is in the variant. The unknown criteria used are marked
        violated (a rule reads single facts, so one rule at a time decides it exactly)."""
        unknown = {i: t for i, t in enumerate(self.tests) if results[i] is None}
        for rule in self.derivations:
            used: list[int] = []
            stated = values.get(rule.feature)
            if stated is None:
                fixed = [i for i, t in unknown.items() if t.field == rule.feature and t.kind == "in"]
                if len(fixed) != 1 or len(self.tests[fixed[0]].values) != 1:
                    continue
                used += fixed
                (stated,) = self.tests[fixed[0]].values
            if stated == rule.value:
                continue
            for condition in rule.conditions:
                known = values.get(condition.field)
                if known is not None:
                    if not condition.holds(known):
                        break
                    continue
                implying = [i for i, t in unknown.items() if t.field == condition.field and _implies(t, condition)]
                if not implying:
                    break
                used.append(implying[0])
            else:
                for i in used:
                    results[i] = VIOLATED
                return

    def matches(self, case: PatientCase) -> bool:
        values = case.values
        return all(t.evaluate(values.get(t.field)) is True for t in self.tests)

    def constraints(self) -> dict[str, frozenset[Test]]:
        out: dict[str, set[Test]] = {}
        for t in self.tests:
            out.setdefault(t.field, set()).add(t)
        return {k: frozenset(s) for k, s in out.items()}

    def differing_fields(self, other: CompiledVariant) -> list[str]:
        """The case fields this variant and ``other`` constrain differently (sorted by name)."""
        mine, theirs = self.constraints(), other.constraints()
        return sorted(f for f in set(mine) | set(theirs) if mine.get(f, frozenset()) != theirs.get(f, frozenset()))


class _Walker:
    """Reads one class expression from the CONSTRUCTed triples; anything unexpected is an error."""

    def __init__(self, triples: Sequence[tuple[Term, Term, Term]], registry: Registry):
        self.out: dict[Term, dict[str, list[Term]]] = {}
        for s, p, o in triples:
            self.out.setdefault(s, {}).setdefault(p.value, []).append(o)
        self.features = registry.by_prop()

    def _one(self, node: Term, pred: str, where: str) -> Term:
        objs = self.out.get(node, {}).get(pred, [])
        if len(objs) != 1:
            raise CompileError(f"{where}: expected exactly one <{pred}>, found {len(objs)}")
        return objs[0]

    def _list(self, node: Term, where: str) -> list[Term]:
        items: list[Term] = []
        while not (isinstance(node, ox.NamedNode) and node.value == RDF + "nil"):
            items.append(self._one(node, RDF + "first", where))
            node = self._one(node, RDF + "rest", where)
            if len(items) > 10_000:
                raise CompileError(f"{where}: RDF list does not end")
        return items

    def _check_keys(self, node: Term, allowed: set[str], where: str) -> None:
        extra = set(self.out.get(node, {})) - allowed
        if extra:
            names = ", ".join(sorted(e.replace(OWL, "owl:").replace(RDFS, "rdfs:") for e in extra))
            raise CompileError(f"{where}: unsupported OWL construct ({names}); the fast path cannot evaluate it")

    def tests(self, expr: Term, where: str) -> list[Test]:
        if isinstance(expr, ox.NamedNode):
            raise CompileError(
                f"{where}: equivalent to a named class; only an intersection of restrictions is supported"
            )
        self._check_keys(expr, {RDF + "type", OWL + "intersectionOf"}, where)
        members = self._list(self._one(expr, OWL + "intersectionOf", where), where)
        tests: list[Test] = []
        for member in members:
            if isinstance(member, ox.NamedNode):
                if member.value != PATIENT_CASE:
                    raise CompileError(f"{where}: named class <{member.value}> in the intersection is not supported")
                continue
            tests.append(self._restriction(member, where))
        return tests

    def _restriction(self, node: Term, where: str) -> Test:
        self._check_keys(node, {RDF + "type", OWL + "onProperty", OWL + "hasValue", OWL + "someValuesFrom"}, where)
        prop = self._one(node, OWL + "onProperty", where)
        feature = self.features.get(prop.value)
        if feature is None:
            raise CompileError(f"{where}: property <{prop.value}> is not a patient-case feature (no ax:caseProperty)")
        name = feature.name
        preds = self.out.get(node, {})
        if OWL + "hasValue" in preds:
            value = self._one(node, OWL + "hasValue", where)
            if isinstance(value, ox.Literal):
                lexical = value.value
                if feature.kind != "boolean" or value.datatype.value != XSD + "boolean":
                    raise CompileError(f"{where}: hasValue {lexical} on {name}: only a boolean on a boolean feature")
                if lexical not in ("true", "1", "false", "0"):
                    raise CompileError(f"{where}: hasValue {lexical} on {name}: not a boolean")
                return Test(name, "in", frozenset([lexical in ("true", "1")]))
            return Test(name, "in", frozenset([self._case_value(feature, value, where)]))
        filler = self._one(node, OWL + "someValuesFrom", where)
        fpreds = self.out.get(filler, {})
        if OWL + "oneOf" in fpreds:
            self._check_keys(filler, {RDF + "type", OWL + "oneOf"}, where)
            items = self._list(self._one(filler, OWL + "oneOf", where), where)
            return Test(name, "in", frozenset(self._case_value(feature, i, where) for i in items))
        if OWL + "onDatatype" in fpreds:
            self._check_keys(filler, {RDF + "type", OWL + "onDatatype", OWL + "withRestrictions"}, where)
            facets = self._list(self._one(filler, OWL + "withRestrictions", where), where)
            if len(facets) != 1:
                raise CompileError(f"{where}: {name}: exactly one facet per restriction is supported")
            (pred, objs), *rest = self.out.get(facets[0], {}).items()
            facet = pred.replace(XSD, "")
            if rest or len(objs) != 1 or facet not in FACET_OPS or not isinstance(objs[0], ox.Literal):
                raise CompileError(f"{where}: {name}: unsupported datatype facet <{pred}>")
            return Test(name, "bound", op=FACET_OPS[facet], limit=Decimal(objs[0].value))
        raise CompileError(f"{where}: {name}: someValuesFrom must be a oneOf or a datatype restriction")

    def _case_value(self, feature: Feature, value: Term, where: str) -> str:
        text = feature.value_of(value.value) if isinstance(value, ox.NamedNode) else None
        if text is None:
            shown = value.value
            raise CompileError(f"{where}: <{shown}> is not a case value of '{feature.name}', so no case can carry it")
        return str(text)


@dataclass
class Classifier:
    """Every variant class of the graph, compiled."""

    variants: list[CompiledVariant]
    registry: Registry

    @classmethod
    def from_graph(cls, kg: KnowledgeGraph, registry: Registry | None = None) -> Classifier:
        registry = registry if registry is not None else Registry.from_graph(kg)
        walker = _Walker(kg.read("variant-class-structure").triples, registry)
        variants: list[CompiledVariant] = []
        for v, cls_iri, expr, topic, number, topic_iri in _rows(kg, "variant-classes"):
            where = f"variant class <{cls_iri.value}>"
            if expr is None:
                raise CompileError(f"{where}: no owl:equivalentClass definition")
            tests = walker.tests(expr, where)
            tested = {t.field for t in tests}
            compiled = CompiledVariant(
                topic.value,
                int(number.value),
                v.value,
                cls_iri.value,
                tests,
                topic_iri.value,
                tuple(
                    r
                    for r in registry.derivations
                    if r.feature in tested or any(c.field in tested for c in r.conditions)
                ),
            )
            variants.append(compiled)
        return cls(variants, registry)

    def matches(self, case: PatientCase) -> list[CompiledVariant]:
        return [v for v in self.variants if v.matches(case)]


def _implies(test: Test, condition: Condition) -> bool:
    """Whether every value passing ``test`` satisfies ``condition`` (both on one field)."""
    if not condition.op:
        return test.kind == "in" and bool(test.values) and test.values <= condition.values
    if test.kind != "bound":
        return False
    up, down = test.op in ("<", "<="), condition.op in ("<", "<=")
    if up != down:
        return False
    if test.limit != condition.limit:
        return test.limit < condition.limit if up else test.limit > condition.limit
    # equal limits: a strict test implies either; a non-strict one only a non-strict condition
    return test.op in ("<", ">") or condition.op in ("<=", ">=")


def _rows(kg: KnowledgeGraph, name: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in kg.read(name).rows]
