"""Variant definitions as regions of the patient-case space: interval and set algebra per field.

The compiled classifier (:mod:`axilla_kg.recommend.classify`) turns each variant's OWL class into
tests on case fields; every field is a functional property of ``ax:PatientCase`` whose values are
either named individuals declared pairwise different (``owl:AllDifferent``) or literals of one
datatype. In that fragment a class is a box: a set of accepted values per enumerated field and
an interval per numeric field, and HermiT's answers reduce to set and interval algebra —
``A ⊓ B`` is satisfiable exactly when, field by field, the accepted sets meet and the intervals
meet (for ``xsd:integer``, in an integer). This module does that algebra; ``checks.definitions``
uses it instead of a reasoner call per pair, and ``tests/test_definitions_symbolic.py`` holds it
equal to HermiT. The feature limits of the case contract (``ax:caseMinimum`` ...) are annotations
the reasoner does not see, so overlaps ignore them; witnesses and gaps, which must be valid
cases, respect them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from axilla_kg.contract.features import Feature
from axilla_kg.recommend.classify import CompiledVariant


@dataclass(frozen=True)
class Interval:
    """A set of numbers: ``lo``/``hi`` None for unbounded; ``integer`` for xsd:integer fields."""

    lo: Decimal | None = None
    lo_open: bool = True
    hi: Decimal | None = None
    hi_open: bool = True
    integer: bool = False

    def intersect(self, other: Interval) -> Interval:
        lo, lo_open = self.lo, self.lo_open
        if other.lo is not None and (lo is None or other.lo > lo or (other.lo == lo and other.lo_open)):
            lo, lo_open = other.lo, other.lo_open
        hi, hi_open = self.hi, self.hi_open
        if other.hi is not None and (hi is None or other.hi < hi or (other.hi == hi and other.hi_open)):
            hi, hi_open = other.hi, other.hi_open
        return Interval(lo, lo_open, hi, hi_open, self.integer or other.integer)

    def _integer_bounds(self) -> tuple[int | None, int | None]:
        low = None if self.lo is None else (math.floor(self.lo) + 1 if self.lo_open else math.ceil(self.lo))
        high = None if self.hi is None else (math.ceil(self.hi) - 1 if self.hi_open else math.floor(self.hi))
        return low, high

    def empty(self) -> bool:
        if self.integer:
            low, high = self._integer_bounds()
            return low is not None and high is not None and low > high
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and (self.lo_open or self.hi_open))

    def contains(self, x: Decimal) -> bool:
        if self.integer and x != x.to_integral_value():
            return False
        if self.lo is not None and (x < self.lo or (x == self.lo and self.lo_open)):
            return False
        return not (self.hi is not None and (x > self.hi or (x == self.hi and self.hi_open)))

    def pick(self) -> Decimal:
        """A value inside (the interval must not be empty): a round number where there is one."""
        if self.integer:
            low, high = self._integer_bounds()
            if (low is None or low <= 50) and (high is None or high >= 50):
                return Decimal(50)
            return Decimal(low if low is not None else high)  # type: ignore[arg-type]
        if self.lo is None and self.hi is None:
            return Decimal(1)
        if self.lo is None:
            assert self.hi is not None
            return self.hi if not self.hi_open else self.hi - 1
        if self.hi is None:
            return self.lo + 1 if self.lo_open else self.lo
        if not self.lo_open:
            return self.lo
        if not self.hi_open:
            return self.hi
        return (self.lo + self.hi) / 2

    def describe(self) -> str:
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {self.lo}")
        if self.hi is not None:
            parts.append(f"{'<' if self.hi_open else '<='} {self.hi}")
        return " and ".join(parts) or "any"


Constraint = frozenset[Any] | Interval
Region = dict[str, Constraint]
"""Field → accepted values (a frozenset) or an Interval; a field left out accepts anything."""


def meet(a: Constraint, b: Constraint) -> Constraint:
    if isinstance(a, Interval) and isinstance(b, Interval):
        return a.intersect(b)
    if isinstance(a, frozenset) and isinstance(b, frozenset):
        return a & b
    raise ValueError("a set and an interval on one field")


def is_empty(c: Constraint) -> bool:
    return c.empty() if isinstance(c, Interval) else not c


def admits(c: Constraint, value: Any) -> bool:
    if isinstance(c, Interval):
        return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and c.contains(Decimal(value))
    return value in c


def region_of(variant: CompiledVariant, features: dict[str, Feature]) -> Region | None:
    """The variant's box, or None when it is empty (an unsatisfiable definition)."""
    region: Region = {}
    for t in variant.tests:
        if t.kind == "in":
            c: Constraint = frozenset(t.values)
        else:
            integer = features[t.field].kind == "integer" if t.field in features else False
            if t.op in (">", ">="):
                c = Interval(lo=t.limit, lo_open=t.op == ">", integer=integer)
            else:
                c = Interval(hi=t.limit, hi_open=t.op == "<", integer=integer)
        region[t.field] = meet(region[t.field], c) if t.field in region else c
        if is_empty(region[t.field]):
            return None
    return region


