"""The answer of a class of cases (:mod:`axilla_kg.recommend.partition`), rendered from cached parts.

Batch mode meets a new class of case every few lines on real data (a department's 200,000 orders
hold tens of thousands), so building each one's answer with :meth:`Recommender.recommend` and
``json.dumps`` (about half a millisecond) would dominate the run. Here a class's answer is compiled
work instead:

* each variant's status (match; candidate and what it needs; miss and where it differs) is
  remembered per result of its tests (and, where a derivation rule may refute it, of the probes its
  rules read), and each topic's share per results of its variants' tests: the results are picked
  out of the class's probe results (:mod:`axilla_kg.recommend.facts`), so a new class whose parts
  are known costs a few lookups and a join, with no case read and no variant evaluated;
* the answer's parts depend on few things, and each part is rendered to JSON once per value of what
  it depends on: ``matches`` and ``conflicts`` on the set of matches, ``needs`` and ``candidates`` on
  the candidates, ``nearest`` on the misses that count, ``assumed`` and ``derived`` on the filled
  fields' readings.

The bytes are those of ``dumps(recommend(case))`` with the ``case`` echo left out (the caller splices
each line's own echo in). That equality is the recommender's to define: it is held by
``tests/test_classanswers.py`` with hypothesis over the whole contract, and checked again on the first
:data:`CHECKED` classes each run meets (answered both ways, the recommender's bytes written) — if the
recommender's answer has changed shape (a new part this module does not know, a ``--data`` graph the
tests never saw), that class and every later one is answered through :meth:`Recommender.recommend`
instead, slower but exact. (The check used to run on 48 random probe classes at start-up: a third
of a one-line run, most of it drawing keys the contract refuses. The classes of the input itself
are the ones whose answers matter, and each one checked is exact whatever the compiled path does.)
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from operator import attrgetter, call, itemgetter, or_
from typing import Any, cast

from axilla_kg.contract.cases import CaseReader, PatientCase
from axilla_kg.recommend.classify import CompiledVariant
from axilla_kg.recommend.decide import Open
from axilla_kg.recommend.facts import ASSUMED, DERIVED, ClassFacts, Filled
from axilla_kg.recommend.memo import Memo
from axilla_kg.recommend.partition import Key, Partition, Validity, picker
from axilla_kg.recommend.recommender import BRIEF_KEYS, Recommender, dumps, topic_order
from axilla_kg.recommend.scoring import OpenScoring, Scorer

#: ``--detail`` value: each match as a reference into a separate details document.
REF = "ref"
#: What comes before each line's case echo: ``{"line":N,`` + this + the echo's members + the class's
#: tail (which closes the echo's object first).
CASE_HEAD = b'"case":{'
#: Parts remembered per kind before the kind's cache is cleared (memory stays flat).
MAX_PARTS = 20_000
#: next-question scores and questions remembered (over all open sets): past it, the least recently
#: asked open sets are forgotten (:meth:`ClassAnswers._forget`). About 0.5 kB each (keys shared,
#: :meth:`Scorer.interned`), some 40 MB in all: what 50,000 took before their keys were shared
MAX_SCORES = 80_000
#: the share of :data:`MAX_SCORES` (and of :data:`MAX_PARTS` open sets) kept when it is reached
KEEP = 0.75
#: classes answered both ways (compiled and by the recommender) before the compiled path is trusted
CHECKED = 48
_MATCHED, _CANDIDATE, _MISSED = 0, 1, 2
#: a memo's mark: the status (or a topic's share) depends on more than its tests' results
_REFUTABLE: Any = ("refutable",)
_CANDIDATES, _NEAREST = attrgetter("candidates"), attrgetter("nearest")  # of a topic's share
_NEEDS, _UID = attrgetter("needs"), attrgetter("uid")  # of a topic's share
_READS, _QUESTIONS, _DECIDED = attrgetter("reads"), attrgetter("questions"), attrgetter("decided")  # of an open set
_VARIANTS, _FIRST = attrgetter("variants"), itemgetter(0)  # an open set's variants; its matches are their first item
_PRESENT = partial(filter, None)  # the entries that are not empty
#: ``recommend.dumps`` for any JSON value (the same settings, so the same bytes)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
_CASE_MARK = "\x00axilla-kg:case\x00"
_UNSEEN: Any = object()
_CASE_MARK_JSON = dumps({"x": _CASE_MARK})[5:-1]
Status = tuple[Any, ...]
Variants = tuple[tuple[int, ...], tuple[Status, ...]]  # the matches and the candidates' statuses
#: a field a next question may ask: its name, the getter of the classes its score reads, those
#: classes -> [score, question] (None: not asked), and the bound on its score (:meth:`Scorer.bound`)
Plan = tuple[str, Callable[[Key], Any], dict[Any, list[Any] | None], tuple[int, int, int]]


@dataclass
class _Variant:
    """A compiled variant with its status per result of its tests (picked from a class's probe
    results, :mod:`.facts`), or, when a derivation rule may refute it (:data:`_REFUTABLE`), per
    result of those and of the probes its derivation rules read."""

    variant: CompiledVariant
    tested: Callable[[Any], tuple[bool | None, ...]]  # probe results -> its tests' results (in test order)
    reads: Callable[[Any], Any]  # probe results -> those and the probes its derivation rules read
    by_results: dict[Any, Status] = field(default_factory=dict)  # tested(...) -> status (bounded: 3 per test)
    by_reads: Memo[Any, Status] = field(default_factory=lambda: Memo(MAX_PARTS))  # reads(...) -> status
    statuses: dict[Any, Status] = field(default_factory=dict)  # its final results -> status (interned)


@dataclass(frozen=True)
class _TopicAnswer:
    """A topic's share of an answer, for one combination of the classes of the fields it tests."""

    matched: tuple[int, ...]  # its matching variants (indices, classifier order)
    needs: int  # the fields its candidates need, as a bit mask over registry positions
    candidates: bytes  # its candidates' JSON entries, comma-separated
    nearest: bytes  # its nearest variants' JSON entries (none when it has a match or a candidate)
    open: tuple[Status, ...]  # its candidates' statuses (what decided answers and the next question need)
    #: a number per (matched, open) (shares that open the same variants have the same one): a class's
    #: open variants are interned per tuple of these
    uid: int = 0


