"""One draft order against one recommendation: which of our procedures it is and what it rates.

Identifying the procedure (:func:`identify`): every part of ``ServiceRequest.code`` is read — each
coding through the SSSOM order mapping (:mod:`ordermap`), else a verified mapping of
``ontology/mappings.ttl``; ``code.text`` (and the display of a coding of an unknown system) as the
exact ACR name or a catalogue name (:mod:`catalogue`). The order is the studies *every* part names:
parts that name different studies, or a text naming two, make it ambiguous (never rated); a CPT,
HCPCS or LOINC code outside the mapping, or a text longer than a catalogue name, never agrees with
another part; nothing readable is "not a procedure we know" (no rating). A code covering several ACR
procedures leaves several; :func:`judge_order` lets the indication decide between them.

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
5. A procedure the facts already decide (the recommender's ``decided``, issue 18) is rated even
   where step 3 would wait for facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from axilla_kg.cdshooks import catalogue, codes, ordermap
from axilla_kg.cdshooks.markdown import md_escape
from axilla_kg.contract.fields import field_names
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.recommend.recommender import PRIMARY_TOPIC
from axilla_kg.vocab import category_text


@dataclass
class Verdict:
    """What the service says about one order."""

    kind: str  # rated | needs | conflict | several | unrated | no-criteria
    procedure: str | None
    category: str | None = None
    rrl: str | None = None
    variants: list[tuple[str, int]] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    alternative: dict[str, Any] | None = None
    #: for an order covering several ACR procedures: the others, each with what was found for it
    covered: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pama(self) -> str | None:
        if self.kind == "rated":
            return codes.PAMA_BY_CATEGORY.get(self.category or "")
        return "no-criteria-apply" if self.kind == "no-criteria" else None


#: Standard procedure code systems: a code of one of them that we do not map may name any study, so it
#: never agrees with another part. (A local order-catalogue code system says nothing; its display is read.)
STANDARD_SYSTEMS = frozenset({*ordermap.SYSTEM_NAMES, codes.SNOMED, "http://www.radlex.org"})
#: The set an order part stands for when it names an imaging study that is none of ours.
OTHER_STUDY = "\x00another study"


@dataclass
class Identified:
    """What an order names: ``known`` (one or more ACR procedures; several when one code or text covers
    several and the indication must decide), ``ambiguous`` (its parts name different studies, or its
    text names several) or ``unknown`` (nothing we can map). ``readings`` say how each part was read
    (Markdown: our wording, with anything a client sent escaped)."""

    status: str
    procedures: tuple[str, ...] = ()
    readings: list[str] = field(default_factory=list)


_SYSTEM_LABELS = {**ordermap.SYSTEM_NAMES, codes.SNOMED: "SNOMED CT", "http://www.radlex.org": "RadLex"}


def _code_name(system: str) -> str:
    """A code system as the card names it (a system we do not know: its URI, escaped)."""
    return _SYSTEM_LABELS.get(system) or md_escape(system[:80])


def _text_set(lookup: Lookup, text: str, where: str, readings: list[str]) -> set[str] | None:
    """The procedures a text names: its exact ACR name, else its catalogue normal form; None when the
    text names no study we can read (it then says nothing either way)."""
    if text in lookup.procedure_info:
        readings.append(f"{where} is the ACR procedure name")
        return {text}
    if len(text) > catalogue.MAX_TEXT:
        # longer than any catalogue name: it could hide another study's name, so it never agrees
        readings.append(f"{where} is longer than a catalogue name ({len(text)} characters): not read")
        return {OTHER_STUDY}
    form = catalogue.normalise(text)
    if form.several_studies:
        readings.append(f"{where} names several studies ({form.describe()})")
        return set()
    if not form.names_a_study:
        return None
    rows = [
        row
        for row in ordermap.shipped().catalogue
        for region in form.regions
        if catalogue.matches(row.features(), form, region)
    ]
    if form.contrast is None and any("contrast" not in r.features() for r in rows):
        # no contrast named and a study of this kind without a contrast attribute exists (mammography):
        # the plain study is meant, not its contrast-enhanced form
        rows = [r for r in rows if "contrast" not in r.features()]
    if not rows:
        readings.append(f"{where} reads as {form.describe()}: no ACR procedure of these criteria")
        return {OTHER_STUDY}
    names = {r.procedure for r in rows}
    fdg = form.tracer is None and any("tracer=" in r.subject_label for r in rows)
    assumed = " (no tracer named: read as FDG)" if fdg else ""
    readings.append(f"{where} reads as {form.describe()}{assumed} -> {', '.join(sorted(names))}")
    return names


def identify(lookup: Lookup, concept: dict[str, Any] | None) -> Identified:
    """Which ACR procedures an order's ``code`` names, read from every part: each coding (by the SSSOM
    mapping, else a verified mapping of ``ontology/mappings.ttl``, else its display as text) and
    ``code.text``. Parts that name studies must agree: the order is the studies all of them name; when
    their intersection is empty (or a text names two studies) the order is ambiguous."""
    if not concept:
        return Identified("unknown")
    readings: list[str] = []
    parts: list[set[str]] = []
    several = False
    for i, c in enumerate(concept.get("coding") or []):
        system, code = str(c.get("system")), str(c.get("code"))
        rows = ordermap.shipped().for_coding(system, code)
        where = f"{_code_name(system)} {code}"
        if rows:
            parts.append({r.procedure for r in rows})
            for r in rows:
                readings.append(
                    f"{where} -> {r.procedure} (skos:{r.predicate}, confidence {r.confidence:g}; source {r.source})"
                )
            continue
        name = lookup.procedure_for_code(system, code)
        if name is not None:
            parts.append({name})
            readings.append(f"{where} -> {name} (ontology/mappings.ttl)")
            continue
        display = c.get("display")
        shown = display if isinstance(display, str) and display.strip() else None
        found = _text_set(lookup, shown, f"coding[{i}].display", readings) if shown else None
        if system in STANDARD_SYSTEMS and found is None:
            # a standard procedure code we do not map, with no display we can read (a LOINC playbook
            # name such as "US Axilla - left" is read above): it may name any study, so it never
            # agrees with a part that names one of ours (no rating on a guess)
            where = f"{_code_name(system)} {md_escape(code[:40])}"  # a client's code, not one of ours
            parts.append({OTHER_STUDY})
            readings.append(f"{where} is not in the order mapping (another study, or one not mapped)")
            continue
        if found is not None:
            several = several or not found
            parts.append(found)
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        found = _text_set(lookup, text, "code.text", readings)
        if found is not None:
            several = several or not found
            parts.append(found)
    if several:
        return Identified("ambiguous", readings=readings)
    if not parts:
        return Identified("unknown", readings=readings)
    common = set.intersection(*parts)
    if not common:
        return Identified("ambiguous", readings=readings)
    if common == {OTHER_STUDY}:
        return Identified("unknown", readings=readings)
    order = {name: i for i, name in enumerate(lookup.procedures)}
    return Identified("known", tuple(sorted(common, key=lambda n: order.get(n, len(order)))), readings)


def procedure_of(lookup: Lookup, concept: dict[str, Any] | None) -> str | None:
    """Our procedure name for a FHIR CodeableConcept when it names exactly one, else None."""
    found = identify(lookup, concept)
    return found.procedures[0] if found.status == "known" and len(found.procedures) == 1 else None


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
    best_category = category_text("ax:UsuallyAppropriate")
    for m in deciding:
        for r in m["ratings"]:
            level = order.get(r["rrl"] or "")
            if r["category"] != best_category or r["procedure"] == procedure or level is None:
                continue
            if level < mine and (best is None or level < best[0]):
                best = (level, r, m)
    if best is None:
        return None
    _, rating, match = best
    return {
        "procedure": rating["procedure"],
        "category": rating["category"],
        "rrl": rating["rrl"],
        "topic": match["topic"],
        "variant": match["variant"],
    }


def _says(v: Verdict) -> str:
    return {
        "rated": str(v.category),
        "needs": "needs more facts",
        "conflict": "criteria conflict",
        "unrated": "not rated in our data",
        "no-criteria": "no criteria apply",
    }.get(v.kind, v.kind)


def judge_order(lookup: Lookup, result: dict[str, Any], procedures: tuple[str, ...]) -> Verdict:
    """The verdict for an order that may be any of ``procedures`` (one code covering several ACR
    procedures): the indication decides. While any of them still needs facts (or conflicts), the order
    needs them too; otherwise the procedures the matching variants rate decide - one rating, or the same
    category for all of them; different categories are no single rating ("several")."""
    verdicts = [_decided(judge(lookup, result, p), result) for p in procedures]
    if len(verdicts) == 1:
        return verdicts[0]
    covered = [(v.procedure or "", _says(v)) for v in verdicts]
    open_ = [v for v in verdicts if v.kind in ("needs", "conflict")]
    if open_:
        first = open_[0]
        if first.kind == "needs":
            wanted = {f for v in open_ for f in v.needs}
            first.needs = [f for f in field_names() if f in wanted]
            first.variants = sorted({t for v in open_ for t in v.variants})
        first.covered = [c for c in covered if c[0] != first.procedure]
        return first
    rated = [v for v in verdicts if v.kind == "rated"]
    if rated and len({v.category for v in rated}) == 1:
        chosen = rated[0]
        chosen.covered = [c for c in covered if c[0] != chosen.procedure]
        return chosen
    if rated:
        return Verdict(
            "several",
            None,
            variants=sorted({t for v in rated for t in v.variants}),
            covered=covered,
        )
    kinds = {v.kind for v in verdicts}
    base = verdicts[0] if kinds == {"no-criteria"} else next(v for v in verdicts if v.kind == "unrated")
    base.covered = [c for c in covered if c[0] != base.procedure]
    return base


def _decided(verdict: Verdict, result: dict[str, Any]) -> Verdict:
    """Issue 18: a procedure the facts already decide (``result["decided"]``: every variant that could
    still apply rates it in one category) is rated although other facts are missing."""
    if verdict.kind != "needs" or not verdict.procedure:
        return verdict
    for d in result.get("decided") or []:
        if d.get("procedure") == verdict.procedure and d.get("category"):
            return Verdict(
                "rated", verdict.procedure, str(d["category"]), d.get("rrl"), variant_pairs(d.get("variants"))
            )
    return verdict


def variant_pairs(variants: Any) -> list[tuple[str, int]]:
    """(topic, number) of each variant of a ``decided`` entry (``{"topic", "variant", ...}`` objects)."""
    out: list[tuple[str, int]] = []
    for v in variants or []:
        if isinstance(v, dict):
            out.append((str(v.get("topic")), int(v.get("variant", 0))))
        elif isinstance(v, (list, tuple)) and len(v) == 2:
            out.append((str(v[0]), int(v[1])))
    return out
