"""The patient-case feature registry: one home for what a case can say, read from the ontology.

Every case field is an ``ax:PatientFeature`` in ``ontology/terminology.ttl``: its JSON field name
(``ax:caseField``), the ``ax:PatientCase`` property the variant classes use (``ax:caseProperty``),
its position (``ax:caseOrder``), help text (``rdfs:label``, ``skos:definition``), an optional
default (``ax:caseDefault``, only for facts nearly every user shares), numeric limits, and, for an
enumeration, its value individuals (``ax:valueOfFeature`` + ``ax:caseValue``). Contradictions
between fields are ``ax:CaseRule`` individuals, and each variant-definition property names the
feature it constrains (``ax:constrainsFeature``, ``ax:boundFacet``).

The case contract (:mod:`axilla_kg.contract.cases`), the fast classifier, the reasoner bridge, the
variant-class generator, ``derive``, the batch cell key and the CLI flags all read this registry,
so adding a feature is an ontology edit, not a code change (``tests/test_registry.py`` proves it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from axilla_kg.errors import DataError
from axilla_kg.graph.reads import read_store, texts
from axilla_kg.vocab import OWL, XSD

KINDS = {XSD + "decimal": "decimal", XSD + "integer": "integer", XSD + "boolean": "boolean"}
FACETS = ("minInclusive", "minExclusive", "maxInclusive", "maxExclusive")
#: the ontology files that hold the registry (the schema and the terminology)
REGISTRY_FILES = ("core.ttl", "terminology.ttl")

Row = tuple[str | None, ...]
Runner = Callable[[str], list[Row]]


@dataclass(frozen=True)
class Feature:
    """One field of the patient-case contract."""

    name: str
    iri: str
    prop: str  # the ax:PatientCase property
    label: str
    help: str
    kind: str  # "enum" | "decimal" | "integer" | "boolean"
    order: int
    values: tuple[str, ...] = ()  # enum: the case values, in order
    value_iris: dict[str, str] = field(default_factory=dict)  # enum: case value -> individual IRI
    default: Any = None
    required: bool = False
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    positive: bool = False
    unit: str = ""
    #: the value the check command's gap search holds the feature at (``ax:gapNeutralValue``)
    neutral: Any = None
    #: a value no variant of a topic accepts is reported alone (``ax:gapReportedAlone``)
    reported_alone: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def value_of(self, iri: str) -> str | None:
        """The case value an individual stands for (enum features), or None."""
        for text, value_iri in self.value_iris.items():
            if value_iri == iri:
                return text
        return None

    def choices(self) -> str:
        if self.kind == "enum":
            return "|".join(self.values)
        if self.kind == "boolean":
            return "true|false"
        return self.unit or self.kind


@dataclass(frozen=True)
class Condition:
    """One fact a rule needs: ``field`` has one of ``values``, or (a numeric field) satisfies
    ``op limit``. An unknown field never satisfies a condition."""

    field: str
    values: frozenset[Any] = frozenset()
    op: str = ""  # ">=", ">", "<=", "<" for a bound
    limit: Decimal = Decimal(0)

    def holds(self, value: Any) -> bool:
        if value is None:
            return False
        if not self.op:
            return value in self.values
        return within(value, self.op, self.limit)

    def describe(self) -> str:
        if self.op:
            return f"{self.field} {self.op} {self.limit}"
        shown = sorted(v if isinstance(v, str) else ("true" if v else "false") for v in self.values)
        return f"{self.field} {' or '.join(shown)}"


#: facet -> comparison, for conditions on numeric fields
FACET_OPS = {"minInclusive": ">=", "minExclusive": ">", "maxInclusive": "<=", "maxExclusive": "<"}


def within(value: Any, op: str, limit: Decimal) -> bool:
    """``value op limit`` for one of the four comparisons of :data:`FACET_OPS` (a rule's condition
    and a variant's datatype-facet test compare a number to a bound the same way)."""
    if op == "<=":
        return bool(value <= limit)
    if op == "<":
        return bool(value < limit)
    if op == ">=":
        return bool(value >= limit)
    return bool(value > limit)


@dataclass(frozen=True)
class Derivation:
    """When a case gives every condition, ``feature`` is ``value`` (a case that gives another
    value contradicts it). Mirrored by an OWL class axiom, so the reasoner derives the same."""

    iri: str
    label: str
    feature: str
    value: Any
    value_iri: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Rule:
    """A contradiction: when ``field`` is given (with a value in ``when``, if set), ``other`` must
    be one of ``allows`` — and must be given at all when ``needs_other``."""

    iri: str
    label: str
    field: str
    other: str
    allows: frozenset[Any]
    when: frozenset[Any] | None = None
    needs_other: bool = False
    #: further facts the case must give for the rule to apply
    conditions: tuple[Condition, ...] = ()
    #: False (``ax:rulePresupposes false``): only a consistency check of given values; the next
    #: question may ask ``field`` while ``other`` is unknown
    presupposes: bool = True


@dataclass(frozen=True)
class DefaultException:
    """When ``field`` is given with a value in ``when``, ``feature``'s default is not assumed."""

    iri: str
    label: str
    feature: str
    field: str
    when: frozenset[Any]


@dataclass(frozen=True)
class Registry:
    features: tuple[Feature, ...]
    rules: tuple[Rule, ...] = ()
    #: variant-definition property IRI -> (feature name, facet or "" for accepted values)
    definition_props: dict[str, tuple[str, str]] = field(default_factory=dict)
    default_exceptions: tuple[DefaultException, ...] = ()
    derivations: tuple[Derivation, ...] = ()

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """The field names in contract order (computed once: the recommender asks per list it orders)."""
        return tuple(f.name for f in self.features)

    @cached_property
    def named(self) -> dict[str, Feature]:
        """Field name -> feature (built once: the next-question search looks features up by name a lot)."""
        return {f.name: f for f in self.features}

    def __getitem__(self, name: str) -> Feature:
        return self.named[name]

    def by_prop(self) -> dict[str, Feature]:
        return {f.prop: f for f in self.features}

    def by_iri(self) -> dict[str, Feature]:
        return {f.iri: f for f in self.features}

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.features if f.default is not None}

    # --- building ----------------------------------------------------------------------------
    @classmethod
    def from_runner(cls, run: Runner) -> Registry:
        """Build from a runner of the read layer's internal queries (``queries/internal/registry-*.rq``,
        :mod:`axilla_kg.graph.reads`) that returns rows of plain strings (``None`` unbound)."""
        values: dict[str, list[tuple[int, str, str]]] = {}
        for feat, iri, text, order in run("registry-values"):
            assert feat is not None and iri is not None and text is not None
            values.setdefault(feat, []).append((int(order or 0), text, iri))
        gap = {feat: (neutral, alone == "true") for feat, neutral, alone in run("vocab-feature-gap-values")}
        features: list[Feature] = []
        for row in run("registry-features"):
            iri, name, prop, label, help_text, order, ptype, rng, default, dflt_dt, required = row[:11]
            minimum, maximum, positive, unit = row[11:]
            assert iri is not None and name is not None and prop is not None
            where = f"feature <{iri}> ('{name}')"
            if ptype == OWL + "ObjectProperty":
                kind = "enum"
            else:
                kind = KINDS.get(rng or "", "")
                if not kind:
                    raise DataError(f"{where}: its case property <{prop}> has no supported datatype range ({rng})")
            mine = sorted(values.get(iri, []))
            if kind == "enum" and not mine:
                raise DataError(f"{where}: no values (individuals with ax:valueOfFeature and ax:caseValue)")
            value_iris = {text: value_iri for _, text, value_iri in mine}
            neutral, alone = gap.get(iri, (None, False))
            features.append(
                Feature(
                    name=name,
                    iri=iri,
                    prop=prop,
                    label=label or name,
                    help=help_text or "",
                    kind=kind,
                    order=int(order or 0),
                    values=tuple(text for _, text, _ in mine),
                    value_iris=value_iris,
                    default=_default(kind, default, dflt_dt, value_iris, where),
                    required=required == "true",
                    minimum=Decimal(minimum) if minimum is not None else None,
                    maximum=Decimal(maximum) if maximum is not None else None,
                    positive=positive == "true",
                    unit=unit or "",
                    neutral=_default(kind, neutral, None, value_iris, f"{where} (gap-search value)"),
                    reported_alone=alone,
                )
            )
        features.sort(key=lambda f: (f.order, f.name))
        names = [f.name for f in features]
        if len(set(names)) != len(names):
            raise DataError(f"two patient features share a case field name: {sorted(names)}")
        by_iri = {f.iri: f for f in features}
        definition_props: dict[str, tuple[str, str]] = {}
        for pred, feat, facet in run("registry-definition-properties"):
            assert pred is not None and feat is not None
            if feat not in by_iri:
                raise DataError(f"<{pred}> constrains <{feat}>, which is not a case feature")
            if facet and facet not in FACETS:
                raise DataError(f"<{pred}>: unknown bound facet '{facet}'")
            definition_props[pred] = (by_iri[feat].name, facet or "")
        conditions = _conditions(run, by_iri)
        return cls(
            tuple(features),
            tuple(_rules(run, by_iri, conditions)),
            definition_props,
            tuple(_exceptions(run, by_iri)),
            tuple(_derivations(run, by_iri, conditions)),
        )

    @classmethod
    def from_graph(cls, kg: Any) -> Registry:
        """From a :class:`~axilla_kg.graph.knowledge.KnowledgeGraph` (shipped graph plus any ``--data``)."""

        def run(name: str) -> list[Row]:
            return texts(kg.read(name))

        return cls.from_runner(run)

    @classmethod
    def from_files(cls, paths: Sequence[Path]) -> Registry:
        import pyoxigraph

        store = pyoxigraph.Store()
        for path in paths:
            try:
                store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
            except (SyntaxError, OSError) as exc:
                raise DataError(f"{path}: {exc}") from exc

        def run(name: str) -> list[Row]:
            return texts(read_store(store, name))

        return cls.from_runner(run)


