"""Batch mode's next question, compiled: a field's score from tables shared across classes of case.

:meth:`Decider.field_score` is the definition. It reads the case only through what a case admits
of the field (:meth:`Decider.admission`: whether the field applies, its presupposed values, which
values the contract accepts with the given facts) and, when the field is derived or an open
variant tests a derived field, through :meth:`Decider.shares_key`. Everything else depends on the
set of open variants and the field alone. A batch meets tens of thousands of new classes of case
over a few thousand sets of open variants, so here the score is taken apart along those lines:

* per field and classes of the fields :attr:`Decider.reads` names for it (shared by every set of
  open variants): the :class:`~axilla_kg.recommend.decide.Admission`;
* per field and pattern of the open variants' unknown tests on it (:class:`Pattern`, shared by the
  sets with that pattern): the values tried, the variants each rules out (a bit mask over their
  positions) and, per subset of admitted values, the grouped answers;
* per set of open variants (:class:`OpenScoring`): the variants' priors, the procedures each kept
  subset decides, and the score per (field, admitted values, shares). A score reads the shares
  key only through the shares of the derived fields' values (:meth:`Scorer._number`): the many
  shares keys of a batch make few distinct shares, and equal shares share the scores.

The figures are computed by the same expressions, in the same order, as :meth:`Decider.field_score`
and :meth:`Decider._weights` (so every float, and every rounded figure of ``why``, is the same);
``tests/test_question_scoring.py`` holds the compiled next question equal to
:meth:`Decider.next_question` on random cases over the whole contract.

Memory stays flat: the shared tables are :class:`~axilla_kg.recommend.memo.Memo` s, the small
tables inside an entry are cleared past ``_SMALL`` entries, and what is kept per set of open
variants goes with that set (batch mode counts it in ``MAX_SCORES`` and forgets the least recently
asked sets with theirs). A batch keeps about a hundred thousand scores, so each is kept small: its
question is a slotted :class:`_Question`, not a closure, and the keys of the sets' tables are kept
once (:meth:`Scorer.interned`: 80,000 scores of 200,000 varied lines have 4,000 distinct keys).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import mul
from typing import Any

from axilla_kg.contract.cases import PatientCase
from axilla_kg.recommend.decide import Admission, Decider, Open, decided_count
from axilla_kg.recommend.memo import Memo
from axilla_kg.recommend.partition import picker

Key = tuple[int, ...]
#: a score and its question (JSON bytes once rendered, else the function that builds the object)
Scored = list[Any]
#: entries of a small per-entry table (admitted subsets of a pattern or an admission) before it is cleared
_SMALL = 32
#: kept masks remembered per :class:`Deciding` table before its counts start afresh
_MANY = 4_096
_UNSEEN: Any = object()
#: numbers for the derived fields' shares (never given twice in a process: a number always means the same shares)
_SIDS = itertools.count(1)


@dataclass
class Pattern:
    """One field's values over one pattern of the open variants' unknown tests on it."""

    values: tuple[Any, ...]
    drops: tuple[int, ...]  # per value: the open variants it rules out, a bit mask over their positions
    limits: set[Decimal]  # the bounds of the variants' tests on the field (how number answers are shown)
    #: admitted values (their indices) -> the answers (:class:`Answers`); None when no admitted
    #: answer rules anything out
    groups: dict[tuple[int, ...], Answers | None] = field(default_factory=dict)
    #: the most variants a value rules out (:meth:`Scorer.bound`)
    out: int = field(init=False)
    #: per :meth:`Decider.deciding` table (by its id, the table kept with it): the most wanted
    #: procedures the variants a value keeps decide (:meth:`Scorer.bound`)
    most: dict[int, tuple[Any, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = max([drop.bit_count() for drop in self.drops], default=0)


@dataclass(frozen=True)
class Answers:
    """A field's distinct answers for some admitted values (:meth:`Decider._grouped`)."""

    answers: list[tuple[list[Any], int, tuple[int, ...]]]  # (shown values, ruled-out mask, kept positions)
    kept: list[int]  # per answer: the variants it keeps, a bit mask over their positions
    out: list[int]  # per answer: how many variants it rules out
    keeping: list[tuple[int, ...]]  # the distinct sets of answers that keep a variant
    mine: list[int]  # per open variant: its set of answers that keep it (an index into ``keeping``)
    #: the last shares the answers were weighed with: (shares, each answer's unit, each set's units summed)
    units: list[Any] = field(default_factory=lambda: [None, [], []])