def intersect(a: Region, b: Region) -> Region | None:
    """The common part of two boxes, or None when they do not meet."""
    out = dict(a)
    for name, c in b.items():
        out[name] = meet(out[name], c) if name in out else c
        if is_empty(out[name]):
            return None
    return out


def empty_field(variant: CompiledVariant, features: dict[str, Feature]) -> str | None:
    """The first field whose tests cannot all hold (why a definition is unsatisfiable), or None."""
    seen: Region = {}
    for t in variant.tests:
        single = region_of(CompiledVariant(variant.topic, variant.number, "", "", [t]), features)
        if single is None:
            return t.field
        c = single[t.field]
        seen[t.field] = meet(seen[t.field], c) if t.field in seen else c
        if is_empty(seen[t.field]):
            return t.field
    return None


def domain(feature: Feature) -> Constraint:
    """Every valid case value of a field (what a gap search ranges over)."""
    if feature.kind == "enum":
        return frozenset(feature.values)
    if feature.kind == "boolean":
        return frozenset([False, True])
    lo = Decimal(0) if feature.positive else feature.minimum
    return Interval(
        lo=lo,
        lo_open=feature.positive and feature.minimum is None,
        hi=feature.maximum,
        hi_open=False,
        integer=feature.kind == "integer",
    )


def pick(c: Constraint, feature: Feature | None = None) -> Any:
    """A value of the constraint, as a case JSON value (inside the field's valid range if possible)."""
    if isinstance(c, frozenset):
        return sorted(c, key=str)[0]
    inside = c.intersect(domain(feature)) if feature is not None and feature.kind in ("integer", "decimal") else c  # type: ignore[arg-type]
    value = (inside if not inside.empty() else c).pick()
    return int(value) if c.integer else float(value)


def describe(name: str, c: Constraint) -> str:
    if isinstance(c, Interval):
        return f"{name} {c.describe()}"
    values = sorted(("true" if v else "false") if isinstance(v, bool) else str(v) for v in c)
    return f"{name}={'|'.join(values)}"