def _default(kind: str, text: str | None, datatype: str | None, value_iris: dict[str, str], where: str) -> Any:
    if text is None:
        return None
    if kind == "enum":
        for case_value, iri in value_iris.items():
            if iri == text:
                return case_value
        raise DataError(f"{where}: ax:caseDefault <{text}> is not one of its values")
    if kind == "boolean":
        return text in ("true", "1")
    if kind == "integer":
        return int(text)
    return Decimal(text)


def _conditions(run: Runner, by_iri: dict[str, Feature]) -> dict[str, list[Condition]]:
    """The ``ax:ruleCondition`` nodes of every case rule and derivation rule, by rule IRI."""
    nodes: dict[tuple[str, str], dict[str, Any]] = {}
    for iri, node, cfield, value, facet, limit in run("registry-conditions"):
        assert iri is not None and node is not None
        where = f"rule <{iri}>"
        if cfield not in by_iri:
            raise DataError(f"{where}: a condition needs ax:conditionField naming a case feature")
        entry = nodes.setdefault((iri, node), {"feature": by_iri[cfield], "values": set(), "bound": None})
        if value is not None:
            entry["values"].add(_case_value(entry["feature"], value, where))
        if facet is not None or limit is not None:
            if facet not in FACET_OPS or limit is None or entry["feature"].kind not in ("decimal", "integer"):
                raise DataError(f"{where}: a bound condition needs a numeric feature, a facet and a limit")
            entry["bound"] = (FACET_OPS[facet], Decimal(limit))
    out: dict[str, list[Condition]] = {}
    for (iri, _), entry in sorted(nodes.items()):
        name = entry["feature"].name
        if (entry["bound"] is None) == (not entry["values"]):
            raise DataError(f"rule <{iri}>: a condition on '{name}' needs either ax:conditionValue or a bound")
        if entry["bound"] is not None:
            out.setdefault(iri, []).append(Condition(name, op=entry["bound"][0], limit=entry["bound"][1]))
        else:
            out.setdefault(iri, []).append(Condition(name, frozenset(entry["values"])))
    return out