@dataclass
class Deciding:
    """A :meth:`Decider.deciding` table, kept once per content (a batch's 5,317 sets of open
    variants make 1,508 distinct tables: sets that differ in unknown tests or in variants that
    rate none of the wanted procedures the same way share one), with how many procedures each
    subset of the variants (a kept mask) decides: those counts, and a pattern's bound, are then
    worked out once per table instead of once per set."""

    table: list[tuple[int, tuple[int, ...]]]
    counts: dict[int, int] = field(default_factory=dict)  # kept mask -> :func:`decided_count`

    def count(self, kept: int) -> int:
        found = self.counts.get(kept)
        if found is None:
            if len(self.counts) >= _MANY:
                self.counts.clear()
            found = self.counts[kept] = decided_count(self.table, kept)
        return found


@dataclass
class _Admitted:
    """An :class:`Admission` with the admitted values remembered per tuple of values tried."""

    admission: Admission
    admitted: dict[tuple[Any, ...], tuple[int, ...] | None] = field(default_factory=dict)


@dataclass
class OpenScoring:
    """All that scoring remembers for one set of open variants."""

    opened: Sequence[Open]
    wanted: frozenset[str]
    depending: list[bool]  # per variant: whether its prior depends on the shares key (it tests a derived field)
    testing: dict[str, list[tuple[int, Open]]]  # per field: the variants with unknown tests on it (positions)
    depends: bool = field(init=False)  # some variant's prior depends on the shares key
    patterns: dict[str, Pattern] = field(default_factory=dict)
    priors: dict[int, list[float]] = field(default_factory=dict)  # the shares' number (or 0) -> per variant
    #: :meth:`Decider.deciding` of the wanted procedures and its counts (built when first needed)
    deciding: Deciding | None = None
    scores: dict[tuple[Any, ...], Scored | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.depends = any(self.depending)


class Scorer:
    """Field scores for batch mode (one per :class:`ClassAnswers`); ``names``: the registry fields
    in partition order (a class key holds one class per field, in this order)."""

    def __init__(self, decider: Decider, names: Sequence[str], limit: int = 20_000) -> None:
        self.decider = decider
        self.order = order = {name: i for i, name in enumerate(names)}
        self.getters: dict[tuple[Any, ...], Any] = Memo(4_000)
        self.field_reads: dict[tuple[str, bool], tuple[str, frozenset[int], Callable[[Key], Any]]] = {}
        self.reads = {name: picker(sorted(order[n] for n in decider.reads[name])) for name in names}
        self.prior_reads = picker(sorted(order[n] for n in decider.prior_reads))
        self.derived = decider.derived_fields
        self.admissions: dict[tuple[Any, ...], _Admitted] = Memo(limit)
        self.patterns: dict[tuple[Any, ...], Pattern] = Memo(limit)
        #: the classes of :attr:`Decider.prior_reads` -> (the number of the shares, the shares key), and
        #: the shares key -> the same; the number keys the scores and priors (:meth:`_number`)
        self.shares_keys: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = Memo(limit)
        self.numbered: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = Memo(limit)
        self.sids: dict[tuple[Any, ...], int] = Memo(limit)
        #: (a variant and its unknown tests, the shares key's number or 0) -> its prior (:meth:`Decider.prior_at`)
        self.priors: dict[tuple[Any, int], float] = Memo(limit)
        #: (a derived field, the shares key's number) -> the shares of its values (:meth:`Decider.shares_at`)
        self.shares: dict[tuple[str, int], dict[Any, float]] = Memo(limit)
        self.computed = 0  # scores computed (not found remembered), for measurements
        #: one copy of each key the open sets' tables keep (a few thousand distinct keys stand for
        #: the hundred thousand entries of a batch's open sets; :meth:`interned`)
        self.keys: dict[Any, Any] = Memo(limit)
        #: the :class:`Deciding` tables by content
        self.decidings: dict[tuple[Any, ...], Deciding] = Memo(limit)

    def getters_of(
        self, asked: tuple[str, ...], depends: bool
    ) -> tuple[Callable[[Key], Any], list[tuple[str, Callable[[Key], Any]]]]:
        """For the fields a next question may ask: the getter of the classes all their scores read,
        and each field with the getter of the classes its score reads (:attr:`Decider.reads`, and
        :attr:`Decider.prior_reads` when ``depends``: a variant tests a derived field). Remembered
        (50,000 varied lines meet about 1,800 such sets), and each field's getter on its own."""
        key = (asked, depends)
        found = self.getters.get(key)
        if found is None:
            fields = [self._field_reads(name, depends) for name in asked]
            every: set[int] = set()
            for _, positions, _ in fields:
                every |= positions
            found = self.getters[key] = (picker(sorted(every)), [(name, reads) for name, _, reads in fields])
        return found

    def _field_reads(self, name: str, depends: bool) -> tuple[str, frozenset[int], Callable[[Key], Any]]:
        """A field, the positions of the classes its score reads and their getter (remembered)."""
        key = (name, depends)
        found = self.field_reads.get(key)
        if found is None:
            decider = self.decider
            names = decider.reads[name] | decider.prior_reads if depends else decider.reads[name]
            positions = frozenset(self.order[n] for n in names)
            found = self.field_reads[key] = (name, positions, picker(sorted(positions)))
        return found

    def open_scoring(self, opened: Sequence[Open], wanted: frozenset[str]) -> OpenScoring:
        testing: dict[str, list[tuple[int, Open]]] = {}
        derived = self.derived
        depending = []
        for j, o in enumerate(opened):
            on = o.unknown_on
            for name in on:
                found = testing.get(name)
                if found is None:
                    testing[name] = [(j, o)]
                else:
                    found.append((j, o))
            depending.append(not derived.isdisjoint(on))  # (Decider.prior_depends)
        return OpenScoring(opened, wanted, depending, testing)

    def score(self, state: OpenScoring, name: str, key: Key, case: Callable[[], PatientCase]) -> Scored | None:
        """Field ``name``'s score and question for the class ``key`` (``case``: a case of it, read
        only when something is not remembered), as :meth:`Decider.field_score` gives them."""
        classes = (name, self.reads[name](key))
        admitted = self.admissions.get(classes)
        if admitted is None:
            admitted = self.admissions[classes] = _Admitted(self.decider.admission(name, case()))
        if not admitted.admission.applies:
            return None
        pattern = state.patterns.get(name)
        if pattern is None:
            pattern = state.patterns[name] = self._pattern(name, len(state.opened), state.testing[name])
        chosen = admitted.admitted.get(pattern.values, _UNSEEN)
        if chosen is _UNSEEN:
            if len(admitted.admitted) >= _SMALL:
                admitted.admitted.clear()
            chosen = admitted.admitted[pattern.values] = _admit(admitted.admission, pattern.values)
        if chosen is None:
            return None
        sid = 0  # no shares: the field is not derived and no variant tests a derived field
        shares_key = None
        if state.depends or name in self.derived:
            prior = self.prior_reads(key)
            known = self.shares_keys.get(prior)
            if known is None:
                shares_key = self.decider.shares_key(case())
                known = self.numbered.get(shares_key)
                if known is None:
                    known = self.numbered[shares_key] = (self._number(shares_key, case), shares_key)
                self.shares_keys[prior] = known
            sid, shares_key = known
        signature = (name, chosen, sid)
        found = state.scores.get(signature, _UNSEEN)
        if found is _UNSEEN:
            found = self._score(state, name, pattern, chosen, sid, shares_key, case)
            state.scores[self.interned(signature)] = found
            self.computed += 1
        return found

    def bound(self, state: OpenScoring, name: str) -> tuple[int, int, int]:
        """A bound on field ``name``'s score over these open variants, whatever the case: its
        answers' weights sum to one, so what an answer decides on average (and rules out) is at
        most the most that any answer of the field decides (rules out) — and an answer keeps the
        variants that none of its values rules out, so each is one of the values' (a field's
        answers group values that rule out the same variants). A field whose bound is below a
        score found is not scored (:meth:`ClassAnswers._next_question`). Compared as the score is:
        (decides, rules out, minus the field's order); ``decides`` and ``rules_out`` are whole
        numbers here, so the score's rounding to nine places keeps it within the bound."""
        pattern = state.patterns.get(name)
        if pattern is None:
            pattern = state.patterns[name] = self._pattern(name, len(state.opened), state.testing[name])
        deciding = state.deciding or self._deciding(state)
        known = pattern.most.get(id(deciding))
        if known is not None and known[0] is deciding:  # (many open sets share both)
            return (known[1], pattern.out, -self.decider.order[name])
        whole = (1 << len(state.opened)) - 1  # (the pattern's: its key holds the count)
        count = deciding.count
        most = 0
        for drop in pattern.drops:
            now = count(whole ^ drop)
            if now > most:
                most = now
        if len(pattern.most) >= _SMALL:
            pattern.most.clear()
        pattern.most[id(deciding)] = (deciding, most)
        return (most, pattern.out, -self.decider.order[name])

    def _deciding(self, state: OpenScoring) -> Deciding:
        """The open variants' :class:`Deciding` table (the one object of its content)."""
        table = self.decider.deciding(state.opened, state.wanted)
        content = tuple(table)
        found = self.decidings.get(content)
        if found is None:
            found = self.decidings[content] = Deciding(table)
        state.deciding = found
        return found

    def interned(self, key: Any) -> Any:
        """An equal key kept before (so the tables of many open sets share one copy), else ``key``."""
        found = self.keys.get(key)
        if found is None:
            found = self.keys[key] = key
        return found

    def _number(self, shares_key: tuple[Any, ...], case: Callable[[], PatientCase]) -> int:
        """The number of the derived fields' shares for a case whose shares key is ``shares_key``:
        all that a score reads through the shares key (the weights of a derived field's answers,
        and the priors of the variants with unknown tests on derived fields, :meth:`Decider._share`).
        Equal shares get one number (the 185 shares keys of 50,000 varied lines make 14 shares),
        compared bit for bit."""
        decider = self.decider
        values = tuple(
            tuple((v, share.hex()) for v, share in decider.shares_at(decider.registry[name], shares_key, case).items())
            for name in sorted(self.derived)
        )
        sid = self.sids.get(values)
        if sid is None:
            sid = self.sids[values] = next(_SIDS)
        return sid

    def _pattern(self, name: str, n: int, testing: list[tuple[int, Open]]) -> Pattern:
        """The field's values and what each rules out, for ``n`` open variants of which ``testing``
        (with their positions) have unknown tests on the field (the others are kept by every answer)."""
        key = (name, n, tuple([(j, o.variant.variant_iri, o.unknown_at[name]) for j, o in testing]))
        found = self.patterns.get(key)
        if found is None:
            feature = self.decider.registry[name]
            values = self.decider.field_values(feature, [o for _, o in testing])
            drops = []
            for value in values:
                mask = 0
                for j, o in testing:
                    if not o.keeps(name, value):
                        mask |= 1 << j
                drops.append(mask)
            limits = {t.limit for _, o in testing for t in o.unknown_on[name] if t.kind == "bound"}
            found = self.patterns[key] = Pattern(tuple(values), tuple(drops), limits)
        return found

    def _answers(self, name: str, pattern: Pattern, chosen: tuple[int, ...], n: int) -> Answers | None:
        """:meth:`Decider._grouped` for the admitted values: answers grouped by what they rule out."""
        groups: dict[int, list[Any]] = {}
        for i in chosen:
            groups.setdefault(pattern.drops[i], []).append(pattern.values[i])
        if not any(groups):
            return None
        feature = self.decider.registry[name]
        answers = [
            (self.decider.shown(feature, kept, pattern.limits), mask, tuple(j for j in range(n) if not mask >> j & 1))
            for mask, kept in groups.items()
        ]
        mine: list[list[int]] = [[] for _ in range(n)]
        for i, (_, _, kept) in enumerate(answers):
            for j in kept:
                mine[j].append(i)
        keeping: dict[tuple[int, ...], int] = {}
        at = [keeping.setdefault(tuple(m), len(keeping)) for m in mine]
        whole = (1 << n) - 1
        kept_masks = [whole ^ mask for _, mask, _ in answers]
        return Answers(answers, kept_masks, [n - len(kept) for _, _, kept in answers], list(keeping), at)

    def _score(
        self,
        state: OpenScoring,
        name: str,
        pattern: Pattern,
        chosen: tuple[int, ...],
        sid: int,
        shares_key: tuple[Any, ...] | None,
        case: Callable[[], PatientCase],
    ) -> Scored | None:
        decider = self.decider
        opened = state.opened
        n = len(opened)
        grouped = pattern.groups.get(chosen, _UNSEEN)
        if grouped is _UNSEEN:
            if len(pattern.groups) >= _SMALL:
                pattern.groups.clear()
            grouped = pattern.groups[chosen] = self._answers(name, pattern, chosen, n)
        if grouped is None:
            return None
        answers = grouped.answers
        # the weights: Decider._weights, the same expressions in the same order
        last = grouped.units
        if not sid or name not in self.derived:  # the shares do not depend on the case
            shares = last[0]
            if shares is None:
                shares = decider.shares_at(decider.registry[name], None, case)
        else:
            shares = self.shares.get((name, sid))
            if shares is None:
                shares = self.shares[(name, sid)] = decider.shares_at(decider.registry[name], shares_key, case)
        if last[0] is shares:
            units, totals = last[1], last[2]
        else:
            numeric = decider.registry[name].kind in ("integer", "decimal")
            units = [1.0 if numeric else sum(shares[v] for v in shown) for shown, _, _ in answers]
            # a variant's units summed (the same sum for every variant kept by the same answers)
            totals = [sum(units[i] for i in mine) for mine in grouped.keeping]
            last[:] = [shares, units, totals]
        mass = [0.0] * len(answers)
        priors = state.priors.get(sid)
        if priors is None:
            remembered = self.priors
            priors = []
            for o, depends in zip(opened, state.depending, strict=True):
                at = (o.prior_key, sid if depends else 0)
                prior = remembered.get(at)
                if prior is None:
                    prior = remembered[at] = decider.prior_at(o, shares_key if depends else None, case)
                priors.append(prior)
            state.priors[sid] = priors
        keeping = grouped.keeping
        for prior, mine in zip(priors, grouped.mine, strict=True):
            total = totals[mine]
            if not total:
                continue
            for i in keeping[mine]:
                mass[i] += prior * units[i] / total
        whole = sum(mass)
        weights = [m / whole for m in mass] if whole else mass
        if not any(weights):
            return None
        # what each answer decides: how many wanted procedures its kept variants decide
        counts = list(map((state.deciding or self._deciding(state)).count, grouped.kept))
        # (the same products summed in the same order as Decider.field_score's generators)
        decides = sum(map(mul, weights, counts))
        rules_out = sum(map(mul, weights, grouped.out))
        if decides == 0 and rules_out == 0:
            return None
        score = (round(decides, 9), round(rules_out, 9), -decider.order[name])
        return [score, _Question(decider, opened, state.wanted, name, answers, decides, rules_out)]


class _Question:
    """A scored field's question object, built when called (:meth:`Decider.field_score`'s lambda).
    Not a closure: a batch keeps tens of thousands of scores, and a closure's cells made a third of
    their memory; nor does it hold the :class:`OpenScoring` that holds the score (a cycle outlives
    its open set until a full collection)."""

    __slots__ = ("answers", "decider", "decides", "name", "opened", "out", "wanted")

    def __init__(
        self,
        decider: Decider,
        opened: Sequence[Open],
        wanted: frozenset[str],
        name: str,
        answers: list[tuple[Any, int, tuple[int, ...]]],
        decides: float,
        out: float,
    ) -> None:
        self.decider, self.opened, self.wanted, self.name = decider, opened, wanted, name
        self.answers, self.decides, self.out = answers, decides, out

    def __call__(self) -> dict[str, Any]:
        """The question object (the names of what each answer decides, from the decider)."""
        decider, opened, wanted = self.decider, self.opened, self.wanted
        n = len(opened)
        gains: list[tuple[Any, list[str], int]] = []
        for shown, _, kept in self.answers:
            decided, _ = decider.decided([opened[i] for i in kept])
            gains.append((shown, [d["procedure"] for d in decided if d["procedure"] in wanted], n - len(kept)))
        return decider.question(decider.registry[self.name], n, gains, self.decides, self.out)


def _admit(admission: Admission, values: tuple[Any, ...]) -> tuple[int, ...] | None:
    """The indices of the values a case admits (:meth:`Decider._grouped`'s filter), None when only
    one answer or none is left once the presupposed values are left out."""
    presupposed = admission.presupposed
    tried: Sequence[int] = range(len(values))
    if presupposed:
        tried = [i for i in tried if values[i] not in presupposed]
        if len(tried) < 2:
            return None
    accepts = admission.accepts
    return tuple([i for i in tried if accepts(values[i])])
