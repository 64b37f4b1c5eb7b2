"""Decided answers and the one next question, computed from the compiled classifier's verdicts.

A case leaves facts out, so some variants only *could* apply (candidates). A procedure's category
is **decided** when whatever the missing facts turn out to be, no variant that then matches rates
it differently. Only matches and candidates can ever match (adding a fact never repairs a violated
criterion), so a procedure is decided in category C when every open variant (match or candidate,
superseded editions excluded)

* rates it, and only in category C, or
* has a table marked *complete* that does not list it ("not rated there": it neither supports
  nor blocks C — a complete table's silence never makes a procedure look appropriate),

and at least one open variant rates it C. A variant whose *incomplete* table does not list the
procedure keeps it open: the full ACR table may rate it, in any category. No open variant at all:
nothing is decided. The confidence of a decided answer is the lowest of the rows that decide it.

Because ``decided`` is a function of the set of open variants only, and that set is exactly
matches + candidates (held equal to HermiT by ``tests/test_fast_path.py``), it is memoised per set.

**The next question** is one contract field, chosen by this score, highest first:

1. the expected number of the currently undecided procedures (or only the ordered one, when a
   ``procedure`` is given) that its answer decides. The expectation is over the field's *distinct
   answers* — values grouped by their effect on the open variants (``imaging_step``: initial |
   next; ``tumor_size_cm``: the intervals between the bounds the candidates use) — each weighted
   by how likely it is if every unknown fact takes each of its values equally often and the
   patient fits one of the open variants (:meth:`Decider._weights`). An answer no open variant
   accepts ("no criteria apply") weighs nothing, so an implausible answer that would rule
   everything out does not make a question look good. A *derived* field (clinical stage) does not
   take each value equally often: a value weighs the share of the completions of the facts its
   derivation rules read that the contract derives it from (:meth:`Decider._shares`). Counted as
   one value in two, the rare "I-IIA" made the answer "other", which refutes the early-stage
   variants at once, look no likelier than it, and fields deciding less were asked first;
2. then the expected number of open variants its answer rules out (the same weights);
3. then the registry's fixed field order (``ax:caseOrder``).

Only a field some candidate tests and the case does not give (nor assume) is asked, only if it
applies to the patient: a field that a case rule makes presuppose another as a whole (no tumour
size, nodal status or clinical stage before a known cancer) waits for that field; a value that
presupposes a fact not given (planned NAC, suspicion of metastases, a question about NAC response)
is not offered, and a field left with only "no" is not asked. A rule marked
``ax:rulePresupposes false`` or with conditions only refuses combinations of given values and
presupposes nothing. Only the answers the contract accepts together with the given facts are
offered.
A field whose answers change nothing is never asked: ``None`` when nothing is undecided or no
question can change anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import product
from typing import Any

from axilla_kg.contract.cases import CaseError, PatientCase
from axilla_kg.contract.features import Condition, Feature, Registry
from axilla_kg.recommend.classify import CompiledVariant, Test
from axilla_kg.recommend.memo import Memo

#: memo entries kept per cache before it starts afresh (a server answering hostile cases for days
#: must not grow without bound; a batch of realistic cases has a few thousand open sets)
MEMO_LIMIT = 50_000
#: steps either side of a numeric bound when the answers of a number field are enumerated
_DECIMAL_STEP = Decimal("0.000001")
#: grouped answers remembered before the memo is cleared (memory stays flat in batch mode)
_MAX_REMEMBERED = 50_000


@dataclass(frozen=True)
class Row:
    """One rating row as decisions need it."""

    category: str | None
    rrl: str | None
    confidence: str


@dataclass(frozen=True)
class Table:
    """A variant's rating table: procedure -> its rows, and whether the table is complete."""

    rows: dict[str, tuple[Row, ...]]
    complete: bool


@dataclass(frozen=True)
class Open:
    """A variant that could still apply: a match or a candidate with its unknown tests."""

    variant: CompiledVariant
    status: str  # "match" | "candidate"
    unknown: tuple[Test, ...] = ()
    #: what the memos key on, computed once (hashing tests is slow): the status letter and IRI;
    #: per field, its unknown tests as their positions in ``variant.tests`` (the variant's own test
    #: objects; any other test as itself: equal keys always mean equal tests)
    tag: str = field(init=False, compare=False, repr=False)
    unknown_at: dict[str, tuple[Any, ...]] = field(init=False, compare=False, repr=False)
    #: the variant and its unknown tests, as :meth:`Decider._prior` remembers them
    prior_key: tuple[Any, ...] = field(init=False, compare=False, repr=False)
    #: per field, its unknown tests on it
    unknown_on: dict[str, tuple[Test, ...]] = field(init=False, compare=False, repr=False)

    #: (field, value) -> whether its unknown tests on the field accept the value (batch mode reuses
    #: an Open in every set of open variants it is part of)
    verdicts: dict[tuple[str, Any], bool] = field(init=False, compare=False, repr=False)

    def keeps(self, name: str, value: Any) -> bool:
        """Whether the variant stays open when field ``name`` is answered ``value``."""
        found = self.verdicts.get((name, value))
        if found is None:
            found = self.verdicts[(name, value)] = all(t.evaluate(value) for t in self.unknown_on.get(name, ()))
        return found

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdicts", {})
        object.__setattr__(self, "tag", f"{self.status[0]}{self.variant.variant_iri}")
        at: dict[str, tuple[Any, ...]] = {}
        on: dict[str, tuple[Test, ...]] = {}
        tests = self.variant.tests
        for t in self.unknown:
            # the variant's own test object by its position; any other test as itself
            place = next((i for i, u in enumerate(tests) if u is t), t)
            at[t.field] = (*at.get(t.field, ()), place)
            on[t.field] = (*on.get(t.field, ()), t)
        object.__setattr__(self, "unknown_at", at)
        object.__setattr__(self, "prior_key", (self.variant.variant_iri, tuple(at.items())))
        object.__setattr__(self, "unknown_on", on)


