"""The equivalence classes of patient cases under the compiled variant definitions: batch mode's cache key.

A recommendation depends on a case only through the three-valued result of every variant test
(:mod:`axilla_kg.recommend.classify`) and through which fields were assumed from a default; whether
the case is valid at all depends on the contract's rules between fields. So two cases whose fields
fall, one by one, into the same *class* get the same answer (apart from the echoed ``case``):

* an enumerated or boolean value counts only through the outcome of each distinct test on its field
  and through its membership in every value set a contract rule names for that field;
* a number counts only through which side of each bound it lies on: the bounds are read from the
  compiled classifier (age 18, tumour size 2 cm, ... whatever the definitions say), never listed here;
* a field left out and a field sent as ``null`` are both "not known" — unless the field has a
  registry default, where leaving it out assumes the default (its own class) and ``null`` does not.

Each field's classes are numbered; a case's key is the tuple of its fields' class numbers, in the
registry's order. The tables are built once from the classifier, the registry and its rules, so a
new topic with new bounds or a new case field changes the key with no code change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import and_, itemgetter
from typing import Any

import msgspec

from axilla_kg.contract.cases import CaseError, CaseReader, PatientCase
from axilla_kg.contract.features import Feature, Registry
from axilla_kg.recommend.classify import Classifier, Test
from axilla_kg.recommend.memo import Memo

#: A field the case leaves out (msgspec's marker, as the batch reader decodes it).
ABSENT: Any = msgspec.UNSET
Key = tuple[int, ...]


@dataclass
class FieldClasses:
    """One case field's classes: what a value of it can change in an answer."""

    feature: Feature
    position: int
    tests: tuple[Test, ...]  # the distinct variant tests on this field
    value_sets: tuple[frozenset[Any], ...]  # the value sets contract rules name for this field
    bounds: tuple[Test, ...] = ()  # the bounds contract rules' conditions put on it (a number field)
    codes: dict[Any, int] = field(default_factory=dict)  # value (None: null, ABSENT: left out) -> class
    members: list[Any] = field(default_factory=list)  # class -> one value of it (None, ABSENT, a value)
    outcomes: list[tuple[bool | None, ...]] = field(default_factory=list)  # class -> results of ``tests``
    signatures: dict[tuple[Any, ...], int] = field(default_factory=dict)

    @property
    def numeric(self) -> bool:
        return self.feature.kind in ("integer", "decimal")

    def _signature(self, value: Any) -> tuple[Any, ...]:
        if value is ABSENT and self.feature.default is not None:
            return ("assumed", *self._signature(self.feature.default))
        if value is None or value is ABSENT:
            return ("unknown",)
        return ("given", tuple(t.evaluate(value) for t in self.tests), self._seen_by_rules(value))

    def _seen_by_rules(self, value: Any) -> tuple[Any, ...]:
        """What the contract's rules see of a given value: its sets and the sides of their bounds."""
        if self.numeric:
            return tuple(t.evaluate(value) for t in self.bounds)
        return tuple(value in s for s in self.value_sets)

    def code(self, value: Any) -> int:
        """The class of a valid value (numbers are classed on first sight and not remembered here)."""
        found = self.codes.get(value) if not self.numeric or value is None or value is ABSENT else None
        if found is not None:
            return found
        signature = self._signature(value)
        code = self.signatures.get(signature)
        if code is None:
            code = self.signatures[signature] = len(self.members)
            self.members.append(value)
            evaluated = self.feature.default if value is ABSENT and self.feature.default is not None else value
            self.outcomes.append(tuple(t.evaluate(None if evaluated is ABSENT else evaluated) for t in self.tests))
        if not self.numeric or value is None or value is ABSENT:
            self.codes[value] = code
        return code


