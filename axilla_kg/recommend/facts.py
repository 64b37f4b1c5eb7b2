"""What a class of case (:mod:`axilla_kg.recommend.partition`) shows the variant definitions, without a case.

Batch mode meets a new class of case every other line on real data, and reading one of its cases
with the contract (the defaults, their exceptions, the derived facts) to evaluate every variant on
it cost most of a new class's time. But what a variant's evaluation
(:meth:`CompiledVariant.evaluate`) reads of a case is little:

* the result of each of its tests on the field's value as the contract reads it;
* for a variant with derivation rules (refuted by contraposition), whether each rule's conditions
  hold and whether the derived field has the rule's value.

Call these the field's *probes*. A field's class fixes every probe on it (the partition separates
the values by the variants' tests and by every value set and bound of the contract's rules and
derivations) — except for the fields whose value the contract may fill in: a default (which an
exception may suspend) or a derived value. Those few *filled* fields are read once per class of
the fields their value depends on (:meth:`Partition.reading`), from one case of the class, and
remembered: so a new class's *effective key* (each field's class as the contract reads it) costs a
few lookups, and the results of all its probes (field by field, from per-class tables) one C-level
pass. A variant's status is a function of the results it reads — its tests', and, only where a
derivation rule may still refute it, its rules' probes — so batch mode picks those out
(``itemgetter``) and evaluates a variant once per value of them (on member values of the
effective classes, which give every probe the same result as the case's own values), not once per
class; most new classes evaluate nothing and read no case.

Exactness is the recommender's to define: ``tests/test_classanswers.py`` holds the compiled answers
equal to :meth:`Recommender.recommend` with hypothesis over the whole contract.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from itertools import chain
from operator import getitem, itemgetter
from typing import Any, NamedTuple

from axilla_kg.contract.cases import CaseReader, PatientCase
from axilla_kg.contract.features import Derivation
from axilla_kg.recommend.classify import Classifier, Test
from axilla_kg.recommend.memo import Memo
from axilla_kg.recommend.partition import ABSENT, Key, Partition, picker

#: Filled fields' readings remembered per field (a few hundred occur in a varied batch).
MAX_FILLED = 20_000
ASSUMED, DERIVED = "assumed", "derived"
_CODE = itemgetter(0)  # a Filled's code (its first item)


class Filled(NamedTuple):
    """How the contract reads a field it may fill in, for one class of the fields that decide it."""

    code: int  # the class of the value as read (a given value's class, or the unknown class)
    how: str  # ASSUMED (from the default), DERIVED, or "" (given, or not known)
    name: str
    value: Any  # the value as read (None: not known)


class ClassFacts:
    """``class key -> (effective key, probe results, filled fields)``, read from the partition's
    tables and, for a filled field met in a new combination of the classes deciding it, one case."""

    def __init__(self, partition: Partition, reader: CaseReader, classifier: Classifier) -> None:
        self.partition, self.reader = partition, reader
        registry = partition.registry
        names = registry.fields
        filled = {f.name for f in registry.features if f.default is not None}
        filled |= {d.feature for d in registry.derivations} | {e.feature for e in registry.default_exceptions}
        #: per filled field: its position, name, the classes deciding it and their readings
        self.filled: list[tuple[int, str, Callable[[Key], Any], Memo[Any, Filled]]] = [
            (p, name, picker(partition.reading([name])), Memo(MAX_FILLED))
            for p, name in enumerate(names)
            if name in filled
        ]
        #: per field, the probes on its value: the variants' tests (the partition's distinct tests, in
        #: its order), the derivations' conditions, and (the derived field) whether it has each
        #: derivation's value
        probes: list[list[Callable[[Any], bool | None]]] = [[t.evaluate for t in c.tests] for c in partition.fields]
        rules = {id(d): d for d in registry.derivations}
        rules |= {id(d): d for v in classifier.variants for d in v.derivations}  # (the same ones, shipped)
        placed: dict[int, list[tuple[int, int]]] = {}  # rule (id) -> its probes (field, index in its probes)
        for rule in rules.values():
            for position, probe in (
                (names.index(rule.feature), _equals(rule.value)),
                *((names.index(c.field), _known(c.holds)) for c in rule.conditions),
            ):
                placed.setdefault(id(rule), []).append((position, len(probes[position])))
                probes[position].append(probe)
        self.probes = probes
        #: where each field's probe results start in a class's results (:meth:`of`)
        self.starts = list(itertools.accumulate((len(p) for p in probes), initial=0))
        self.rule_probes = {rule: [self.starts[p] + i for p, i in at] for rule, at in placed.items()}
        #: per field: class -> its probes' results (grown as numbers meet new classes)
        self.tables: list[list[tuple[bool | None, ...]]] = [[] for _ in partition.fields]
        self._grow()

    def test_at(self, test: Test) -> int:
        """Where a variant test's result is in a class's results."""
        position = self.partition.registry.fields.index(test.field)
        return self.starts[position] + self.partition.fields[position].tests.index(test)

    def rule_at(self, rule: Derivation) -> list[int]:
        """Where the probes a derivation rule's refutation reads are in a class's results: whether
        the derived field has the rule's value, and whether each of its conditions holds (each
        ``None`` when the field is not known)."""
        return self.rule_probes[id(rule)]

    def _grow(self) -> None:
        for classes, table, probes in zip(self.partition.fields, self.tables, self.probes, strict=True):
            for code in range(len(table), len(classes.members)):
                member = classes.members[code]
                value = None if member is ABSENT else member
                table.append(tuple([probe(value) for probe in probes]))

    def of(self, key: Key) -> tuple[Key, tuple[bool | None, ...], tuple[Filled, ...], PatientCase | None]:
        """The effective key, the results of every probe (field by field, see :meth:`test_at`), the
        filled fields' readings, and the case read for them (``None`` when every reading was
        remembered). ``key``: a valid class."""
        effective_key, readings, case = self.readings(key)
        try:
            results = tuple(chain.from_iterable(map(getitem, self.tables, effective_key)))
        except IndexError:  # a number met in a new class since the tables were grown
            self._grow()
            results = tuple(chain.from_iterable(map(getitem, self.tables, effective_key)))
        return effective_key, results, readings, case

    def of_many(
        self, keys: Sequence[Key]
    ) -> tuple[list[Key], list[tuple[bool | None, ...]], list[tuple[Filled, ...]], dict[int, PatientCase]]:
        """:meth:`of` for many classes at once, column by column: the effective keys, the probe
        results and the filled fields' readings (each equal to :meth:`of`'s), and the cases read for
        new readings (by position in ``keys``). Each field is one C-level ``map`` over its table, so
        a class whose readings are remembered runs no Python code of its own (a worker answers a
        share of hundreds of new classes at a time: :meth:`ClassAnswers.tails`)."""
        if not keys:
            return [], [], [], {}
        columns: list[Sequence[Any]] = list(zip(*keys, strict=True))
        cases: dict[int, PatientCase] = {}
        filled: list[list[Filled]] = []
        for position, name, deciding, memo in self.filled:
            decided = list(map(deciding, keys))
            found: list[Any] = list(map(memo.get, decided))
            if None in found:  # (a few hundred readings in a varied batch)
                for i in [i for i, reading in enumerate(found) if reading is None]:
                    reading = memo.get(decided[i])  # (an earlier class of this call may have read it)
                    if reading is None:
                        case = cases.get(i)
                        if case is None:
                            case = cases[i] = self.reader.parse(self.partition.member(keys[i]))
                        reading = memo[decided[i]] = self._filled(case, position, name)
                    found[i] = reading
            columns[position] = list(map(_CODE, found))
            filled.append(found)
        effective: list[Key] = list(zip(*columns, strict=True))
        self._grow()  # (the numbers met in new classes since: once per lot, not a retry per class)
        probed = [list(map(table.__getitem__, column)) for table, column in zip(self.tables, columns, strict=True)]
        results = list(map(tuple, map(chain.from_iterable, zip(*probed, strict=True))))
        readings: list[tuple[Filled, ...]] = list(zip(*filled, strict=True)) if filled else [()] * len(keys)
        return effective, results, readings, cases

    def case(self, key: Key) -> PatientCase:
        """One case of the class, as the contract reads it — the case of the class's member values
        (:meth:`Partition.member`), its values in the contract's field order with the assumed and
        derived ones marked — from the member values and the filled fields' readings, without
        reading it again (a case is read only if a reading is new). ``key``: a valid class."""
        _, readings, case = self.readings(key)
        if case is not None:
            return case
        filled = {reading.name: reading for reading in readings}
        values = {}
        for classes, code in zip(self.partition.fields, key, strict=True):
            name = classes.feature.name
            reading = filled.get(name)
            value = classes.members[code] if reading is None else reading.value
            if value is not ABSENT and value is not None:
                values[name] = value
        assumed = frozenset([r.name for r in readings if r.how == ASSUMED])
        return PatientCase(values, assumed, frozenset([r.name for r in readings if r.how == DERIVED]))

    def readings(self, key: Key) -> tuple[Key, tuple[Filled, ...], PatientCase | None]:
        """The effective key, the filled fields' readings, and the case read for them (``None``
        when every reading was remembered)."""
        effective = list(key)
        case: PatientCase | None = None
        readings = []
        for position, name, deciding, memo in self.filled:
            decided = deciding(key)
            found = memo.get(decided)
            if found is None:
                if case is None:
                    case = self.reader.parse(self.partition.member(key))
                found = memo[decided] = self._filled(case, position, name)
            effective[position] = found.code
            readings.append(found)
        return tuple(effective), tuple(readings), case

    def _filled(self, case: PatientCase, position: int, name: str) -> Filled:
        value = case.values.get(name)
        how = ASSUMED if name in case.assumed else DERIVED if name in case.derived else ""
        return Filled(self.partition.fields[position].code(value), how, name, value)

    def values(self, effective: Key) -> PatientCase:
        """A case (unchecked) whose values give every probe the results the class's cases give:
        a member value of each effective class. What a variant is evaluated on."""
        values = {}
        for classes, code in zip(self.partition.fields, effective, strict=True):
            member = classes.members[code]
            if member is not ABSENT and member is not None:
                values[classes.feature.name] = member
        return PatientCase(values)


def _equals(expected: Any) -> Callable[[Any], bool | None]:
    return lambda value: None if value is None else value == expected


def _known(holds: Callable[[Any], bool]) -> Callable[[Any], bool | None]:
    return lambda value: None if value is None else holds(value)
