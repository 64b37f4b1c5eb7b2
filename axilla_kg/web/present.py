"""Shaping the read layer's answers for the pages (no query, no HTML: the templates escape).

``related_variants`` of a variant summary has one row per relation and direction: a pair of
variants linked both ways, by a source and by the reasoner, comes back up to four times, and an
asserted link has no relation type. A reader wants each other variant once, with its title and
every way the two relate, so :func:`group_related` folds the rows per other variant.
"""

from __future__ import annotations

from typing import Any

#: how an inferred relation type reads on the page
_RELATION_TEXT = {
    "overlaps": "overlaps: a patient can match both",
    "differs in one feature": "differs in exactly one patient feature",
    "contained in": "one variant's patients are all patients of the other",
}


def group_related(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per other variant (first-seen order): ``topic``, ``variant``, ``title``, ``how``
    (one readable sentence: the reasoner's relations first, then the sources' links with their
    confidence)
    and ``differs_in`` (the features in which the two differ, each once)."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for r in rows:
        key = (str(r["other_topic"]), int(r["other_variant"]))
        item = out.get(key)
        if item is None:
            item = {
                "topic": key[0],
                "variant": key[1],
                "title": r.get("other_title") or "",
                "inferred": [],
                "asserted": [],
                "differs_in": [],
            }
            out[key] = item
        if r.get("kind") == "inferred" and r.get("relation"):
            text = _RELATION_TEXT.get(str(r["relation"]), str(r["relation"]))
            if text not in item["inferred"]:
                item["inferred"].append(text)
        elif r.get("confidence") and r["confidence"] not in item["asserted"]:
            item["asserted"].append(str(r["confidence"]))
        for feature in r.get("differs_in") or []:
            if feature not in item["differs_in"]:
                item["differs_in"].append(feature)
    for item in out.values():
        how = [f"{text} (inferred by the reasoner)" for text in item.pop("inferred")]
        asserted = item.pop("asserted")
        if asserted:
            how.append(f"named as related by the sources ({', '.join(asserted)} confidence)")
        text = "; ".join(how) or "related"
        item["how"] = text[0].upper() + text[1:]
    return list(out.values())