@dataclass
class _OpenSet:
    """One set of open variants (matches and candidates), with all that does not depend on the
    class beyond it, computed once: the :class:`Open` list the decider takes, the decided answers'
    JSON, the fields a next question may ask and their remembered scores."""

    variants: Variants
    opened: list[Open]
    decided: bytes = b""
    wanted: frozenset[str] = frozenset()
    #: per field a next question may ask: its name, the getter of the classes its score reads, and
    #: those classes -> [score, question JSON (or the function that builds it)], None: not asked
    plan: list[Plan] | None = None  # None: not planned yet
    #: the classes all the plan's scores read -> the next question (JSON)
    questions: dict[Any, bytes] = field(default_factory=dict)
    reads: Callable[[Key], Any] | None = None  # the getter of those classes
    #: what compiled scoring remembers for these open variants (:mod:`axilla_kg.recommend.scoring`)
    scoring: OpenScoring | None = None
    #: the scores and questions remembered here (what :data:`MAX_SCORES` counts)
    scored: int = 0
    #: when a next question was last asked of it (:attr:`ClassAnswers.asked`: the least recently
    #: asked are forgotten first, :meth:`ClassAnswers._forget`)
    used: int = 0
    #: still remembered (False once forgotten: the classes that name it are forgotten with it)
    kept: bool = True


@dataclass
class _Partial:
    """What a topic's share is known of from its variants' tests' results when a derivation rule may
    still refute some of them: the other variants' statuses, and which to look up per class."""

    statuses: tuple[Status | None, ...]  # per variant of the topic (None: refutable)
    refutable: tuple[int, ...]  # positions (in the topic's variants) of the refutable ones


@dataclass
class _Topic:
    topic: str
    variants: tuple[int, ...]  # indices of its variants
    tested: Callable[[Any], Any]  # probe results -> its variants' tests' results
    #: probe results -> its variants' tests' results and the probes its variants' derivation rules
    #: read: all that its share depends on, when its tests' results leave it :class:`_Partial`
    full: Callable[[Any], Any]
    #: tested(...) -> share, or :class:`_Partial` (statuses that need more, see :class:`_Variant`)
    shares: Memo[Any, Any] = field(default_factory=lambda: Memo(MAX_PARTS))
    #: full(...) -> share (one lookup, where the partial share took one per refutable variant)
    complete: Memo[Any, _TopicAnswer] = field(default_factory=lambda: Memo(MAX_PARTS))


def _bound(entry: Plan) -> tuple[int, int, int]:
    return entry[3]


def _last_asked(entry: tuple[Any, _OpenSet]) -> int:
    """When an open set (an entry of :attr:`ClassAnswers.by_variants`) was last asked a next question."""
    return entry[1].used


