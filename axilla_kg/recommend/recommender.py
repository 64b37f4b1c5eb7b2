"""A patient case in, the matching variants with their rated studies and reasons out.

Matching is decided by the compiled variant classes (:mod:`axilla_kg.recommend.classify`), which the
tests hold equal to HermiT's classification; ``reasoner=`` asks the reasoner itself instead.
Everything a match shows (ratings, differentials, next steps, pitfalls, related variants) comes
from the graph through the same named queries as ``show``, and is assembled once per variant:
per case only the classification and the lists that depend on it are built, so warm calls stay
well under a millisecond and batch output can be cached per feature cell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from axilla_kg.contract.cases import CaseReader, PatientCase, reader
from axilla_kg.contract.features import Registry
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.reads import texts, values
from axilla_kg.graph.summary import list_variants, variant_summary
from axilla_kg.recommend.classify import Classifier, CompiledVariant
from axilla_kg.recommend.decide import Decider, Open, Row, Table

PRIMARY_TOPIC = "286"
DETAILS = ("full", "brief")
#: ``--detail brief``: what an order system needs per match, without the clinical narrative lists
BRIEF_KEYS = ("topic", "variant", "title", "complete", "ratings")
#: confidence of a criterion read from the official ACR title itself
TITLE_CONFIDENCE = "high"


@dataclass
class _VariantInfo:
    compiled: CompiledVariant
    payload: dict[str, Any]  # the case-independent part of a match
    explanation: list[dict[str, Any]]


@dataclass
class Recommender:
    """Recommendations over one loaded graph; build once, call :meth:`recommend` per case."""

    kg: KnowledgeGraph
    classifier: Classifier
    registry: Registry
    feature_labels: dict[str, str] = field(default_factory=dict)
    procedure_rrl: dict[str, tuple[str | None, int]] = field(default_factory=dict)
    category_rank: dict[str, int] = field(default_factory=dict)
    rrl_order: dict[str, int] = field(default_factory=dict)
    _info: dict[str, _VariantInfo] = field(default_factory=dict)
    _notes: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _titles: dict[str, dict[int, str]] = field(default_factory=dict)
    _tables: dict[str, Table] | None = None
    #: topic IRIs of superseded editions: history, never an open variant of a decided answer
    superseded: frozenset[str] = frozenset()
    confidence_rank: dict[str, int] = field(default_factory=dict)
    _decider: Decider | None = None
    _procedures: list[str] | None = None
    #: (narrower, broader) variant IRIs: the reasoner found the first's patient class strictly
    #: inside the second's (``ax:patientClassContainedIn``, written by ``derive``)
    inside: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def load(cls, kg: KnowledgeGraph) -> Recommender:
        registry = Registry.from_graph(kg)
        labels = {f.name: f.label for f in registry.features}
        levels = {name: (symbol, int(order)) for name, symbol, order in _rows(kg, "procedure-levels")}
        ranks = _lookup(kg, "category-ranks")
        orders = _lookup(kg, "rrl-orders")
        notes = {
            (str(v), str(name)): (str(conf), str(source)) for v, name, conf, source in _rows(kg, "criterion-notes")
        }
        superseded = frozenset(str(t) for (t,) in _rows(kg, "superseded-topics"))
        confidence = _lookup(kg, "confidence-ranks")
        contained = {(str(a), str(b)) for a, b in _rows(kg, "patient-class-containment")}
        return cls(
            kg,
            Classifier.from_graph(kg, registry),
            registry,
            labels,
            levels,
            {k: int(v) for k, v in ranks.items()},
            {k: int(v) for k, v in orders.items()},
            _notes=notes,
            superseded=superseded,
            confidence_rank={k: int(v) for k, v in confidence.items()},
            inside=frozenset((a, b) for a, b in contained if (b, a) not in contained),  # strictly inside
        )

    @property
    def decider(self) -> Decider:
        """Decided answers and the next question over this graph (:mod:`axilla_kg.recommend.decide`)."""
        if self._decider is None:
            self._decider = Decider(
                self.registry,
                self._table,
                self.confidence_rank,
                self.category_rank,
                lambda p, rrl: self.rrl_order.get(rrl or "", self.procedure_rrl.get(p, (None, 99))[1]),
                self.reader.parse,
                lambda topic, number: (topic_order(topic), number),
            )
        return self._decider

    def _table(self, v: CompiledVariant) -> Table:
        """A variant's rating table for decisions: its rating rows and completeness, read for every
        variant at once on first use (one query, the rows ``variant-ratings`` gives), so the first
        case of a batch worker does not pay a query per candidate."""
        if self._tables is None:
            found: dict[str, list[dict[str, Any]]] = {}
            for variant, procedure, category, rrl, confidence in _rows(self.kg, "all-ratings"):
                found.setdefault(str(variant), []).append(
                    {"procedure": procedure, "category": category, "rrl": rrl, "confidence": confidence}
                )
            complete = {str(v): bool(c) for v, c in _rows(self.kg, "rating-table-completeness")}
            self._tables = {}
            for c in self.classifier.variants:
                rows: dict[str, list[Row]] = {}
                for r in self._ratings(found.get(c.variant_iri, [])):
                    rows.setdefault(r["procedure"], []).append(Row(r["category"], r["rrl"], r["confidence"]))
                table = {p: tuple(rs) for p, rs in rows.items()}
                self._tables[c.variant_iri] = Table(table, complete.get(c.variant_iri, False))
        return self._tables[v.variant_iri]

    @property
    def reader(self) -> CaseReader:
        """Validates cases against this graph's feature registry."""
        return reader(self.registry)

    def _ratings(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Best category first, then lower radiation. Where the source row lists no RRL, the
        procedure's own ACR level is shown and ``rrl_from`` says so."""
        out = []
        for r in rows:
            symbol, order = self.procedure_rrl.get(r["procedure"], (None, 99))
            listed = r["rrl"]
            if listed is not None:
                order = self.rrl_order.get(listed, order)
            out.append(
                (
                    self.category_rank.get(r["category"] or "", 9),
                    order,
                    r["procedure"],
                    {
                        "procedure": r["procedure"],
                        "category": r["category"],
                        "rrl": listed if listed is not None else symbol,
                        "rrl_from": "rating" if listed is not None else ("procedure" if symbol is not None else None),
                        "confidence": r["confidence"],
                    },
                )
            )
        return [item[3] for item in sorted(out, key=lambda item: item[:3])]

    # --- per-variant, case-independent parts -------------------------------------------------
    def info(self, variant: CompiledVariant) -> _VariantInfo:
        cached = self._info.get(variant.variant_iri)
        if cached is None:
            cached = self._build_info(variant)
            self._info[variant.variant_iri] = cached
        return cached

    def _build_info(self, v: CompiledVariant) -> _VariantInfo:
        s = variant_summary(self.kg, v.number, v.topic)
        payload = {
            "topic": v.topic,
            "variant": v.number,
            "title": s["title"],
            "complete": s["complete"],
            "ratings": self._ratings(s["ratings"]),
            "differentials": [
                {"diagnosis": d["diagnosis"], "likelihood": d["likelihood"], "confidence": d["confidence"]}
                for d in s["differentials"]
            ],
            "next_steps": [
                {"after": w["after"], "outcome": w["outcome"], "next_steps": w["next_steps"]} for w in s["workflow"]
            ],
            "pitfalls": [{"pitfall": p["pitfall"], "avoided_by": p["avoided_by"]} for p in s["pitfalls"]],
            "related_variants": [
                {
                    "topic": r["other_topic"],
                    "variant": r["other_variant"],
                    "direction": r["direction"],
                    "kind": r["kind"],
                    "relation": r["relation"],
                    "differs_in": r["differs_in"],
                }
                for r in s["related_variants"]
            ],
        }
        order = self.registry.fields
        explanation = []
        for t in sorted(v.tests, key=lambda t: (order.index(t.field), t.describe())):
            confidence, source = self._notes.get((v.variant_iri, t.field), (TITLE_CONFIDENCE, "title"))
            explanation.append(
                {
                    "field": t.field,
                    "feature": self.feature_labels.get(t.field, t.field),
                    "requirement": t.describe(),
                    "source": source,
                    "confidence": confidence,
                }
            )
        return _VariantInfo(v, payload, explanation)

    def title(self, v: CompiledVariant) -> str:
        """The official title (a candidate's answer needs only this: one query per topic, not the
        nine of a full variant summary)."""
        cached = self._info.get(v.variant_iri)
        if cached is not None:
            return str(cached.payload["title"])
        titles = self._titles.get(v.topic)
        if titles is None:
            titles = self._titles[v.topic] = {r["variant"]: str(r["title"]) for r in list_variants(self.kg, v.topic)}
        return titles[v.number]

    # --- per case -----------------------------------------------------------------------------
    def outcomes(self, case: PatientCase) -> list[tuple[CompiledVariant, list[bool | None]]]:
        return [(v, v.evaluate(case)) for v in self.classifier.variants]

    def recommend(
        self,
        case: PatientCase,
        matched: set[str] | None = None,
        detail: str = "full",
        procedure: str | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """The recommendation for one case. ``matched`` (variant IRIs) overrides the fast
        classifier, e.g. with the reasoner's answer; ``procedure`` (an ordered procedure's exact
        name) makes ``next_question`` the one that decides that procedure; ``skip`` names fields
        not to ask (the user does not know them)."""
        outcomes = self.outcomes(case)
        return self._result(case, outcomes, matched, detail, procedure, skip)

    def _result(
        self,
        case: PatientCase,
        outcomes: list[tuple[CompiledVariant, list[bool | None]]],
        matched: set[str] | None = None,
        detail: str = "full",
        procedure: str | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        def is_match(v: CompiledVariant, res: list[bool | None]) -> bool:
            return v.variant_iri in matched if matched is not None else all(r is True for r in res)

        matches = [v for v, res in outcomes if is_match(v, res)]
        matched_topics = {v.topic for v in matches}
        candidates: list[dict[str, Any]] = []
        open_: list[Open] = [Open(v, "match") for v in matches if v.topic_iri not in self.superseded]
        misses: list[tuple[int, int, CompiledVariant, list[str], list[str]]] = []
        for v, res in outcomes:
            if is_match(v, res):
                continue
            violated = self._fields([t.field for t, r in zip(v.tests, res, strict=True) if r is False])
            unknown = self._fields([t.field for t, r in zip(v.tests, res, strict=True) if r is None])
            if not violated:
                if v.topic_iri not in self.superseded:
                    open_.append(Open(v, "candidate", tuple(t for t, r in zip(v.tests, res, strict=True) if r is None)))
                candidates.append({"topic": v.topic, "variant": v.number, "title": self.title(v), "needs": unknown})
            elif v.topic not in matched_topics:
                misses.append((len(violated), len(unknown), v, violated, unknown))
        # nearest: only for topics where nothing matches and nothing could match with more facts
        open_topics = {c["topic"] for c in candidates}
        misses = [m for m in misses if m[2].topic not in open_topics]
        nearest: list[dict[str, Any]] = []
        for topic in sorted({m[2].topic for m in misses}, key=topic_order):
            in_topic = [m for m in misses if m[2].topic == topic]
            best = min(m[0] for m in in_topic)
            for _, _, v, violated, unknown in sorted(
                (m for m in in_topic if m[0] == best), key=lambda m: (m[1], m[2].number)
            ):
                nearest.append(
                    {
                        "topic": v.topic,
                        "variant": v.number,
                        "title": self.title(v),
                        "differs_in": violated,
                        "also_needs": unknown,
                    }
                )
        out_matches = []
        ordered = sorted(matches, key=lambda v: (topic_order(v.topic), v.number))
        for v in ordered:
            info = self.info(v)
            payload = info.payload if detail == "full" else {k: info.payload[k] for k in BRIEF_KEYS}
            out_matches.append({**payload, "explanation": info.explanation})
        needs = self._fields([f for c in candidates for f in c["needs"]])
        if detail != "full":  # brief: variant numbers only; titles come with `show`
            for item in (*candidates, *nearest):
                del item["title"]
        decided, _ = self.decider.decided(open_)
        return {
            "case": case.to_json(),
            "assumed": case.assumed_json(),
            "derived": case.derived_json(),
            "decided": decided,
            "next_question": self.decider.next_question(case, open_, procedure, skip),
            "matches": out_matches,
            "conflicts": self.conflicts(ordered),
            "needs": needs,
            "candidates": candidates,
            "nearest": nearest,
        }

    def conflicts(self, matches: list[CompiledVariant]) -> list[dict[str, Any]]:
        """Procedures that two matching variants rate in different categories, with every rating
        and the criteria in which the variants' definitions differ. Never resolved by picking a
        rating; only *specificity* is said: when the reasoner found the patient class of the
        variants rating it one way strictly inside that of every variant rating it otherwise
        (``inside``), ``more_specific`` names them and their rating comes first."""
        by_procedure: dict[str, list[tuple[CompiledVariant, dict[str, Any]]]] = {}
        for v in matches:
            for rating in self.info(v).payload["ratings"]:
                if rating["category"] is not None:
                    by_procedure.setdefault(rating["procedure"], []).append((v, rating))
        out = []
        for procedure in sorted(by_procedure):
            rated = by_procedure[procedure]
            if len({r["category"] for _, r in rated}) < 2:
                continue
            variants = [v for v, _ in rated]
            differs = self._fields(
                [f for i, a in enumerate(variants) for b in variants[i + 1 :] for f in a.differing_fields(b)]
            )
            lead = self._more_specific(rated)
            if lead is not None:
                first = {(v.topic, v.number) for v in lead[1]}
                rated = sorted(rated, key=lambda item: (item[0].topic, item[0].number) not in first)
            out.append(
                {
                    "procedure": procedure,
                    "ratings": [
                        {
                            "topic": v.topic,
                            "variant": v.number,
                            "category": r["category"],
                            "confidence": r["confidence"],
                        }
                        for v, r in rated
                    ],
                    "differs_in": differs,
                    "more_specific": None
                    if lead is None
                    else {
                        "category": lead[0],
                        "variants": [{"topic": v.topic, "variant": v.number} for v in lead[1]],
                        "inside": [{"topic": v.topic, "variant": v.number} for v in lead[2]],
                    },
                }
            )
        return out

    def _more_specific(
        self, rated: list[tuple[CompiledVariant, dict[str, Any]]]
    ) -> tuple[str, list[CompiledVariant], list[CompiledVariant]] | None:
        """(category, the variants rating it so, the variants they are strictly inside) when the
        variants of one category are each strictly inside every variant rating another category."""
        for category in dict.fromkeys(r["category"] for _, r in rated):
            mine = [v for v, r in rated if r["category"] == category]
            others = [v for v, r in rated if r["category"] != category]
            if all((v.variant_iri, w.variant_iri) in self.inside for v in mine for w in others):
                return category, mine, others
        return None

    @property
    def procedures(self) -> list[str]:
        """Every procedure name of the graph (what ``--procedure`` and ``audit`` accept)."""
        if self._procedures is None:
            rows = texts(self.kg.read("procedure-names"))
            self._procedures = sorted(str(r[0]) for r in rows)
        return self._procedures

    def _fields(self, names: list[str]) -> list[str]:
        wanted = set(names)
        return [f for f in self.registry.fields if f in wanted]


def _rows(kg: KnowledgeGraph, name: str) -> list[tuple[Any, ...]]:
    """Rows of an internal lookup query (``queries/internal/``) as plain Python values (strings, numbers, None)."""
    return values(kg.read(name))


def _lookup(kg: KnowledgeGraph, name: str) -> dict[str, Any]:
    """A two-column internal lookup query as a dict from the first column to the second."""
    return {str(key): value for key, value in _rows(kg, name)}


def topic_order(topic: str) -> tuple[int, str]:
    """Topic 286 (this tool's topic) first, then the others by key."""
    return (0 if topic == PRIMARY_TOPIC else 1, topic)


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)
