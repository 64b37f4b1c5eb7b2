"""One draft order against one recommendation: which of our procedures it is and what it rates.

Identifying the procedure: by code only where ``ontology/mappings.ttl`` holds a verified
exactMatch/narrowMatch for it, else by the exact ACR procedure name as the order's
``code.text`` or a coding's ``display``; anything else is "not a procedure we know" and gets no
rating.

Deciding the rating, in the order a careful reviewer would:

1. Topics by precedence: topic 286 (this service's topic) first, then the others together.
2. Within the first tier where a *matching* variant rates the procedure, that rating stands;
   matches of the tier that rate it in different categories are a conflict (no rating, both
   shown); disagreeing matches of later tiers are shown next to the rating.
3. If, before such a tier, a *candidate* variant (one the case could still match) rates the
   procedure, the answer depends on facts the case does not give: no rating, and the card asks
   for exactly the ``needs`` of those candidates.
4. Nothing matches and nothing could: ``no-criteria-apply``. A variant matches but none rates
   the procedure: "not rated in our data" (our tables are partial, so this is not a rating).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from axilla_kg.cdshooks import codes
from axilla_kg.contract.fields import field_names
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.recommend.recommender import PRIMARY_TOPIC


@dataclass
class Verdict:
    """What the service says about one order."""

    kind: str  # rated | needs | conflict | unrated | no-criteria | unknown-procedure | invalid-case
    procedure: str | None
    category: str | None = None
    rrl: str | None = None
    variants: list[tuple[str, int]] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    alternative: dict[str, Any] | None = None

    @property
    def pama(self) -> str | None:
        if self.kind == "rated":
            return codes.PAMA_BY_CATEGORY.get(self.category or "")
        return "no-criteria-apply" if self.kind == "no-criteria" else None


def procedure_of(lookup: Lookup, concept: dict[str, Any] | None) -> str | None:
    """Our procedure name for a FHIR CodeableConcept, or None."""
    if not concept:
        return None
    for c in concept.get("coding") or []:
        name = lookup.procedure_for_code(str(c.get("system")), str(c.get("code")))
        if name is not None:
            return name
    texts = [concept.get("text"), *(c.get("display") for c in concept.get("coding") or [])]
    for text in texts:
        if isinstance(text, str) and text in lookup.procedure_info:
            return text
    return None


def _tier(topic: str) -> int:
    return 0 if topic == PRIMARY_TOPIC else 1


def judge(lookup: Lookup, result: dict[str, Any], procedure: str) -> Verdict:
    """The verdict for an order of ``procedure`` given the recommendation ``result``."""
    matches = result["matches"]
    candidates = result["candidates"]
    for tier in (0, 1):
        rating_matches = [
            (m, r)
            for m in matches
            if _tier(m["topic"]) == tier
            for r in m["ratings"]
            if r["procedure"] == procedure and r["category"]
        ]
        waiting = [
            c
            for c in candidates
            if _tier(c["topic"]) == tier and procedure in lookup.ratings_of(c["topic"], c["variant"])
        ]
        if rating_matches:
            categories = {r["category"] for _, r in rating_matches}
            variants = [(m["topic"], m["variant"]) for m, _ in rating_matches]
            if len(categories) > 1:
                return Verdict(
                    "conflict",
                    procedure,
                    variants=variants,
                    disagreements=[
                        {"topic": m["topic"], "variant": m["variant"], "category": r["category"]}
                        for m, r in rating_matches
                    ],
                )
            category = categories.pop()
            rrl = rating_matches[0][1]["rrl"]
            later = [
                {"topic": m["topic"], "variant": m["variant"], "category": r["category"]}
                for m in matches
                if _tier(m["topic"]) > tier
                for r in m["ratings"]
                if r["procedure"] == procedure and r["category"] and r["category"] != category
            ]
            verdict = Verdict("rated", procedure, category, rrl, variants, disagreements=later)
            verdict.alternative = _alternative(lookup, [m for m, _ in rating_matches], procedure, rrl)
            return verdict
        if waiting:
            wanted = {f for c in waiting for f in c["needs"]}
            return Verdict(
                "needs",
                procedure,
                variants=[(c["topic"], c["variant"]) for c in waiting],
                needs=[f for f in field_names() if f in wanted],
            )
    if not matches and not candidates:
        return Verdict("no-criteria", procedure)
    return Verdict("unrated", procedure, variants=[(m["topic"], m["variant"]) for m in matches])


def _alternative(
    lookup: Lookup, deciding: list[dict[str, Any]], procedure: str, rrl: str | None
) -> dict[str, Any] | None:
    """The lowest-radiation Usually Appropriate study of the deciding variants whose radiation
    level is known and lower than the ordered one's (each match's ratings are already sorted
    best category first, then lower radiation)."""
    order = lookup.recommender.rrl_order
    mine = order.get(rrl or "")
    if mine is None:
        return None
    best: tuple[int, dict[str, Any], dict[str, Any]] | None = None
    for m in deciding:
        for r in m["ratings"]:
            level = order.get(r["rrl"] or "")
            if r["category"] != "Usually Appropriate" or r["procedure"] == procedure or level is None:
                continue
            if level < mine and (best is None or level < best[0]):
                best = (level, r, m)
    if best is None:
        return None
    _, rating, match = best
    return {
        "procedure": rating["procedure"],
        "rrl": rating["rrl"],
        "topic": match["topic"],
        "variant": match["variant"],
    }