class Partition:
    """The classes of every case field, read from a compiled classifier and its registry."""

    def __init__(self, classifier: Classifier, registry: Registry) -> None:
        self.registry = registry
        tests: dict[str, dict[Test, None]] = {name: {} for name in registry.fields}
        for variant in classifier.variants:
            for test in variant.tests:
                tests[test.field][test] = None  # distinct tests, in a fixed order
        # what the contract itself looks at besides the definitions: the value sets and bounds of its
        # rules, their conditions, the derivation rules and the exceptions to defaults
        sets: dict[str, dict[frozenset[Any], None]] = {name: {} for name in registry.fields}
        bounds: dict[str, dict[Test, None]] = {name: {} for name in registry.fields}
        conditions = [c for rule in registry.rules for c in rule.conditions]
        conditions += [c for derivation in registry.derivations for c in derivation.conditions]
        for rule in registry.rules:
            if rule.when is not None:
                sets[rule.field][rule.when] = None
            sets[rule.other][rule.allows] = None
        for derivation in registry.derivations:
            sets[derivation.feature][frozenset([derivation.value])] = None
        for exception in registry.default_exceptions:
            sets[exception.field][exception.when] = None
        for condition in conditions:
            if condition.op:
                bounds[condition.field][Test(condition.field, "bound", op=condition.op, limit=condition.limit)] = None
            else:
                sets[condition.field][condition.values] = None
        self.fields = [
            FieldClasses(
                feature, position, tuple(tests[feature.name]), tuple(sets[feature.name]), tuple(bounds[feature.name])
            )
            for position, feature in enumerate(registry.features)
        ]
        for classes in self.fields:
            for value in (None, ABSENT, *_values(classes.feature)):
                classes.code(value)

    def reading(self, names: Iterable[str]) -> tuple[int, ...]:
        """The positions (sorted) of the fields whose classes decide how the contract reads the
        fields ``names``: the fields themselves, the fields whose values suspend their defaults,
        and the facts they are derived from (transitively). What a variant's tests see of a case
        is a function of the classes at these positions of the fields it tests."""
        registry = self.registry
        found = set(names)
        todo = list(found)
        while todo:
            name = todo.pop()
            more = {e.field for e in registry.default_exceptions if e.feature == name}
            more |= {c.field for d in registry.derivations if d.feature == name for c in d.conditions}
            for extra in more - found:
                found.add(extra)
                todo.append(extra)
        return tuple(sorted(registry.fields.index(name) for name in found))

    def key_of(self, case: PatientCase) -> Key:
        """The class key of a validated case (the strict path's)."""
        values, absent = case.values, case.assumed | case.derived  # assumed or derived: not given
        return tuple(c.code(ABSENT if c.feature.name in absent else values.get(c.feature.name)) for c in self.fields)

    def member(self, key: Key) -> dict[str, Any]:
        """One case object of the class (as a program would send it: left-out fields absent)."""
        out: dict[str, Any] = {}
        for classes, code in zip(self.fields, key, strict=True):
            value = classes.members[code]
            if value is not ABSENT:
                out[classes.feature.name] = value
        return out

    def outcomes(self, key: Key) -> list[tuple[bool | None, ...]]:
        """Per field (registry order), the results of its distinct tests for the class."""
        return [classes.outcomes[code] for classes, code in zip(self.fields, key, strict=True)]


#: Verdicts remembered per check of the contract (each reads a few fields: tens of combinations).
MAX_VERDICTS = 20_000
#: the most fields a group of checks reads together (a group's verdicts stay a few hundred)
GROUP_FIELDS = 5