def _rules(run: Runner, by_iri: dict[str, Feature], conditions: dict[str, list[Condition]]) -> list[Rule]:
    found: dict[str, dict[str, Any]] = {}
    for iri, label, fld, other, needs, presupposes, pred, value in run("registry-rules"):
        assert iri is not None and fld is not None and other is not None
        if fld not in by_iri or other not in by_iri:
            raise DataError(f"case rule <{iri}>: ax:ruleField and ax:ruleOtherField must be case features")
        rule = found.setdefault(
            iri,
            {
                "label": label or iri,
                "field": by_iri[fld],
                "other": by_iri[other],
                "needs": needs == "true",
                "presupposes": presupposes not in ("false", "0"),
            },
        )
        if pred is not None and value is not None:
            target = rule["field"] if pred.endswith("ruleWhen") else rule["other"]
            rule.setdefault(pred.rsplit("#", 1)[-1], set()).add(_case_value(target, value, f"case rule <{iri}>"))
    out = []
    for iri, r in sorted(found.items()):
        if "ruleAllows" not in r:
            raise DataError(f"case rule <{iri}>: no ax:ruleAllows")
        when = r.get("ruleWhen")
        out.append(
            Rule(
                iri,
                r["label"],
                r["field"].name,
                r["other"].name,
                frozenset(r["ruleAllows"]),
                frozenset(when) if when is not None else None,
                r["needs"],
                tuple(sorted(conditions.get(iri, []), key=Condition.describe)),
                r["presupposes"],
            )
        )
    return out


