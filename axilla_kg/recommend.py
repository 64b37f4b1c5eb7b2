"""A patient case in, the matching variants with their rated studies and reasons out.

Matching is decided by the compiled variant classes (:mod:`axilla_kg.classify`), which the
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

from axilla_kg.cases import FIELDS, PatientCase
from axilla_kg.classify import Classifier, CompiledVariant
from axilla_kg.graph import KnowledgeGraph
from axilla_kg.summary import variant_summary

PRIMARY_TOPIC = "286"
DETAILS = ("full", "brief")
#: ``--detail brief``: what an order system needs per match, without the clinical narrative lists
BRIEF_KEYS = ("topic", "variant", "title", "complete", "ratings", "also_requires")


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
    feature_labels: dict[str, str] = field(default_factory=dict)
    procedure_rrl: dict[str, tuple[str | None, int]] = field(default_factory=dict)
    category_rank: dict[str, int] = field(default_factory=dict)
    rrl_order: dict[str, int] = field(default_factory=dict)
    _info: dict[str, _VariantInfo] = field(default_factory=dict)

    @classmethod
    def load(cls, kg: KnowledgeGraph) -> Recommender:
        labels = _lookup(kg, "SELECT ?field ?label WHERE { ?f ax:caseField ?field ; rdfs:label ?label }")
        levels = {
            name: (symbol, int(order))
            for name, symbol, order in _rows(
                kg,
                "SELECT ?name ?symbol ?order WHERE { ?p ax:procedureName ?name ; ax:adultRRL ?l . "
                "OPTIONAL { ?l ax:rrlSymbol ?symbol } OPTIONAL { ?l ax:rrlOrder ?o } "
                "BIND(COALESCE(?o, 99) AS ?order) }",
            )
        }
        ranks = _lookup(kg, "SELECT ?text ?rank WHERE { ?c ax:categoryText ?text ; ax:categoryRank ?rank }")
        orders = _lookup(kg, "SELECT ?s ?o WHERE { ?l ax:rrlSymbol ?s ; ax:rrlOrder ?o }")
        return cls(
            kg,
            Classifier.from_graph(kg),
            {k: str(v) for k, v in labels.items()},
            levels,
            {k: int(v) for k, v in ranks.items()},
            {k: int(v) for k, v in orders.items()},
        )

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
        unmodeled = [
            str(row["criterion"])
            for row in self.kg.sparql(
                "PREFIX ax: <https://w3id.org/axilla-kg/vocab#> SELECT ?criterion WHERE { "
                f"<{v.variant_iri}> ax:unmodeledCriterion ?criterion }} ORDER BY ?criterion"
            ).records()
        ]
        payload = {
            "topic": v.topic,
            "variant": v.number,
            "title": s["title"],
            "complete": s["complete"],
            "ratings": self._ratings(s["ratings"]),
            "also_requires": unmodeled,
            "differentials": [{"diagnosis": d["diagnosis"], "likelihood": d["likelihood"]} for d in s["differentials"]],
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
        explanation = [
            {"field": t.field, "feature": self.feature_labels.get(t.field, t.field), "requirement": t.describe()}
            for t in sorted(v.tests, key=lambda t: FIELDS.index(t.field))
        ]
        return _VariantInfo(v, payload, explanation)

    def title(self, v: CompiledVariant) -> str:
        return str(self.info(v).payload["title"])

    # --- per case -----------------------------------------------------------------------------
    def outcomes(self, case: PatientCase) -> list[tuple[CompiledVariant, list[bool | None]]]:
        return [(v, v.evaluate(case)) for v in self.classifier.variants]

    def recommend(self, case: PatientCase, matched: set[str] | None = None, detail: str = "full") -> dict[str, Any]:
        """The recommendation for one case. ``matched`` (variant IRIs) overrides the fast
        classifier, e.g. with the reasoner's answer."""
        outcomes = self.outcomes(case)
        return self._result(case, outcomes, matched, detail)

    def _result(
        self,
        case: PatientCase,
        outcomes: list[tuple[CompiledVariant, list[bool | None]]],
        matched: set[str] | None = None,
        detail: str = "full",
    ) -> dict[str, Any]:
        def is_match(v: CompiledVariant, res: list[bool | None]) -> bool:
            return v.variant_iri in matched if matched is not None else all(r is True for r in res)

        matches = [v for v, res in outcomes if is_match(v, res)]
        matched_topics = {v.topic for v in matches}
        candidates: list[dict[str, Any]] = []
        misses: list[tuple[int, int, CompiledVariant, list[str], list[str]]] = []
        for v, res in outcomes:
            if is_match(v, res):
                continue
            violated = _fields([t.field for t, r in zip(v.tests, res, strict=True) if r is False])
            unknown = _fields([t.field for t, r in zip(v.tests, res, strict=True) if r is None])
            if not violated:
                candidates.append({"topic": v.topic, "variant": v.number, "title": self.title(v), "needs": unknown})
            elif v.topic not in matched_topics:
                misses.append((len(violated), len(unknown), v, violated, unknown))
        # nearest: only for topics where nothing matches and nothing could match with more facts
        open_topics = {c["topic"] for c in candidates}
        misses = [m for m in misses if m[2].topic not in open_topics]
        nearest: list[dict[str, Any]] = []
        for topic in sorted({m[2].topic for m in misses}, key=_topic_order):
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
        for v in sorted(matches, key=lambda v: (_topic_order(v.topic), v.number)):
            info = self.info(v)
            payload = info.payload if detail == "full" else {k: info.payload[k] for k in BRIEF_KEYS}
            out_matches.append({**payload, "explanation": info.explanation})
        needs = _fields([f for c in candidates for f in c["needs"]])
        if detail != "full":  # brief: variant numbers only; titles come with `show`
            for item in (*candidates, *nearest):
                del item["title"]
        return {
            "case": case.to_json(),
            "matches": out_matches,
            "needs": needs,
            "candidates": candidates,
            "nearest": nearest,
        }


_PREFIXES = "PREFIX ax: <https://w3id.org/axilla-kg/vocab#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "


def _rows(kg: KnowledgeGraph, select: str) -> list[tuple[Any, ...]]:
    """Rows of a small lookup query as plain Python values (strings, numbers, None)."""
    return [
        tuple(cell.python() if cell is not None else None for cell in row) for row in kg.sparql(_PREFIXES + select).rows
    ]


def _lookup(kg: KnowledgeGraph, select: str) -> dict[str, Any]:
    """A two-column lookup query as a dict from the first column to the second."""
    return {str(key): value for key, value in _rows(kg, select)}


def _fields(names: list[str]) -> list[str]:
    wanted = set(names)
    return [f for f in FIELDS if f in wanted]


def _topic_order(topic: str) -> tuple[int, str]:
    return (0 if topic == PRIMARY_TOPIC else 1, topic)


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)