class ClassAnswers:
    """``class key -> tail bytes`` (everything after the case echo's members, newline included)."""

    def __init__(self, recommender: Recommender, partition: Partition, detail: str = "full", checked: int = 0) -> None:
        """``checked``: how many of the first classes met are answered both ways and given the
        recommender's bytes (:meth:`_checked`; batch mode: :data:`CHECKED`). With 0 every class is
        answered from the compiled parts (what the tests hold against the recommender)."""
        self.recommender, self.partition, self.detail = recommender, partition, detail
        self.reader: CaseReader = recommender.reader
        self.names = partition.registry.fields
        self.order = {name: i for i, name in enumerate(self.names)}
        #: what a class shows the definitions (its effective key, its probes' results), without a case
        self.facts = ClassFacts(partition, self.reader, recommender.classifier)
        #: whether a class's cases are valid at all (the contract's checks, each once per class of the
        #: fields it reads): batch mode answers only the valid ones (:func:`workers.answer_all`)
        self.validity = Validity(partition)
        self.variants: list[_Variant] = []
        for variant in recommender.classifier.variants:
            tests = [self.facts.test_at(t) for t in variant.tests]
            self.variants.append(_Variant(variant, picker(tests), picker(self._reads(variant))))
        groups: dict[str, list[int]] = {}
        for j, compiled in enumerate(self.variants):
            groups.setdefault(compiled.variant.topic, []).append(j)
        self.topics: list[_Topic] = []
        for topic, members in groups.items():  # classifier order (by topic, then number)
            tested = sorted({self.facts.test_at(t) for j in members for t in self.variants[j].variant.tests})
            full = sorted({i for j in members for i in self._reads(self.variants[j].variant)})
            self.topics.append(_Topic(topic, tuple(members), picker(tested), picker(full)))
        #: where each topic's nearest variants go in the answer (the recommender lists topic 286 first)
        self.nearest_order = sorted(range(len(self.topics)), key=lambda i: topic_order(self.topics[i].topic))
        self.nearest_pick = picker(self.nearest_order)  # the topics' shares, in that order
        #: assumed, matches (and conflicts), needs
        self.parts: list[dict[Any, bytes]] = [{}, {}, {}]
        self.items: dict[tuple[str, int, tuple[tuple[str, ...], ...]], str] = {}  # candidate/nearest entries
        self.combinations: dict[tuple[int, ...], _TopicAnswer] = {}  # a topic's statuses (ids) -> its share
        #: the topics' shares (their ``uid``) -> the open variants they make; and by the variants (the
        #: matches, and the candidates' statuses by their ids: statuses are interned for good)
        self.open_sets: dict[tuple[int, ...], _OpenSet] = {}
        self.by_variants: dict[tuple[tuple[int, ...], tuple[int, ...]], _OpenSet] = {}
        self.uids: dict[Variants, int] = {}  # a topic's (matched, open) -> its uid
        #: the :class:`Open` of a matching variant, and of a candidate's status (by the status's id)
        self.matched_opens: dict[int, Open] = {}
        self.candidate_opens: dict[int, tuple[Status, Open]] = {}
        self.uid_count = itertools.count()
        self.scored = 0  # scores and questions remembered in all open sets (bounded by MAX_SCORES)
        self.asked = 0  # next questions asked (a clock: :attr:`_OpenSet.used`)
        self.scorer = Scorer(recommender.decider, self.names)
        self.details: dict[str, bytes] = {}  # --detail ref: reference -> the variant's details (JSON)
        self.compiled = True  # False once a checked class's compiled answer differed from the recommender's
        self.unchecked = checked  # classes still to answer both ways (:meth:`_checked`)

    # --- the check against the recommender ------------------------------------------------------
    def _checked(self, key: Key, case: PatientCase | None) -> bytes | None:
        """One of the first classes met: answered both ways, the recommender's bytes kept. The first
        difference turns the compiled path off for the rest of the run (and forgets its parts)."""
        self.unchecked -= 1
        compiled = self._compiled(key, case)
        if case is None:
            case = self.reader.parse(self.partition.member(key))
        recommended = self._recommended(case)
        if compiled != recommended:
            self.compiled = False
            self.clear()
        return recommended

    def clear(self) -> None:
        caches: list[dict[Any, Any]] = [
            *self.parts,
            self.items,
            self.combinations,
            self.open_sets,
            self.by_variants,
            *(t.shares for t in self.topics),
            *(t.complete for t in self.topics),
            *(v.by_reads for v in self.variants),
            *(memo for *_, memo in self.facts.filled),
        ]
        for cache in caches:
            cache.clear()

    # --- answers ------------------------------------------------------------------------------
    def tail(self, key: Key, case: PatientCase | None = None) -> bytes | None:
        """The tail of the class's answer lines; ``None`` when the recommender does not echo the
        case as given (then each line is rendered whole). ``case`` is any case of the class."""
        if self.compiled:
            return self._checked(key, case) if self.unchecked else self._compiled(key, case)
        if case is None:
            case = self.reader.parse(self.partition.member(key))
        return self._recommended(case)

    def tails(self, keys: Sequence[Key]) -> list[bytes | None]:
        """``[self.tail(key) for key in keys]`` (valid classes), worked out column by column: each
        step of :meth:`_compiled` (the filled fields' readings and probe results, each topic's share,
        the open variants, the next question, the parts, the join) is a C-level ``map`` over all the
        classes, and only a class whose part is not remembered runs Python code of its own for that
        part (learning it for the classes after it). Batch mode meets about 100,000 new classes in
        200,000 varied lines: answered in lots of 1,000 they take 0.87x the time of one by one."""
        keys = list(keys)
        done: list[bytes | None] = []
        first = 0
        while first < len(keys) and self.compiled and self.unchecked:  # the first classes: checked one by one
            done.append(self.tail(keys[first]))
            first += 1
        rest = keys[first:]
        if not self.compiled:
            return done + [self.tail(key) for key in rest]
        return done + self._compiled_many(rest) if rest else done

    def _compiled_many(self, keys: list[Key]) -> list[bytes | None]:
        """:meth:`_compiled` of many classes (see :meth:`tails`); the same bytes, class by class."""
        effective, results, filled, cases = self.facts.of_many(keys)
        shares = [self._lot_shares(topic, effective, results) for topic in self.topics]
        needs = list(map(_NEEDS, shares[0])) if shares else [0] * len(keys)
        for column in shares[1:]:
            needs = list(map(or_, needs, map(_NEEDS, column)))
        opens = self._lot_open_sets(shares, len(keys))
        questions = self._lot_questions(opens, keys, cases)
        assumed = self._lot_parts(0, filled, self._assumed)
        matches = self._lot_parts(1, list(map(_FIRST, map(_VARIANTS, opens))), self._matches)
        needed = self._lot_parts(2, needs, self._needs)
        candidates = map(b",".join, map(_PRESENT, zip(*[map(_CANDIDATES, column) for column in shares], strict=True)))
        ordered = self.nearest_pick(shares) if shares else ()
        nearest = map(b",".join, map(_PRESENT, zip(*[map(_NEAREST, column) for column in ordered], strict=True)))
        return list(
            map(
                b"".join,
                zip(
                    repeat(b"},"),
                    assumed,
                    repeat(b',"decided":'),
                    map(_DECIDED, opens),
                    repeat(b',"next_question":'),
                    questions,
                    repeat(b',"matches":'),
                    matches,
                    repeat(b',"needs":'),
                    needed,
                    repeat(b',"candidates":['),
                    candidates,
                    repeat(b'],"nearest":['),
                    nearest,
                    repeat(b"]}\n"),
                ),
            )
        )

    def _lot_shares(
        self, topic: _Topic, effective: list[Key], results: list[tuple[bool | None, ...]]
    ) -> list[_TopicAnswer]:
        """A topic's share of each class of a lot: remembered per its tests' results, or (a derivation
        rule may refute a variant) per all its variants read, or worked out (:meth:`_topic_share`)."""
        column: list[Any] = list(map(topic.shares.get, map(topic.tested, results)))
        if list(map(type, column)).count(_TopicAnswer) != len(column):  # not known, or known in part
            rest = [i for i, share in enumerate(column) if share.__class__ is not _TopicAnswer]
            complete = list(map(topic.complete.get, map(topic.full, map(results.__getitem__, rest))))
            for i, share in zip(rest, complete, strict=True):
                column[i] = share if share is not None else self._topic_share(topic, effective[i], results[i])
        return column

    def _lot_open_sets(self, shares: list[list[_TopicAnswer]], count: int) -> list[_OpenSet]:
        """The open variants of each class of a lot, from its topics' shares (:meth:`_open_set`)."""
        uids = list(zip(*[list(map(_UID, column)) for column in shares], strict=True)) if shares else [()] * count
        open_sets = self.open_sets
        opens: list[Any] = list(map(open_sets.get, uids))
        for i in [i for i, known in enumerate(opens) if known is None]:
            known = open_sets.get(uids[i])  # (an earlier class of the lot may have made it)
            opens[i] = known if known is not None else self._open_set([column[i] for column in shares])
        return opens

    def _lot_questions(self, opens: list[_OpenSet], keys: list[Key], cases: dict[int, PatientCase]) -> list[bytes]:
        """The next question of each class of a lot (:meth:`_next_question`): each open set planned
        once, its question looked up per the classes its scores read, and asked where new."""
        self.asked += 1  # (one tick of the clock for all of them: what :meth:`_forget` orders by)
        for each in dict(zip(map(id, opens), opens, strict=True)).values():
            each.used = self.asked
            if each.plan is None:
                each.plan = self._plan(each)
        seen = list(map(call, map(_READS, opens), keys))
        questions: list[Any] = list(map(dict.get, map(_QUESTIONS, opens), seen))
        for i in [i for i, found in enumerate(questions) if found is None]:
            questions[i] = self._ask(opens[i], keys[i], cases.get(i), seen[i])
        return questions

    def _lot_parts(self, kind: int, column: list[Any], render: Callable[[Any], bytes]) -> list[bytes]:
        """A part of each class of a lot, rendered once per what it depends on (:meth:`_part`)."""
        part = self.parts[kind]
        rendered: list[Any] = list(map(part.get, column))
        for i in [i for i, known in enumerate(rendered) if known is None]:
            rendered[i] = part.get(column[i]) or self._part(kind, column[i], render)
        return rendered

    def answer_of(self, key: Key) -> dict[str, Any]:
        """The recommender's answer for any case of a *valid* class, without the ``case`` echo
        (``assumed``, ``derived``, ``decided``, ``next_question``, ``matches``, ``conflicts``,
        ``needs``, ``candidates``, ``nearest``), from the compiled parts: what the audit grades an
        order from. ``key``: :meth:`Partition.key_of` of a validated case. A stable public entry."""
        tail = self.tail(key)
        if tail is not None:
            return json.loads(b"{" + tail[2:])  # the tail closes the echo: '},' + the members
        result = self.result(self.reader.parse(self.partition.member(key)))
        result.pop("case", None)
        return result

    def result(self, case: PatientCase) -> dict[str, Any]:
        """The recommender's own answer for one case, at this detail level (``ref``: matches as references)."""
        if self.detail != REF:
            return self.recommender.recommend(case, detail=self.detail)
        result = self.recommender.recommend(case, detail="full")
        result["matches"] = [self._ref(match) for match in result["matches"]]
        return result

    def _recommended(self, case: PatientCase) -> bytes | None:
        result = self.result(case)
        if "case" not in result or dumps(result["case"]) != dumps(case.to_json()):
            return None
        result["case"] = _CASE_MARK
        text = dumps(result)
        at = text.index(_CASE_MARK_JSON)
        if not text.startswith('{"case":'):
            return None
        return b"}" + text[at + len(_CASE_MARK_JSON) :].encode() + b"\n"

    def _ref(self, match: dict[str, Any]) -> dict[str, Any]:
        import hashlib  # (here: only --detail ref needs it, and OpenSSL's import is 3 ms of start-up)

        details = dumps(match).encode()
        ref = f"{match['topic']}-{match['variant']}-{hashlib.sha256(details).hexdigest()[:10]}"
        self.details.setdefault(ref, details)
        return {"topic": match["topic"], "variant": match["variant"], "ref": ref}

    def _case(self, key: Key) -> PatientCase:
        """One case of the class, as the contract reads it (defaults, their exceptions, derived
        facts): built from the class's member values and filled fields' readings (:meth:`ClassFacts.case`)."""
        return self.facts.case(key)

    def _reads(self, variant: CompiledVariant) -> list[int]:
        """Where the probe results a variant's evaluation reads are: its tests' results, and the
        probes its derivation rules' refutation reads (:meth:`CompiledVariant.evaluate`)."""
        tests = [self.facts.test_at(t) for t in variant.tests]
        return sorted({*tests, *(i for rule in variant.derivations for i in self.facts.rule_at(rule))})

    def _compiled(self, key: Key, case: PatientCase | None = None) -> bytes:
        """The class's tail. ``case``: one of its cases if the caller has read one (else a case is
        read only if a filled field's reading or the next question's plan is new)."""
        effective, results, filled, read = self.facts.of(key)
        if case is None:
            case = read
        topics: list[_TopicAnswer] = []
        for topic in self.topics:
            found = topic.shares.get(topic.tested(results))
            if found.__class__ is not _TopicAnswer:  # not known, or known in part (:meth:`_share`)
                found = self._topic_share(topic, effective, results)
            topics.append(found)
        needs = 0
        for answer in topics:
            needs |= answer.needs
        parts = self.parts
        opens = self.open_sets.get(tuple([answer.uid for answer in topics]))
        if opens is None:
            opens = self._open_set(topics)
        matched = opens.variants[0]
        question = self._next_question(opens, key, case)
        return b"".join(
            (
                b"},",
                parts[0].get(filled) or self._part(0, filled, self._assumed),
                b',"decided":',
                opens.decided,
                b',"next_question":',
                question,
                b',"matches":',
                parts[1].get(matched) or self._part(1, matched, self._matches),
                b',"needs":',
                parts[2].get(needs) or self._part(2, needs, self._needs),
                b',"candidates":[',
                b",".join(filter(None, map(_CANDIDATES, topics))),
                b'],"nearest":[',
                b",".join(filter(None, map(_NEAREST, self.nearest_pick(topics)))),
                b"]}\n",
            )
        )

    def _topic_share(self, topic: _Topic, effective: Key, results: tuple[bool | None, ...]) -> _TopicAnswer:
        """A topic's share of a class whose share is not remembered per its tests' results alone."""
        found = topic.shares.get(topic.tested(results))
        if found.__class__ is _TopicAnswer:
            return cast(_TopicAnswer, found)
        return (found is not None and topic.complete.get(topic.full(results))) or self._share(
            topic, effective, results, found
        )

    def _share(
        self, topic: _Topic, effective: Key, results: tuple[bool | None, ...], known: _Partial | None
    ) -> _TopicAnswer:
        """A topic's share not remembered per results of its variants' tests (``known``: None), or
        known only in part: then it is remembered per all the results its variants read (:attr:`_Topic.full`),
        and, the first time, its refutable variants' statuses are looked up, per the results each
        reads, and the share rendered once per combination of statuses."""
        if known is None:
            seen = topic.tested(results)
            known = self._partial(topic, results)
            if not known.refutable:
                found = topic.shares[seen] = self._combined(known.statuses)
                return found
            topic.shares[seen] = known
        full = topic.full(results)
        complete = topic.complete.get(full)
        if complete is not None:
            return complete
        statuses = list(known.statuses)
        values: PatientCase | None = None
        for i in known.refutable:  # a derivation rule may refute it: evaluated on the class's values
            j = topic.variants[i]
            compiled = self.variants[j]
            read = compiled.reads(results)
            status = compiled.by_reads.get(read)
            if status is None:
                if values is None:
                    values = self.facts.values(effective)
                status = compiled.by_reads[read] = self._status_of(j, compiled.variant.evaluate(values))
            statuses[i] = status
        complete = topic.complete[full] = self._combined(statuses)
        return complete

    def _partial(self, topic: _Topic, results: tuple[bool | None, ...]) -> _Partial:
        """The statuses of a topic's variants that its tests' results decide, and which they do not."""
        statuses: list[Status | None] = []
        refutable = []
        for i, j in enumerate(topic.variants):
            compiled = self.variants[j]
            tested = compiled.tested(results)
            status = compiled.by_results.get(tested)
            if status is None:
                may = compiled.variant.refutable(tested)
                status = compiled.by_results[tested] = _REFUTABLE if may else self._status_of(j, tested)
            if status is _REFUTABLE:
                refutable.append(i)
                status = None
            statuses.append(status)
        return _Partial(tuple(statuses), tuple(refutable))

    def _combined(self, statuses: Sequence[Status | None]) -> _TopicAnswer:
        """A topic's share for its variants' statuses (every one known), rendered once per combination."""
        # statuses are interned for good (:meth:`_status_of`): their ids name them
        combination = tuple(map(id, statuses))
        found = self.combinations.get(combination)
        if found is None:
            if len(self.combinations) >= MAX_PARTS:
                self.combinations.clear()
            found = self.combinations[combination] = self._render_topic(cast(list[Status], list(statuses)))
        return found

    def _status_of(self, j: int, results: list[bool | None] | tuple[bool | None, ...]) -> Status:
        """Variant ``j``'s status for its tests' results, interned for good (one object per status,
        never dropped: a topic's combination of statuses and the :class:`Open` of a candidate are
        remembered by the statuses' ids)."""
        memo = self.variants[j].statuses  # (bounded: at most three results per test)
        key = tuple(results)
        status = memo.get(key)
        if status is None:
            status = memo[key] = self._status(j, key)
        return status

    def _render_topic(self, statuses: list[Status]) -> _TopicAnswer:
        matched = tuple(status[1] for status in statuses if status[0] == _MATCHED)
        candidates = [status for status in statuses if status[0] == _CANDIDATE]
        misses = [status for status in statuses if status[0] == _MISSED]
        needs = 0
        for status in candidates:
            for name in status[3]:
                needs |= 1 << self.names.index(name)
        entries = ",".join(self._item("candidate", status[1], (status[3],)) for status in candidates)
        # nearest: only for a topic where nothing matches and nothing could match with more facts
        nearest = self._nearest_in(tuple(misses)) if misses and not matched and not candidates else ""
        opened = (matched, tuple(candidates))
        uid = self.uids.get(opened)
        if uid is None:
            if len(self.uids) >= MAX_PARTS:  # (a cleared uid is never given again: the count goes on)
                self.uids.clear()
            uid = self.uids[opened] = next(self.uid_count)
        return _TopicAnswer(matched, needs, entries.encode(), nearest.encode(), opened[1], uid)

    def _part(self, kind: int, key: Any, render: Callable[[Any], bytes]) -> bytes:
        part = self.parts[kind]
        if len(part) >= MAX_PARTS:
            part.clear()
        found = part[key] = render(key)
        return found

    def _status(self, j: int, results: tuple[bool | None, ...]) -> Status:
        """``(matched, j, topic)``, ``(candidate, j, topic, needs, unknown tests)`` or ``(missed, j,
        topic, differs_in, also_needs)``: variant ``j`` for one result of each of its tests. Fields
        are listed in registry order, once each (as the recommender lists them)."""
        compiled = self.variants[j]
        tests = compiled.variant.tests
        topic, order = compiled.variant.topic, self.order
        if all(r is True for r in results):
            return (_MATCHED, j, topic)
        violated = sorted({t.field for t, r in zip(tests, results, strict=True) if r is False}, key=order.__getitem__)
        unknown = sorted({t.field for t, r in zip(tests, results, strict=True) if r is None}, key=order.__getitem__)
        if not violated:
            tested = tuple(t for t, r in zip(tests, results, strict=True) if r is None)
            return (_CANDIDATE, j, topic, tuple(unknown), tested)
        return (_MISSED, j, topic, tuple(violated), tuple(unknown))

    # --- the parts ------------------------------------------------------------------------------
    def _assumed(self, filled: tuple[Filled, ...]) -> bytes:
        """``assumed`` and ``derived`` (in the contract's field order, as ``PatientCase`` lists them)."""
        assumed = {f.name: f.value for f in filled if f.how == ASSUMED}
        derived = {f.name: f.value for f in filled if f.how == DERIVED}
        return ('"assumed":' + _encode(assumed) + ',"derived":' + _encode(derived)).encode()

    def _matches(self, matched: tuple[int, ...]) -> bytes:
        rec = self.recommender
        ordered = sorted((self.variants[j].variant for j in matched), key=lambda v: (topic_order(v.topic), v.number))
        matches = []
        for v in ordered:
            info = rec.info(v)
            payload = info.payload if self.detail != "brief" else {k: info.payload[k] for k in BRIEF_KEYS}
            match = {**payload, "explanation": info.explanation}
            matches.append(self._ref(match) if self.detail == REF else match)
        return (_encode(matches) + ',"conflicts":' + _encode(rec.conflicts(ordered))).encode()

    def _item(self, kind: str, j: int, lists: tuple[tuple[str, ...], ...]) -> str:
        """One entry of ``candidates`` (lists: needs) or ``nearest`` (differs_in, also_needs), as JSON."""
        key = (kind, j, lists)
        found = self.items.get(key)
        if found is None:
            if len(self.items) >= MAX_PARTS:
                self.items.clear()
            v = self.variants[j].variant
            item: dict[str, Any] = {"topic": v.topic, "variant": v.number, "title": self.recommender.title(v)}
            if self.detail == "brief":  # brief: variant numbers only (titles come with `show`)
                del item["title"]
            names = ("needs",) if kind == "candidate" else ("differs_in", "also_needs")
            item |= {name: list(values) for name, values in zip(names, lists, strict=True)}
            found = self.items[key] = dumps(item)
        return found

    def _open(self, variants: tuple[tuple[int, ...], tuple[Status, ...]]) -> list[Open]:
        """The open variants (matches, then candidates with their unknown tests; superseded editions
        left out), as :mod:`axilla_kg.recommend.decide` takes them."""
        superseded = self.recommender.superseded
        matched, candidates = variants
        out = []
        for j in matched:
            found = self.matched_opens.get(j)
            if found is None:
                found = self.matched_opens[j] = Open(self.variants[j].variant, "match")
            out.append(found)
        opens = self.candidate_opens
        for status in candidates:
            known = opens.get(id(status))
            if known is None or known[0] is not status:  # (the status is kept with it: its id stays its own)
                if len(opens) >= MAX_PARTS:
                    opens.clear()
                known = opens[id(status)] = (status, Open(self.variants[status[1]].variant, "candidate", status[4]))
            out.append(known[1])
        return [o for o in out if o.variant.topic_iri not in superseded]

    def _open_set(self, topics: list[_TopicAnswer]) -> _OpenSet:
        """The open variants of the topics' shares, interned: a new tuple of shares that makes open
        variants met before finds their :class:`_OpenSet` (and its scores) again."""
        matched: tuple[int, ...] = ()
        candidates: tuple[Status, ...] = ()
        for answer in topics:
            matched += answer.matched
            candidates += answer.open
        found = self._open_variants(matched, candidates)
        open_sets = self.open_sets
        if len(open_sets) >= MAX_PARTS:
            for uids in list(itertools.islice(open_sets, len(open_sets) // 2)):  # the older half
                del open_sets[uids]
        open_sets[tuple([answer.uid for answer in topics])] = found
        return found

    def _open_variants(self, matched: tuple[int, ...], candidates: tuple[Status, ...]) -> _OpenSet:
        """The :class:`_OpenSet` of these matches and candidates (their statuses), made once."""
        named = (matched, tuple(map(id, candidates)))  # (hashing the statuses' tests is slow)
        found = self.by_variants.get(named)
        if found is None:
            if len(self.by_variants) >= MAX_PARTS:
                self._forget()
            variants = (matched, candidates)
            decider = self.recommender.decider
            opened = self._open(variants)
            decided, _ = decider.decided(opened)
            found = _OpenSet(variants, opened, _encode(decided).encode(), decider.wanted(opened))
            found.used = self.asked  # (as recent as the last one asked: a block asks its new sets after making them)
            self.by_variants[named] = found
        return found

    def _forget(self) -> None:
        """Make room in the open sets (memory stays flat): forget the least recently asked until at
        most :data:`KEEP` of :data:`MAX_SCORES` (and of :data:`MAX_PARTS` sets) is left. A varied
        batch keeps meeting the open sets of its common classes, and clearing all the sets at once
        (as this did) made each of their scores again. What is forgotten is worked out again,
        identically (``tests/test_question_memo.py`` holds a tiny bound equal to an unbounded run)."""
        by_variants = self.by_variants
        # (counted afresh: an open set forgotten while a block still holds it may count on a little)
        scored = sum(opens.scored for opens in by_variants.values())
        most, sets = int(MAX_SCORES * KEEP), int(MAX_PARTS * KEEP)
        for named, opens in sorted(by_variants.items(), key=_last_asked):
            if scored <= most and len(by_variants) <= sets:
                break
            del by_variants[named]
            opens.kept = False
            scored -= opens.scored
        self.scored = scored
        open_sets = self.open_sets
        for uids in [uids for uids, opens in open_sets.items() if not opens.kept]:
            del open_sets[uids]

    def _next_question(self, opens: _OpenSet, key: Key, case: PatientCase | None) -> bytes:
        """The next question (JSON) as :meth:`Decider.next_question` asks it, from each askable
        field's score remembered per open variants and the classes of the fields that scoring reads
        (:attr:`Decider.reads`): a new class of case mostly finds every score known."""
        self.asked = opens.used = self.asked + 1
        if opens.plan is None:
            opens.plan = self._plan(opens)
        seen = opens.reads(key) if opens.reads is not None else ()
        return opens.questions.get(seen) or self._ask(opens, key, case, seen)

    def _ask(self, opens: _OpenSet, key: Key, case: PatientCase | None, seen: Any) -> bytes:
        """The next question of a class whose open variants (planned: :meth:`_plan`) have not been
        asked it for the classes ``seen`` their scores read: the askable fields scored, highest bound
        first, and the best one's question remembered per ``seen``."""
        question = opens.questions.get(seen)  # (another class of the same call may have asked it)
        if question is not None:
            return question
        plan = opens.plan
        assert plan is not None
        best: list[Any] | None = None
        read: list[PatientCase | None] = [case]

        def case_of() -> PatientCase:  # the class's case, read at most once
            found = read[0]
            if found is None:
                found = read[0] = self._case(key)
            return found

        scored = 1
        for name, reads, scores, bound in plan:  # (by bound, highest first: Scorer.bound)
            if best is not None and bound < best[0]:
                break  # (no field left can score above the best)
            classes = reads(key)
            found = scores.get(classes, _UNSEEN)
            if found is _UNSEEN:
                assert opens.scoring is not None
                found = scores[self.scorer.interned(classes)] = self.scorer.score(opens.scoring, name, key, case_of)
                scored += 1
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        if best is None:
            question = b"null"
        else:
            if not isinstance(best[1], bytes):  # the question of the best field, rendered once
                best[1] = _encode(best[1]()).encode()
            question = best[1]
        opens.questions[seen] = question
        opens.scored += scored
        self.scored += scored
        if self.scored >= MAX_SCORES:
            self._forget()
        return question

    def _plan(self, opens: _OpenSet) -> list[Plan]:
        """The fields a next question may ask for these open variants (:meth:`Decider.asked_fields`:
        those their unknown tests look at, which a case of theirs never gives), each with a getter of
        the classes its score reads and its scores by those classes (none when nothing is left
        undecided); sets :attr:`_OpenSet.scoring` and :attr:`_OpenSet.reads`, the getter of the
        classes all of them read."""
        state = opens.scoring = self.scorer.open_scoring(opens.opened, opens.wanted)
        asked = sorted(state.testing, key=self.order.__getitem__) if opens.wanted else []
        opens.reads, getters = self.scorer.getters_of(tuple(asked), state.depends)
        bound = self.scorer.bound
        return sorted(((name, reads, {}, bound(state, name)) for name, reads in getters), key=_bound, reverse=True)

    def _needs(self, mask: int) -> bytes:
        return _encode([name for p, name in enumerate(self.names) if mask >> p & 1]).encode()

    def _nearest_in(self, misses: tuple[Status, ...]) -> str:
        """The nearest variants of one topic: those differing in the fewest fields, then needing fewest."""
        best = min(len(m[3]) for m in misses)
        closest = [m for m in misses if len(m[3]) == best]
        closest.sort(key=lambda m: (len(m[4]), self.variants[m[1]].variant.number))
        return ",".join(self._item("nearest", m[1], (m[3], m[4])) for m in closest)