@dataclass(frozen=True)
class Admission:
    """What a case lets a field ask (:meth:`Decider.admission`)."""

    applies: bool  # the field applies (it presupposes no other field the case leaves out)
    presupposed: frozenset[Any]  # values not offered (they presuppose a fact the case does not give)
    accepts: Callable[[Any], bool]  # whether the contract accepts the value with the case's facts


class Decider:
    """Decided answers and next questions over one graph's compiled variants (build once)."""

    def __init__(
        self,
        registry: Registry,
        table: Callable[[CompiledVariant], Table],
        confidence_rank: dict[str, int],
        category_rank: dict[str, int],
        rrl_rank: Callable[[str, str | None], int],
        check: Callable[[dict[str, Any]], Any],
        variant_order: Callable[[str, int], Any] = lambda topic, number: (topic, number),
    ) -> None:
        self.registry = registry
        self._table = table
        self._tables: dict[str, Table] = {}
        self.confidence_rank = confidence_rank
        self.category_rank = category_rank
        self.rrl_rank = rrl_rank
        self.check = check  # raises CaseError when a case object breaks the contract
        self.variant_order = variant_order
        self.order = {name: i for i, name in enumerate(registry.fields)}
        #: all that case rules and derivations look at (so what :meth:`_shares` reads is in the key)
        self._ruled = sorted(
            {name for r in registry.rules for name in (r.field, r.other)}
            | {c.field for d in registry.derivations for c in d.conditions}
        )
        # bounded memos (axilla_kg.recommend.memo; entries from the measured size of one, issue 23)
        self._decided: dict[tuple[str, ...], tuple[list[dict[str, Any]], frozenset[str]]] = Memo(8_000)
        self._questions: dict[tuple[Any, ...], dict[str, Any] | None] = {}
        self._deciding: dict[tuple[Any, ...], list[tuple[int, tuple[int, ...]]]] = Memo(8_000)
        self._priors: dict[tuple[tuple[Any, ...], tuple[Any, ...] | None], float] = Memo(32_000)
        self._grouped_answers: dict[tuple[Any, ...], list[tuple[Any, tuple[int, ...]]]] = Memo(32_000)
        self._derivations = {
            d.feature: tuple(r for r in registry.derivations if r.feature == d.feature) for d in registry.derivations
        }
        self._value_shares: dict[tuple[Any, ...], dict[Any, float]] = {}
        self._uniform: dict[str, dict[Any, float]] = {}  # a field of its own: each value equally often
        inputs = {c.field for d in registry.derivations for c in d.conditions}
        #: the case rules a completion of the derivations' inputs can break (the others held when
        #: the case was read, and a completion changes none of the facts they read)
        self._input_rules = tuple(
            r for r in registry.rules if {r.field, r.other, *(c.field for c in r.conditions)} & inputs
        )
        #: the fields whose values the contract check of a completion reads and a completion can
        #: change, in a fixed order (:meth:`_fact_view`), and the outcomes of completions by what
        #: the check reads of them (:meth:`_shares`)
        self._completion_fields = tuple(
            sorted(
                {c.field for d in registry.derivations for c in d.conditions}
                | {name for r in self._input_rules for name in (r.field, r.other, *(c.field for c in r.conditions))}
                | {f.name for f in registry.features if f.required}
                | set(self._derivations)
            )
        )
        self._numbers = frozenset(f.name for f in registry.features if f.kind in ("integer", "decimal"))
        self._fact_views: dict[tuple[str, Any], tuple[Any, ...]] = Memo(8_000)
        self._completions: dict[tuple[Any, ...], tuple[bool, Any]] = Memo(32_000)
        self.reads, self.prior_reads = self._reading()
        #: per field, the case rules that make it presuppose another field, (other, allowed values,
        #: values of the field it concerns): on the field as a whole (:meth:`_applies`), and on some of
        #: its values (:meth:`_presupposed`; one triggered by "false" is a consistency rule, checked by
        #: the contract instead); rules marked ``ax:rulePresupposes false`` or with conditions only
        #: check given values
        self._presupposing: dict[str, tuple[list[tuple[str, Any, Any]], list[tuple[str, Any, Any]]]] = {
            name: ([], []) for name in registry.fields
        }
        for rule in registry.rules:
            if rule.presupposes and not rule.conditions and rule.field in self._presupposing:
                whole, some = self._presupposing[rule.field]
                if rule.when is None:
                    whole.append((rule.other, rule.allows, None))
                elif False not in rule.when:
                    some.append((rule.other, rule.allows, rule.when))
        self._last_shares_key: tuple[PatientCase, tuple[Any, ...]] | None = None
        self._accepted: dict[tuple[Any, ...], bool] = Memo(32_000)
        self._read_order = {name: sorted(names, key=self.order.__getitem__) for name, names in self.reads.items()}
        #: per number field, the conditions of the case rules and derivations that bound it
        conditions = [c for r in registry.rules for c in r.conditions]
        conditions += [c for d in registry.derivations for c in d.conditions]
        self._bounds: dict[str, tuple[Condition, ...]] = {}
        for c in conditions:
            if c.op:
                self._bounds[c.field] = (*self._bounds.get(c.field, ()), c)

    def _reading(self) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
        """What scoring a field as the next question reads of a case, besides its open variants:
        per field, the fields whose given (or assumed) values it looks at; and what the weights of
        variants with an unknown derived field add (:meth:`_shares_key`). Batch mode keys its memo
        of :meth:`field_question` on the classes of just these fields.

        Scoring field F checks the case with each answer to F added: only a rule that names F can
        then fail (the case held every other rule), and only a derivation can when F is one of its
        facts or the derived field; a rule on a defaulted field can see the assumed value (which
        the check passes as given). It reads the other fields of F's presupposing rules
        (:meth:`_applies`, :meth:`_presupposed`) and, for a derived field, what :meth:`_shares`
        reads. An assumed or derived value depends on the exceptions to its default or on its
        derivation's facts, so those fields join the set too."""
        registry = self.registry
        derivations = registry.derivations
        fields_of = [{r.field, r.other, *(c.field for c in r.conditions)} for r in registry.rules]
        derived = {d.feature for d in derivations}
        inputs = {c.field for d in derivations for c in d.conditions}
        shares = inputs | {
            name for r in self._input_rules for name in (r.field, r.other, *(c.field for c in r.conditions))
        }
        defaulted = {f.name: f.default for f in registry.features if f.default is not None}
        base: set[str] = set()
        for rule, names in zip(registry.rules, fields_of, strict=True):
            on_default = rule.field in defaulted and (rule.when is None or defaulted[rule.field] in rule.when)
            if on_default or rule.other in defaulted or {c.field for c in rule.conditions} & defaulted.keys():
                base |= names

        def closed(names: set[str]) -> frozenset[str]:
            todo = list(names)
            while todo:
                name = todo.pop()
                more = {e.field for e in registry.default_exceptions if e.feature == name}
                more |= {c.field for d in derivations if d.feature == name for c in d.conditions}
                for extra in more - names:
                    names.add(extra)
                    todo.append(extra)
            return frozenset(names)

        reads: dict[str, frozenset[str]] = {}
        for name in registry.fields:
            names = {name, *base}
            for ruled in fields_of:
                if name in ruled:
                    names |= ruled
            if name in derived or name in inputs:
                names |= derived | shares
            reads[name] = closed(names)
        return reads, closed(set(shares) | derived)

    def table(self, v: CompiledVariant) -> Table:
        found = self._tables.get(v.variant_iri)
        if found is None:
            found = self._tables[v.variant_iri] = self._table(v)
        return found

    # --- decided ------------------------------------------------------------------------------
    def decided(self, variants: Sequence[Open]) -> tuple[list[dict[str, Any]], frozenset[str]]:
        """(decided answers, undecided procedures) for a set of open variants; memoised per set."""
        key = tuple([o.tag for o in variants])
        found = self._decided.get(key)
        if found is None:
            if len(self._decided) >= MEMO_LIMIT:
                self._decided.clear()
            found = self._decided[key] = self._decide(variants)
        return found

    def _decide(self, variants: Sequence[Open]) -> tuple[list[dict[str, Any]], frozenset[str]]:
        tables = [(o, self.table(o.variant)) for o in variants]
        procedures = sorted({p for _, t in tables for p, rows in t.rows.items() if rows})
        out: list[tuple[tuple[int, int, str], dict[str, Any]]] = []
        undecided: set[str] = set()
        for p in procedures:
            deciding: list[tuple[Open, Row]] = []
            open_ = False
            for o, t in tables:
                rows = t.rows.get(p)
                if rows:
                    deciding += [(o, r) for r in rows]
                elif not t.complete:
                    open_ = True  # undecided whatever the other tables say
                    break
            categories = {r.category for _, r in deciding}
            if open_ or len(categories) != 1 or None in categories:
                undecided.add(p)
                continue
            category = deciding[0][1].category
            assert category is not None
            rrl = next((r.rrl for _, r in deciding if r.rrl is not None), None)
            confidence = max((r.confidence for _, r in deciding), key=lambda c: self.confidence_rank.get(c, 99))
            keys = {(o.variant.topic, o.variant.number) for o, _ in deciding}
            seen = sorted(keys, key=lambda k: self.variant_order(*k))
            status = {(o.variant.topic, o.variant.number): o.status for o, _ in deciding}
            answer = {
                "procedure": p,
                "category": category,
                "rrl": rrl,
                "confidence": confidence,
                "variants": [{"topic": t, "variant": n, "status": status[(t, n)]} for t, n in seen],
            }
            out.append(((self.category_rank.get(category, 9), self.rrl_rank(p, rrl), p), answer))
        return [a for _, a in sorted(out, key=lambda item: item[0])], frozenset(undecided)

    def deciding(self, variants: Sequence[Open], procedures: frozenset[str]) -> list[tuple[int, tuple[int, ...]]]:
        """Per procedure of ``procedures``, what decides it over subsets of ``variants``, as bit
        masks over their positions: (the variants that keep it open, one mask per category of the
        variants rating it). A subset (a mask ``kept``) decides it exactly as :meth:`_decide` does
        when no variant of the subset keeps it open (an incomplete table that does not list it, or
        a row without a category) and exactly one category mask meets the subset. Batch mode
        counts, per answer of a field, the procedures its kept variants decide with a few integer
        operations instead of a memo lookup of :meth:`decided` per new subset
        (:func:`decided_count`). Remembered per set of open variants (as :meth:`decided`) and procedures."""
        key = (tuple([o.tag for o in variants]), procedures)
        found = self._deciding.get(key)
        if found is None:
            found = self._deciding[key] = self._deciding_masks(variants, procedures)
        return found

    def _deciding_masks(
        self, variants: Sequence[Open], procedures: frozenset[str]
    ) -> list[tuple[int, tuple[int, ...]]]:
        tables = [self.table(o.variant) for o in variants]
        out = []
        for p in sorted(procedures):
            blocks = 0
            categories: dict[str, int] = {}
            for j, t in enumerate(tables):
                rows = t.rows.get(p)
                if rows:
                    for r in rows:
                        if r.category is None:
                            blocks |= 1 << j
                        else:
                            categories[r.category] = categories.get(r.category, 0) | 1 << j
                elif not t.complete:
                    blocks |= 1 << j
            out.append((blocks, tuple(categories.values())))
        return out

    # --- the next question --------------------------------------------------------------------
    def next_question(
        self,
        case: PatientCase,
        variants: Sequence[Open],
        procedure: str | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        """The one field whose answer decides the most (see the module docstring), or None.
        ``skip``: fields the user could not answer (``recommend --ask``), never asked again."""
        ruled = tuple((name, case.values.get(name)) for name in self._ruled)  # all that rules look at
        key = (
            tuple(o.variant.variant_iri for o in variants),
            frozenset(case.values),
            ruled,
            procedure,
            skip,
        )
        if key in self._questions:
            return self._questions[key]
        if len(self._questions) >= MEMO_LIMIT:
            self._questions.clear()
        found = self._questions[key] = self._ask(case, variants, procedure, skip)
        return found

    def _ask(
        self, case: PatientCase, variants: Sequence[Open], procedure: str | None, skip: frozenset[str]
    ) -> dict[str, Any] | None:
        wanted = self.wanted(variants, procedure)
        if not wanted:
            return None
        best: tuple[tuple[float, float, int], dict[str, Any]] | None = None
        for name in self.asked_fields(case, variants, skip):
            found = self.field_question(case, variants, name, wanted)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return best[1] if best is not None else None

    def wanted(self, variants: Sequence[Open], procedure: str | None = None) -> frozenset[str]:
        """The procedures a next question should decide: the undecided ones (or the ordered one)."""
        _, undecided = self.decided(variants)
        return undecided & {procedure} if procedure is not None else undecided

    def asked_fields(
        self, case: PatientCase, variants: Sequence[Open], skip: frozenset[str] = frozenset()
    ) -> list[str]:
        """The fields a next question may ask, in registry order: those the candidates' unknown
        tests look at (so never a given or assumed one), less ``skip``."""
        return sorted(
            {t.field for o in variants for t in o.unknown if t.field not in case.values and t.field not in skip},
            key=self.order.__getitem__,
        )

    def field_question(
        self, case: PatientCase, variants: Sequence[Open], name: str, wanted: frozenset[str]
    ) -> tuple[tuple[float, float, int], dict[str, Any]] | None:
        """One field's score as the next question and the question object, or None when it is not
        to be asked. The next question is the field with the highest score. Reads of the case only
        the fields in ``reads[name]`` (and ``prior_reads`` when a variant's unknown tests look at a
        derived field): batch mode remembers it per class of those."""
        scored = self.field_score(case, variants, name, wanted)
        return None if scored is None else (scored[0], scored[1]())

    def field_score(
        self, case: PatientCase, variants: Sequence[Open], name: str, wanted: frozenset[str]
    ) -> tuple[tuple[float, float, int], Callable[[], dict[str, Any]]] | None:
        """:meth:`field_question` with the question object built only when asked for (batch mode
        scores about eight fields per new set of open variants and shows one)."""
        feature = self.registry[name]
        if not self._applies(feature, case):
            return None
        answers = self._answers(feature, case, variants)
        if not answers:
            return None
        weights = self._weights(feature, answers, variants, case)
        if not any(weights):
            return None
        gains: list[tuple[Any, list[str], int]] = []
        for shown, kept in answers:
            decided, _ = self.decided([variants[i] for i in kept])
            now = [d["procedure"] for d in decided if d["procedure"] in wanted]
            gains.append((shown, now, len(variants) - len(kept)))
        decides = sum(w * len(g[1]) for w, g in zip(weights, gains, strict=True))
        rules_out = sum(w * g[2] for w, g in zip(weights, gains, strict=True))
        if decides == 0 and rules_out == 0:
            return None
        score = (round(decides, 9), round(rules_out, 9), -self.order[name])  # ties: not float noise
        total = len(variants)
        return score, lambda: self._question(feature, total, gains, decides, rules_out)

    # --- the pieces of a field's score, for batch mode's compiled scoring (recommend/scoring.py) ---
    @property
    def derived_fields(self) -> frozenset[str]:
        """The fields a derivation rule derives (their answers' shares depend on the case)."""
        return frozenset(self._derivations)

    def admission(self, name: str, case: PatientCase) -> Admission:
        """All that :meth:`field_score` reads of a case for field ``name`` besides the shares of a
        derived field: whether the field applies, the values presupposing a fact not given, and
        which values the contract accepts with the given facts (:meth:`_accepts`, asked lazily)."""
        feature = self.registry[name]
        view = self._view(name, case)
        return Admission(
            self._applies(feature, case),
            self._presupposed(feature, case),
            lambda value: self._accepts(name, value, case, view),
        )

    def field_values(self, feature: Feature, variants: Sequence[Open]) -> list[Any]:
        """The values :meth:`_grouped` tries for a field over these open variants, in its order."""
        if feature.kind in ("enum", "boolean"):
            return self._values(feature, {})  # (the tests' bounds only matter for a number)
        name = feature.name
        return self._values(feature, {o.variant.variant_iri: list(o.unknown_on.get(name, ())) for o in variants})

    def shown(self, feature: Feature, values: list[Any], limits: set[Decimal]) -> list[Any]:
        """:meth:`_shown`: an answer's values as the question shows them."""
        return self._shown(feature, values, limits)

    def question(
        self, feature: Feature, total: int, gains: list[tuple[Any, list[str], int]], decides: float, out: float
    ) -> dict[str, Any]:
        """:meth:`_question`: the question object of a scored field."""
        return self._question(feature, total, gains, decides, out)

    def shares_key(self, case: PatientCase) -> tuple[Any, ...]:
        """:meth:`_shares_key`: all that the shares of a derived field read of a case."""
        return self._shares_key(case)

    def prior_depends(self, o: Open) -> bool:
        """Whether the variant's prior depends on the case (an unknown test on a derived field)."""
        return not self._derivations.keys().isdisjoint(o.unknown_at)

    def shares_at(
        self, feature: Feature, shares_key: tuple[Any, ...] | None, case: Callable[[], PatientCase]
    ) -> dict[Any, float]:
        """:meth:`_shares` for a case whose :meth:`shares_key` is ``shares_key`` (None: the field
        is not derived); ``case`` is called only when the shares are not remembered."""
        if feature.kind != "enum" or feature.name not in self._derivations:
            return self._uniform_of(feature)
        found = self._value_shares.get((feature.name, shares_key))
        return found if found is not None else self._shares(feature, case())

    def prior_at(self, o: Open, shares_key: tuple[Any, ...] | None, case: Callable[[], PatientCase]) -> float:
        """:meth:`_prior` for a case whose :meth:`shares_key` is ``shares_key``, to be given (not
        None) exactly when :meth:`prior_depends`; ``case`` is called only when the prior is not
        remembered and depends on the case."""
        key = (o.prior_key, shares_key)
        found = self._priors.get(key)
        if found is None:
            found = self._priors[key] = self._share(o, case() if shares_key is not None else None)
        return found

    def _weights(
        self,
        feature: Feature,
        answers: list[tuple[list[Any], tuple[int, ...]]],
        variants: Sequence[Open],
        case: PatientCase,
    ) -> list[float]:
        """How likely each distinct answer is if every unknown fact takes each of its values
        equally often and the patient fits one of the open variants: a variant weighs the share of
        completions it accepts (the product, over its unknown fields, of the share of values its
        criterion accepts; a number bound counts one half), spread over the answers it accepts in
        proportion to their values' shares (:meth:`_shares`; a number range counts once). An answer
        no open variant accepts weighs nothing. ``answers``: each with its kept variants' positions."""
        shares = self._shares(feature, case)
        numeric = feature.kind in ("integer", "decimal")
        units = [1.0 if numeric else sum(shares[v] for v in shown) for shown, _ in answers]
        mass = [0.0] * len(answers)
        mine_of: list[list[int]] = [[] for _ in variants]
        for i, (_, kept) in enumerate(answers):
            for j in kept:
                mine_of[j].append(i)
        for o, mine in zip(variants, mine_of, strict=True):
            total = sum(units[i] for i in mine)
            if not total:
                continue
            prior = self._prior(o, case)
            for i in mine:
                mass[i] += prior * units[i] / total
        whole = sum(mass)
        return [m / whole for m in mass] if whole else mass

    def _prior(self, o: Open, case: PatientCase) -> float:
        """The share of the completions of the case that a variant accepts (its unknown criteria
        taken as independent, each value equally likely); remembered per variant, unknown tests and
        what the given facts say of the derivations of derived fields."""
        derived = not self._derivations.keys().isdisjoint(o.unknown_at)
        key = (o.prior_key, self._shares_key(case) if derived else None)
        found = self._priors.get(key)
        if found is None:
            found = self._priors[key] = self._share(o, case)
        return found

    def _share(self, o: Open, case: PatientCase | None) -> float:
        """:meth:`_prior` computed (``case`` None: the variant tests no derived field)."""
        share = 1.0
        # in registry order: a product taken in a set's order (which moves with the process's string
        # hash seed) could round differently and flip a rounded figure of ``why`` between runs
        for name in sorted({t.field for t in o.unknown}, key=self.order.__getitem__):
            feature = self.registry[name]
            tests = [t for t in o.unknown if t.field == name]
            if feature.kind in ("integer", "decimal"):
                share *= 0.5 ** len(tests)
                continue
            shares = self._shares(feature, case) if case is not None else self._uniform_of(feature)
            share *= sum(s for v, s in shares.items() if all(t.evaluate(v) for t in tests))
        return share

    def _shares_key(self, case: PatientCase) -> tuple[Any, ...]:
        """All that :meth:`_shares` reads of a case: for each derivation condition, whether the
        given facts hold it (None: the fact is not given), and for each case rule, what it tests
        of the given facts (the contract check of a completion depends on nothing else, and a
        tumour size of 1.2 or 1.3 cm shares an entry). Part of the memo keys; remembered for the
        last case (scoring a question asks for it once per open variant)."""
        last = self._last_shares_key
        if last is not None and last[0] is case:
            return last[1]
        found = self._compute_shares_key(case)
        self._last_shares_key = (case, found)
        return found

    def _compute_shares_key(self, case: PatientCase) -> tuple[Any, ...]:
        given = self._given(case)
        derivations = tuple(
            None if c.field not in given else c.holds(given[c.field])
            for rules in self._derivations.values()
            for r in rules
            for c in r.conditions
        )
        rules = tuple(
            (
                given.get(r.field) is None,
                r.when is not None and given.get(r.field) in r.when,
                tuple(c.holds(given.get(c.field)) for c in r.conditions),
                given.get(r.other) is None,
                given.get(r.other) in r.allows,
            )
            for r in self._input_rules
        )
        return derivations, rules

    @staticmethod
    def _given(case: PatientCase) -> dict[str, Any]:
        """The case's facts without the derived ones (the contract check derives them again)."""
        return {k: v for k, v in case.values.items() if k not in case.derived}

    def _shares(self, feature: Feature, case: PatientCase) -> dict[Any, float]:
        """The share of the completions of the case in which the field takes each value. A patient
        fact of its own: each value equally often. A **derived** field (clinical stage): the share
        of the completions of the facts its derivation rules read (the given ones as given, each
        unknown one taking each of its values, or each interval between the rules' bounds, equally
        often, and left out only when no value fits the rest, e.g. no N category for negative nodes)
        that the contract accepts and derives the value from; a completion it derives no value
        from counts for every value equally. So "I-IIA", which needs many facts at once, is
        the rare value, and the answer "other" that refutes the early-stage variants weighs what
        it is worth (counted as one value in two, it made the question look worse than fields
        that decide less)."""
        rules = self._derivations.get(feature.name) if feature.kind == "enum" else None
        if not rules:
            return self._uniform_of(feature)
        values = list(feature.values)
        key = (feature.name, self._shares_key(case))
        found = self._value_shares.get(key)
        if found is not None:
            return found
        if len(self._value_shares) >= MEMO_LIMIT:
            self._value_shares.clear()
        given = self._given(case)
        conditions = [c for r in rules for c in r.conditions]
        unknown = sorted({c.field for c in conditions if c.field not in given})
        choices = [
            self._representatives(self.registry[name], [c for c in conditions if c.field == name]) for name in unknown
        ]
        # each combination checked at most once, and only when needed: one that leaves a fact out is
        # first tested for a value of that fact the contract accepts (then it is no completion,
        # whatever its own check says), so most of the combinations with gaps are never checked
        checked: dict[tuple[Any, ...], tuple[bool, Any]] = {}

        # once the contract has accepted one completion of these facts, the facts no completion
        # changes are known to pass its check, and a completion's outcome is remembered by what the
        # check reads of it (:meth:`_fact_view`), across cases
        passes: list[bool] = [False]
        completions = self._completions
        fact_view = self._fact_view
        at = {n: i for i, n in enumerate(unknown)}
        reading = [(f, at.get(f), fact_view(f, given.get(f))) for f in self._completion_fields]
        numbers = [i for i, n in enumerate(unknown) if n in self._numbers]

        def view_of(combo: tuple[Any, ...]) -> tuple[Any, ...]:
            """What the check reads of the completion (numbers filled in as themselves: their range is checked)."""
            return (
                feature.name,
                tuple([view if i is None else fact_view(f, combo[i]) for f, i, view in reading]),
                tuple([combo[i] for i in numbers]),
            )

        def outcome(combo: tuple[Any, ...]) -> tuple[bool, Any]:
            """(whether the contract accepts the combination, the value it derives or None)"""
            found = checked.get(combo)
            if found is None:
                view = view_of(combo) if passes[0] else None
                found = completions.get(view) if view is not None else None
                if found is None:
                    try:
                        known = {n: v for n, v in zip(unknown, combo, strict=True) if v is not None}
                        completed = self.check({**given, **known})
                        found = (True, completed.values[feature.name] if feature.name in completed.derived else None)
                    except CaseError:
                        found = (False, None)  # facts that contradict each other: no patient
                    if found[0] and not passes[0]:
                        passes[0] = True
                        view = view_of(combo)
                    if view is not None:
                        completions[view] = found
                checked[combo] = found
            return found

        counts = dict.fromkeys(values, 0.0)
        # the given facts alone first: usually accepted, so the completions after it are looked up
        outcome(tuple([None] * len(unknown)))
        get = checked.get
        for combo in product(*[[*c, None] for c in choices]):  # (the counts are summed in this order)
            gap = False
            for i, v in enumerate(combo):
                if v is None:
                    head, tail = combo[:i], combo[i + 1 :]
                    for w in choices[i]:
                        filled = (*head, w, *tail)
                        if (get(filled) or outcome(filled))[0]:
                            gap = True
                            break
                    if gap:
                        break
            if gap:
                continue  # a fact left out that could be known: not a completion
            accepted, value = get(combo) or outcome(combo)
            if not accepted:
                continue
            if value is not None:
                counts[value] += 1
            else:
                for v in values:
                    counts[v] += 1 / len(values)
        whole = sum(counts.values())
        found = {v: (n / whole if whole else 1 / len(values)) for v, n in counts.items()}
        self._value_shares[key] = found
        return found

    def _fact_view(self, name: str, value: Any) -> tuple[Any, ...]:
        """All that the contract check of a completion of a derived field's inputs reads of one
        fact and a completion can change (``value`` None: left out): whether it is there (a
        required field must be), each condition of a derivation or of a case rule on the inputs
        on it, whether a rule on the inputs triggered by it or asking it for allowed values sees
        one, and a derived field's value as stated. The check also reads the facts no completion
        changes (the other fields' values, the other rules): they passed with the one completion
        accepted, and pass with every other. So a completion's outcome is a function of these
        views of the fields of ``_completion_fields`` (and of a number filled in, whose range the
        check reads), and :meth:`_shares` remembers it across cases: the 188 shares keys of
        50,000 varied lines checked 14,093 completions, fewer than 6,000 of them unlike."""
        key = (name, value)
        found = self._fact_views.get(key)
        if found is None:
            rules = self._input_rules
            found = self._fact_views[key] = (
                value is None,
                value if name in self._derivations else None,
                tuple([c.holds(value) for d in self.registry.derivations for c in d.conditions if c.field == name]),
                tuple([r.when is not None and value in r.when for r in rules if r.field == name]),
                tuple([c.holds(value) for r in rules for c in r.conditions if c.field == name]),
                tuple([value in r.allows for r in rules if r.other == name]),
            )
        return found

    def _uniform_of(self, feature: Feature) -> dict[Any, float]:
        """The shares of a field of its own: each value equally often."""
        uniform = self._uniform.get(feature.name)
        if uniform is None:
            values = list(feature.values) if feature.kind == "enum" else [True, False]
            uniform = self._uniform[feature.name] = {v: 1 / len(values) for v in values}
        return uniform  # (callers only read it)

    @staticmethod
    def _representatives(feature: Feature, conditions: list[Condition]) -> list[Any]:
        """One value per distinct outcome of the conditions on a field: every enum or boolean
        value; for a number, one point per interval between the conditions' bounds."""
        if feature.kind == "enum":
            return list(feature.values)
        if feature.kind == "boolean":
            return [True, False]
        limits = sorted({c.limit for c in conditions if c.op})
        points = sorted({p for limit in limits for p in (limit - _DECIMAL_STEP, limit, limit + _DECIMAL_STEP)})
        seen: dict[tuple[bool, ...], Any] = {}
        for p in points:
            seen.setdefault(tuple(c.holds(p) for c in conditions), p)
        return list(seen.values())

    def _applies(self, feature: Feature, case: PatientCase) -> bool:
        """A field that presupposes another (a case rule on the field as a whole, e.g. a tumour
        size needs a known cancer) applies only when the case gives that other field an allowed
        value."""
        values = case.values
        return all(values.get(other) in allows for other, allows, _ in self._presupposing[feature.name][0])

    def _presupposed(self, feature: Feature, case: PatientCase) -> frozenset[Any]:
        """Values of the field that presuppose a fact the case does not give (a case rule on those
        values, e.g. planned NAC or suspicion of metastases need a known cancer, a question about
        NAC response needs NAC started): not offered. A rule triggered by "false" is a consistency
        rule (NAC not planned implies none given), checked by the contract instead."""
        out: set[Any] = set()
        values = case.values
        for other, allows, when in self._presupposing[feature.name][1]:
            if values.get(other) not in allows:
                out |= when
        return frozenset(out)

    def _answers(
        self, feature: Feature, case: PatientCase, variants: Sequence[Open]
    ) -> list[tuple[Any, tuple[int, ...]]]:
        """:meth:`_grouped` (each answer's kept variants as their positions in ``variants``),
        remembered per field, the open variants' unknown tests on it and what the case rules see of
        the case (all it depends on): batch mode asks for thousands of classes."""
        name = feature.name
        view = self._view(name, case)
        key = (name, tuple([(o.variant.variant_iri, o.unknown_at.get(name)) for o in variants]), view)
        found = self._grouped_answers.get(key)
        if found is None:
            if len(self._grouped_answers) >= _MAX_REMEMBERED:
                self._grouped_answers.clear()
            found = self._grouped_answers[key] = self._grouped(feature, case, variants, view)
        return found

    def _view(self, name: str, case: PatientCase) -> tuple[Any, ...]:
        """What :meth:`_grouped` reads of a case for field ``name``: each field of ``reads[name]``
        as given, assumed or derived, with a number only as the sides of the bounds that the
        contract's conditions put on it (a tumour size of 1.2 or 1.3 cm shares an entry)."""
        values, derived = case.values, case.derived
        out = []
        for read in self._read_order[name]:
            value = values.get(read)
            bounds = self._bounds.get(read)
            if bounds is not None and value is not None:
                value = tuple(c.holds(value) for c in bounds)
            out.append((value, read in derived))
        return tuple(out)

    def _grouped(
        self, feature: Feature, case: PatientCase, variants: Sequence[Open], view: tuple[Any, ...]
    ) -> list[tuple[Any, tuple[int, ...]]]:
        """The field's distinct answers (grouped by their effect on the open variants) that the
        contract accepts with the given facts, each with the open variants it keeps (their
        positions in ``variants``). ``view``: :meth:`_view` of the case for the field."""
        name = feature.name
        tests = {o.variant.variant_iri: list(o.unknown_on.get(name, ())) for o in variants}
        values = self._values(feature, tests)
        presupposed = self._presupposed(feature, case)
        if presupposed:
            values = [v for v in values if v not in presupposed]
            if len(values) < 2:
                return []  # only the answer "no" is left: the field is about a fact not known yet
        testing = [(i, o) for i, o in enumerate(variants) if name in o.unknown_on]
        everyone = range(len(variants))
        groups: dict[frozenset[int], tuple[list[Any], tuple[int, ...]]] = {}  # the variants it drops -> group
        for value in values:
            if not self._accepts(name, value, case, view):
                continue
            dropped = frozenset([i for i, o in testing if not o.keeps(name, value)])
            group = groups.get(dropped)
            if group is None:
                group = groups[dropped] = ([], tuple(i for i in everyone if i not in dropped))
            group[0].append(value)
        if not any(groups):
            return []  # every accepted answer keeps every variant: asking changes nothing
        limits = {t.limit for _, o in testing for t in o.unknown_on[name] if t.kind == "bound"}
        return [(self._shown(feature, kept_values, limits), kept) for kept_values, kept in groups.values()]

    def _accepts(self, name: str, value: Any, case: PatientCase, view: tuple[Any, ...]) -> bool:
        """Whether the contract accepts the case's facts with ``name`` answered ``value``;
        remembered per field, value and :meth:`_view` of the case (all the check can then see
        change: the case held every rule, and only those naming the field can fail)."""
        key = (name, value, view)
        found = self._accepted.get(key)
        if found is None:
            if len(self._accepted) >= _MAX_REMEMBERED:
                self._accepted.clear()
            given = {k: v for k, v in case.values.items() if k not in case.derived}  # derived again by the check
            try:
                self.check({**given, name: value})
                found = True
            except CaseError:
                found = False
            self._accepted[key] = found
        return found

    def _values(self, feature: Feature, tests: dict[str, list[Test]]) -> list[Any]:
        if feature.kind == "enum":
            return list(feature.values)
        if feature.kind == "boolean":
            return [True, False]
        step = Decimal(1) if feature.kind == "integer" else _DECIMAL_STEP
        limits = sorted({t.limit for ts in tests.values() for t in ts if t.kind == "bound"})
        points = sorted({p for limit in limits for p in (limit - step, limit, limit + step)})
        if feature.kind == "integer":
            return [int(p) for p in points if p == p.to_integral_value()]
        return [float(p) if p == p.to_integral_value() else p for p in points]

    @staticmethod
    def _shown(feature: Feature, values: list[Any], limits: set[Decimal]) -> list[Any]:
        """Enum and boolean answers as their values; a number field's answers as the interval
        between the candidates' bounds that they fall in (e.g. ``["<= 2"]``, ``["> 2"]``)."""
        if feature.kind in ("enum", "boolean"):
            return values
        low, high = Decimal(str(min(values))), Decimal(str(max(values)))
        below = [lim for lim in limits if lim <= low]
        above = [lim for lim in limits if lim >= high]
        parts = []
        if below:
            lim = max(below)
            parts.append(f">= {_text(lim)}" if lim == low else f"> {_text(lim)}")
        if above:
            lim = min(above)
            parts.append(f"<= {_text(lim)}" if lim == high else f"< {_text(lim)}")
        return [" and ".join(parts)]

    def _question(
        self,
        feature: Feature,
        total: int,
        gains: list[tuple[Any, list[str], int]],
        decides: float,
        out: float,
    ) -> dict[str, Any]:
        """The question object; ``why`` says which answers decide what, and the score."""
        numeric = feature.kind in ("integer", "decimal")
        offered = [v for shown, _, _ in gains for v in shown]
        values = None if numeric else [v for v in (feature.values or (True, False)) if v in offered]
        parts = []
        for shown, now, _ in gains:
            if now:
                answer = " or ".join(_text(v) for v in shown)
                named = ", ".join(now[:3]) + (f" and {len(now) - 3} more" if len(now) > 3 else "")
                parts.append(f"{answer} decides {named}")
        why = "; ".join(parts) if parts else "no one answer decides it yet"
        why += f"; expected {decides:.2g} decided, {out:.2g} of {total} possible variants ruled out"
        return {
            "field": feature.name,
            "label": feature.label,
            "values": values,
            "kind": feature.kind,
            "unit": feature.unit or None,
            **({"ranges": offered} if numeric else {}),
            "why": why,
        }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def decided_count(deciding: list[tuple[int, tuple[int, ...]]], kept: int) -> int:
    """How many of the procedures of :meth:`Decider.deciding` the variants of the mask ``kept``
    decide (the number of those procedures in :meth:`Decider.decided` of that subset)."""
    count = 0
    for blocks, categories in deciding:
        if kept & blocks:
            continue
        met = 0
        for mask in categories:
            if kept & mask:
                met += 1
        if met == 1:
            count += 1
    return count
