"""``axilla-kg diff OLD NEW``: what changed between two editions of a topic (ROBOT ``diff`` for
guideline content rather than axioms).

An edition is a topic key of the graph (``235-2017``, ``235``) or an RDF file holding one topic.
Variants are paired across the editions first by definition (the same compiled patient class:
the same patients, whatever the wording), then by title (the most words in common, at least
three quarters of the shorter title), each pairing with its reason; a pair is *unchanged*,
*retitled* or *redefined*; what is left is *added* or *removed*. For each pair the ratings are
compared procedure by procedure: *same*, *changed* (another category), *added*, *removed*, or
*renamed* when the graph records the two procedure names as one procedure (``ax:alsoKnownAs``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axilla_kg.errors import UsageError
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.reads import texts

TITLE_MATCH = 0.75  # share of the shorter title's words the longer one must contain
SUPPORT_FILES = ("core.ttl", "terminology.ttl", "procedures.ttl")  # names of what a topic file cites
NOT_STATED = "(category not stated)"


@dataclass
class Variant:
    number: int
    iri: str
    title: str
    definition: frozenset[Any] | None  # the compiled tests; None when the edition has no definition
    ratings: dict[str, tuple[str, str]] = field(default_factory=dict)  # procedure IRI -> (name, category)


@dataclass
class Edition:
    key: str
    label: str
    variants: list[Variant]
    aliases: dict[str, set[str]]  # procedure IRI -> IRIs recorded as the same procedure


def _words(title: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", title.lower())


def _title_score(a: str, b: str) -> tuple[float, int, int]:
    wa, wb = set(_words(a)), set(_words(b))
    if not wa or not wb:
        return (0.0, 0, 0)
    common = len(wa & wb)
    return (common / min(len(wa), len(wb)), common, min(len(wa), len(wb)))


def load_edition(kg: KnowledgeGraph, key: str) -> Edition:
    """The topic with ``ax:topicKey`` ``key`` as an :class:`Edition`."""
    # the queries take no parameter: the topic is picked in Python, nothing is pasted into SPARQL
    topics = {str(r["key"]): (str(r["t"]), str(r.get("label") or r["key"])) for r in kg.read("topic-labels").records()}
    if key not in topics:
        raise UsageError(f"no topic '{key[:40]}' in the graph (give a topic key such as 235-2017, or an RDF file)")
    topic, label = topics[key]
    rows = [r for r in kg.read("current-variants").records() if str(r["t"]) == topic]
    definitions = _definitions(kg)
    variants = {
        str(r["v"]): Variant(int(str(r["n"])), str(r["v"]), str(r.get("title") or ""), definitions.get(str(r["v"])))
        for r in rows
    }
    ratings = kg.read("current-ratings").records()
    for r in ratings:
        v = variants.get(str(r["v"]))
        if v is not None:
            name = str(r.get("name") or r["p"])
            v.ratings[str(r["p"])] = (name, str(r.get("text") or NOT_STATED))
    aliases: dict[str, set[str]] = {}
    for a, b in texts(kg.read("aliases")):
        aliases.setdefault(str(a), set()).add(str(b))
        aliases.setdefault(str(b), set()).add(str(a))
    return Edition(key, label, sorted(variants.values(), key=lambda v: v.number), aliases)


def _definitions(kg: KnowledgeGraph) -> dict[str, frozenset[Any]]:
    from axilla_kg.recommend.classify import Classifier, CompileError

    try:
        classifier = Classifier.from_graph(kg)
    except CompileError:
        return {}
    return {v.variant_iri: frozenset(v.tests) for v in classifier.variants}


def load(spec: str) -> Edition:
    """A topic key of the shipped graph, or an RDF file with one topic."""
    path = Path(spec)
    if re.fullmatch(r"[0-9]+(-[0-9]{4})?", spec) and not path.exists():
        return load_edition(KnowledgeGraph.load(), spec)
    if not path.is_file():
        raise UsageError(f"'{spec[:80]}' is neither a topic key (such as 235-2017) nor a readable RDF file")
    from axilla_kg.resources import ontology_dir

    kg = KnowledgeGraph.load([*(ontology_dir() / name for name in SUPPORT_FILES), path], include_shipped=False)
    keys = [str(row[0]) for row in texts(kg.read("topic-keys"))]
    if len(keys) != 1:
        raise UsageError(f"{path}: holds {len(keys)} topics ({', '.join(sorted(keys)[:5])}); a file must hold one")
    return load_edition(kg, keys[0])


@dataclass
class Diff:
    old: Edition
    new: Edition
    variants: list[dict[str, Any]]
    ratings: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"old": self.old.key, "new": self.new.key, "variants": self.variants, "ratings": self.ratings}


def diff(old: Edition, new: Edition) -> Diff:
    pairs: list[tuple[Variant, Variant, str]] = []
    left, right = list(old.variants), list(new.variants)
    for a in list(left):  # same definition: the same patients
        if a.definition is None:
            continue
        b = next((b for b in right if b.definition == a.definition), None)
        if b is not None:
            pairs.append((a, b, "same definition"))
            left.remove(a)
            right.remove(b)
    candidates = sorted(
        ((_title_score(a.title, b.title), a.number, b.number, a, b) for a in left for b in right),
        key=lambda c: (-c[0][0], -c[0][1], abs(c[1] - c[2]), c[1], c[2]),
    )
    for (score, common, shorter), _, _, a, b in candidates:
        if score < TITLE_MATCH or a not in left or b not in right:
            continue
        pairs.append((a, b, f"titles share {common} of {shorter} words"))
        left.remove(a)
        right.remove(b)
    variants: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    for a, b, reason in sorted(pairs, key=lambda p: p[1].number):
        if a.title == b.title and (a.definition == b.definition or a.definition is None or b.definition is None):
            change = "unchanged"
        elif a.definition is not None and b.definition is not None and a.definition != b.definition:
            change = "redefined"
        else:
            change = "retitled"
        variants.append({"old": a.number, "new": b.number, "change": change, "reason": reason})
        ratings += _ratings(a, b, new.aliases | old.aliases)
    variants += [{"old": None, "new": b.number, "change": "added", "reason": "no old variant matches"} for b in right]
    variants += [{"old": a.number, "new": None, "change": "removed", "reason": "no new variant matches"} for a in left]
    variants.sort(key=lambda v: (v["new"] is None, v["new"] or 0, v["old"] or 0))
    return Diff(old, new, variants, ratings)


def _ratings(a: Variant, b: Variant, aliases: dict[str, set[str]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    matched: set[str] = set()
    for p, (name, category) in sorted(a.ratings.items(), key=lambda kv: kv[1][0].lower()):
        row = {"old_variant": a.number, "new_variant": b.number, "old_category": category}
        if p in b.ratings:
            matched.add(p)
            new_category = b.ratings[p][1]
            rows.append(
                {**row, "procedure": name, "new_category": new_category}
                | {"change": "same" if new_category == category else "changed"}
            )
            continue
        alias = next((q for q in sorted(aliases.get(p, set())) if q in b.ratings and q not in a.ratings), None)
        if alias is not None:
            matched.add(alias)
            rows.append(
                {**row, "procedure": f"{name} → {b.ratings[alias][0]}", "new_category": b.ratings[alias][1]}
                | {"change": "renamed"}
            )
            continue
        rows.append({**row, "procedure": name, "new_category": None, "change": "removed"})
    for p, (name, category) in sorted(b.ratings.items(), key=lambda kv: kv[1][0].lower()):
        if p not in matched:
            rows.append(
                {
                    "old_variant": a.number,
                    "new_variant": b.number,
                    "procedure": name,
                    "old_category": None,
                    "new_category": category,
                    "change": "added",
                }
            )
    keys = ("old_variant", "new_variant", "procedure", "old_category", "new_category", "change")
    return [{k: r[k] for k in keys} for r in rows]


def render(result: Diff, fmt: str) -> str:
    import json

    from axilla_kg.formats.output import text_table

    if fmt == "json":
        return json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n"
    vhead = ["old", "new", "change", "reason"]
    vrows = [[_cell(v[k]) for k in ("old", "new", "change", "reason")] for v in result.variants]
    rhead = ["old variant", "new variant", "procedure", "old category", "new category", "change"]
    rkeys = ("old_variant", "new_variant", "procedure", "old_category", "new_category", "change")
    rrows = [[_cell(r[k]) for k in rkeys] for r in result.ratings]
    title = f"{result.old.label} ({result.old.key}) → {result.new.label} ({result.new.key})"
    if fmt == "md":
        out = [f"## diff {result.old.key} → {result.new.key}", "", title, "", "### Variants", ""]
        out += [*_md(vhead, vrows), "", "### Ratings of paired variants", "", *_md(rhead, rrows)]
        return "\n".join(out) + "\n"
    return "\n".join(
        [title, "", "Variants", text_table(vhead, vrows), "Ratings of paired variants", text_table(rhead, rrows)]
    )


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _md(head: list[str], rows: list[list[str]]) -> list[str]:
    def esc(text: str) -> str:
        return re.sub(r"[\r\n\t]+", " ", text).replace("|", "\\|")

    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + [
        "| " + " | ".join(esc(c) for c in row) + " |" for row in rows
    ]