def atoms(dom: Constraint, parts: list[Constraint | None]) -> list[tuple[Constraint, frozenset[int]]]:
    """Split a field's domain into pieces on which each of ``parts`` (None: accepts all) is constant.

    Returns (piece, indices of the parts that accept it); pieces no part distinguishes are merged,
    so the number of pieces is at most the number of distinct acceptance patterns (sets) or of
    thresholds (intervals), never the size of the domain.
    """
    everyone = frozenset(i for i, p in enumerate(parts) if p is None)
    if isinstance(dom, frozenset):
        groups: dict[frozenset[int], set[Any]] = {}
        for value in sorted(dom, key=str):
            accepting = everyone | frozenset(i for i, p in enumerate(parts) if isinstance(p, frozenset) and value in p)
            groups.setdefault(accepting, set()).add(value)
        return [(frozenset(values), accepting) for accepting, values in groups.items()]
    cuts = sorted(
        {b for p in parts if isinstance(p, Interval) for b in (p.lo, p.hi) if b is not None}
        | {b for b in (dom.lo, dom.hi) if b is not None}
    )
    pieces: list[Interval] = []
    previous: Decimal | None = None
    for cut in cuts:
        pieces.append(Interval(previous, True, cut, True, dom.integer))
        pieces.append(Interval(cut, False, cut, False, dom.integer))
        previous = cut
    pieces.append(Interval(previous, True, None, True, dom.integer))
    out: list[tuple[Constraint, frozenset[int]]] = []
    for piece in pieces:
        piece = piece.intersect(dom)
        if piece.empty():
            continue
        probe = piece.pick()
        accepting = everyone | frozenset(
            i for i, p in enumerate(parts) if isinstance(p, Interval) and p.contains(probe)
        )
        if out and out[-1][1] == accepting and isinstance(out[-1][0], Interval):
            last = out[-1][0]
            out[-1] = (Interval(last.lo, last.lo_open, piece.hi, piece.hi_open, dom.integer), accepting)
        else:
            out.append((piece, accepting))
    return out


def condition_constraint(condition: Any, features: dict[str, Feature]) -> Constraint:
    """A derivation rule's condition (``registry.derivations``) as a constraint on its field."""
    if not getattr(condition, "op", ""):
        return frozenset(condition.values)
    integer = condition.field in features and features[condition.field].kind == "integer"
    if condition.op in (">", ">="):
        return Interval(lo=condition.limit, lo_open=condition.op == ">", integer=integer)
    return Interval(hi=condition.limit, hi_open=condition.op == "<", integer=integer)


def _within(piece: Constraint, c: Constraint) -> bool:
    """The piece (an atom with respect to ``c``) lies inside ``c``."""
    if isinstance(piece, frozenset) and isinstance(c, frozenset):
        return piece <= c
    if isinstance(piece, Interval) and isinstance(c, Interval):
        return not piece.empty() and c.contains(piece.pick())
    return False


def feasible(region: Region, derivations: Sequence[Any], features: dict[str, Feature]) -> Region | None:
    """A part of ``region`` that the derivation rules allow, or None when they rule all of it out.

    A derivation rule (``registry.derivations``, mirrored by an OWL class axiom) says that a case
    with every one of its conditions has ``feature`` = ``value``. A box meets it when some case in
    the box either misses a condition or has that value: a field the box leaves open can stay
    unknown (no condition on it holds), so only the fields the box constrains are split, into the
    pieces the conditions distinguish, and the first piece no rule contradicts is returned.
    """
    if not derivations:
        return region
    conditions: dict[str, list[Constraint]] = {}
    for d in derivations:
        for c in d.conditions:
            if c.field in region:
                conditions.setdefault(c.field, []).append(condition_constraint(c, features))
    names = sorted(conditions)
    choices = [[piece for piece, _ in atoms(region[n], list(conditions[n]))] for n in names]
    for combo in itertools.product(*choices):
        cell = dict(region)
        cell.update(zip(names, combo, strict=True))
        derived: dict[str, Any] = {}
        ok = True
        for d in derivations:
            if all(c.field in cell and _within(cell[c.field], condition_constraint(c, features)) for c in d.conditions):
                if derived.get(d.feature, d.value) != d.value:
                    ok = False
                    break
                derived[d.feature] = d.value
        for name, value in derived.items():
            if not ok:
                break
            if name in cell and not admits(cell[name], value):
                ok = False
            else:
                cell[name] = frozenset([value])
        if ok:
            return cell
    return None