class Validity:
    """Whether the cases of a class are valid, decided by the contract one check at a time.

    The contract refuses a case (whose values each pass their field's check) for a missing required
    field, for a rule between fields (a contradiction, a missing other field) or for a given value a
    derivation rule contradicts; each rule looks at a few fields only. So a case is valid exactly
    when, for every rule, the contract with that rule alone accepts it, and the contract with the
    derivation rules alone accepts it — and each of those verdicts is a function of what the checks
    see of the few fields they read, so of those fields' classes: it is remembered per value of
    them, and a new class's validity is a few lookups, not a case read."""

    def __init__(self, partition: Partition) -> None:
        self.partition = partition
        registry = partition.registry
        at = {c.feature.name: c.position for c in partition.fields}
        required = [f.name for f in registry.features if f.required]
        only = dataclasses.replace(registry, rules=(), derivations=())
        checks: list[tuple[Registry, list[str]]] = [
            (dataclasses.replace(only, rules=(rule,)), [rule.field, rule.other, *(c.field for c in rule.conditions)])
            for rule in registry.rules
        ]
        if registry.derivations:
            derived = [name for d in registry.derivations for name in (d.feature, *(c.field for c in d.conditions))]
            checks.append((dataclasses.replace(only, derivations=registry.derivations), derived))
        if not checks and required:  # (each check above reads the required fields too)
            checks.append((only, []))
        reads = [sorted({at[name] for name in (*names, *required)}) for _, names in checks]
        #: per check: class key -> the classes of the fields it reads (and of the required fields), its
        #: reader, its verdicts
        self.checks: list[tuple[Callable[[tuple[int, ...]], Any], CaseReader, Memo[Any, bool]]] = [
            (itemgetter(*read), CaseReader(sub), Memo(MAX_VERDICTS))
            for (sub, _), read in zip(checks, reads, strict=True)
        ]
        # Most checks read the same two fields and one more: grouped (by what they read) while a group
        # reads at most GROUP_FIELDS fields, a new class looks up one verdict per group (the checks'
        # verdicts all hold), about a third of the lookups; a group's verdict is its checks' on a miss.
        #: per group: class key -> the classes of the fields its checks read, its checks (indices), its verdicts
        self.groups: list[tuple[Callable[[tuple[int, ...]], Any], list[int], Memo[Any, bool]]] = []
        members: list[int] = []
        fields: set[int] = set()
        for i in sorted(range(len(reads)), key=reads.__getitem__):
            if members and len(fields.union(reads[i])) > GROUP_FIELDS:
                self.groups.append((itemgetter(*sorted(fields)), members, Memo(MAX_VERDICTS)))
                members, fields = [], set()
            members.append(i)
            fields.update(reads[i])
        if members:
            self.groups.append((itemgetter(*sorted(fields)), members, Memo(MAX_VERDICTS)))

    def __call__(self, key: Key) -> bool:
        """Whether a case of the class is valid. ``key``: a class of valid field values."""
        return self.many([key])[0]

    def many(self, keys: Sequence[Key]) -> list[bool]:
        """Whether a case of each class is valid, group by group: each group's verdicts looked up for
        all the classes in one C-level pass, and worked out only where new (batch mode checks the new
        classes of a block together)."""
        valid = [True] * len(keys)
        for seen, members, verdicts in self.groups:
            reads = list(map(seen, keys))
            found: list[Any] = list(map(verdicts.get, reads))
            for i in [i for i, verdict in enumerate(found) if verdict is None]:
                if not valid[i]:  # (refused by an earlier group: this one's checks are not run)
                    found[i] = False
                    continue
                verdict = verdicts.get(reads[i])  # (an earlier class of the lot may have decided it)
                if verdict is None:
                    verdict = verdicts[reads[i]] = all(self._verdict(c, keys[i]) for c in members)
                found[i] = verdict
            valid = list(map(and_, valid, found))
        return valid

    def _verdict(self, check: int, key: Key) -> bool:
        """One check's verdict on the class (the contract with that check alone reads a case of it
        once per value of what the check reads)."""
        seen, reader, verdicts = self.checks[check]
        read = seen(key)
        verdict = verdicts.get(read)
        if verdict is None:
            try:
                reader.parse(self.partition.member(key))
                verdict = True
            except CaseError:
                verdict = False
            verdicts[read] = verdict
        return verdict


def _nothing(items: Any) -> tuple[()]:
    return ()


def picker(positions: Iterable[int]) -> Callable[[Any], tuple[Any, ...]]:
    """``key -> the classes at positions`` (or any sequence -> its items there), always a tuple:
    ``itemgetter`` of one position gives the item itself and of none is an error. A C-level
    ``itemgetter`` for two or more, since batch mode calls these once per new class and part."""
    chosen = list(positions)
    if not chosen:
        return _nothing
    if len(chosen) == 1:
        (only,) = chosen
        return lambda items: (items[only],)
    return itemgetter(*chosen)


def _values(feature: Feature) -> Iterable[Any]:
    if feature.kind == "enum":
        return feature.values
    if feature.kind == "boolean":
        return (True, False)
    return ()
