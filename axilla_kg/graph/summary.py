"""Everything about one variant, assembled from the named queries (what ``show`` prints).

The JSON shape is a contract other tools rely on: ``topic`` (string), ``variant`` (int),
``title``, ``complete``, and ``ratings`` with ``procedure``, ``category`` and ``rrl`` (exact ACR
texts; ``null`` when the source did not state them), ``source`` and ``confidence``.
"""

from __future__ import annotations

import difflib
from typing import Any

from axilla_kg.errors import UnknownTopicError, UnknownVariantError
from axilla_kg.graph.knowledge import KnowledgeGraph


def topic_keys(kg: KnowledgeGraph) -> list[str]:
    return [str(row["topic"]) for row in kg.records("topics")]


def check_topic(kg: KnowledgeGraph, topic: str) -> None:
    keys = topic_keys(kg)
    if topic not in keys:
        raise UnknownTopicError(f"unknown topic '{topic}' (topics in the graph: {', '.join(keys)})")


def list_variants(kg: KnowledgeGraph, topic: str = "286") -> list[dict[str, Any]]:
    """The variants of a topic with titles, rating counts and completeness."""
    check_topic(kg, topic)
    return [
        {
            "topic": str(r["topic"]),
            "variant": r["variant"],
            "title": r["title"],
            "ratings": r["ratings"],
            "complete": r["complete"],
        }
        for r in kg.records("variants", topic=topic)
    ]


def _group(rows: list[dict[str, Any]], key: tuple[str, ...], many: dict[str, str]) -> list[dict[str, Any]]:
    """Collapse one-row-per-linked-item query results into one dict per ``key``, with the
    ``many`` columns gathered into lists (order kept, duplicates and nulls dropped)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        ident = tuple(row[k] for k in key)
        item = out.get(ident)
        if item is None:
            item = {k: v for k, v in row.items() if k not in many and k not in ("topic", "variant")}
            for name in many.values():
                item[name] = []
            out[ident] = item
        for column, name in many.items():
            value = row[column]
            if value is not None and value not in item[name]:
                item[name].append(value)
    return list(out.values())


def _features(kg: KnowledgeGraph, topic: str, variant: int) -> dict[str, Any]:
    features: dict[str, Any] = {}
    for row in kg.records("variant-features", topic=topic, variant=variant):
        name, relation = row["feature"], row["relation"]
        value = row["case_value"] if row["case_value"] is not None else row["value"]
        if relation == "is":
            features.setdefault(name, []).append(value)
        else:
            features.setdefault(name, {})[relation] = float(value) if not isinstance(value, int) else value
    return features


def variant_summary(kg: KnowledgeGraph, variant: int, topic: str = "286") -> dict[str, Any]:
    """Title, features, ratings, differentials, workflow, pitfalls, facts and related variants."""
    variants = list_variants(kg, topic)
    match = [v for v in variants if v["variant"] == variant]
    if not match:
        numbers = ", ".join(str(v["variant"]) for v in variants)
        raise UnknownVariantError(f"topic {topic} has no variant {variant} (its variants: {numbers})")
    head = match[0]
    completeness = {r["variant"]: r for r in kg.records("table-completeness", topic=topic)}[variant]
    ratings = [
        {
            "procedure": r["procedure"],
            "category": r["category"],
            "rrl": r["rrl"],
            "rating": r["rating"],
            "median": r["median"],
            "soe": r["soe"],
            "source": r["source"],
            "source_record": f"{r['source_file']}:{r['source_line']}" if r["source_line"] else r["source_file"],
            "confidence": r["confidence"],
        }
        for r in kg.records("variant-ratings", topic=topic, variant=variant)
    ]
    params = {"topic": topic, "variant": variant}
    differentials = _group(
        kg.records("differentials", **params), ("diagnosis",), {"feature": "distinguishing_features"}
    )
    workflow = _group(
        kg.records("next-steps", **params), ("order", "outcome"), {"after": "after", "step": "next_steps"}
    )
    pitfalls = _group(kg.records("pitfalls", **params), ("pitfall",), {"avoided_by": "avoided_by"})
    facts = _group(
        kg.records("clinical-facts", **params), ("fact",), {"procedure": "procedures", "reserved_for": "reserved_for"}
    )
    related = _group(
        kg.records("related-variants", **params),
        ("direction", "other_topic", "other_variant", "kind", "relation"),
        {"differs_in": "differs_in"},
    )
    return {
        "topic": topic,
        "variant": variant,
        "title": head["title"],
        "complete": head["complete"],
        "completeness_note": completeness["note"],
        "features": _features(kg, topic, variant),
        "ratings": ratings,
        "differentials": differentials,
        "workflow": workflow,
        "pitfalls": pitfalls,
        "facts": facts,
        "related_variants": related,
    }


def suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    return f" (did you mean: {', '.join(repr(c) for c in close)}?)" if close else ""