def _derivations(run: Runner, by_iri: dict[str, Feature], conditions: dict[str, list[Condition]]) -> list[Derivation]:
    out = []
    for iri, label, feat, value in run("registry-derivations"):
        assert iri is not None
        where = f"derivation rule <{iri}>"
        if feat not in by_iri or value is None or not conditions.get(iri):
            raise DataError(f"{where}: needs ax:derivesFeature (a case feature), ax:derivesValue and ax:ruleCondition")
        feature = by_iri[feat]
        if feature.kind != "enum":
            raise DataError(f"{where}: only an enumerated feature can be derived")
        derived = _case_value(feature, value, where)
        if any(c.field == feature.name for c in conditions[iri]):
            raise DataError(f"{where}: a derivation cannot depend on the feature it derives")
        out.append(
            Derivation(
                iri, label or iri, feature.name, derived, value, tuple(sorted(conditions[iri], key=Condition.describe))
            )
        )
    return out


def _exceptions(run: Runner, by_iri: dict[str, Feature]) -> list[DefaultException]:
    found: dict[str, tuple[str, Feature, Feature, set[Any]]] = {}
    for iri, label, feat, fld, value in run("registry-exceptions"):
        assert iri is not None
        where = f"default exception <{iri}>"
        if feat not in by_iri or fld not in by_iri or value is None:
            raise DataError(f"{where}: needs ax:suspendsDefaultOf, ax:ruleField (case features) and ax:ruleWhen")
        if by_iri[feat].default is None:
            raise DataError(f"{where}: '{by_iri[feat].name}' has no ax:caseDefault to suspend")
        entry = found.setdefault(iri, (label or iri, by_iri[feat], by_iri[fld], set()))
        entry[3].add(_case_value(entry[2], value, where))
    return [
        DefaultException(iri, label, feature.name, other.name, frozenset(values))
        for iri, (label, feature, other, values) in sorted(found.items())
    ]


def _case_value(feature: Feature, value: str, where: str) -> Any:
    if feature.kind == "enum":
        text = feature.value_of(value)
        if text is None:
            raise DataError(f"{where}: <{value}> is not a value of '{feature.name}'")
        return text
    if feature.kind == "boolean":
        return value in ("true", "1")
    return Decimal(value)


@cache
def shipped_registry() -> Registry:
    """The registry of the shipped ontology (what the CLI flags and a plain ``parse_case`` use)."""
    from axilla_kg.resources import ontology_dir

    return Registry.from_files([ontology_dir() / name for name in REGISTRY_FILES])
