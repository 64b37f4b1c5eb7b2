"""``variants`` and ``show``: browsing the variants of a topic."""

from __future__ import annotations

import argparse
import json
from typing import Any

from axilla_kg.cli.common import Wanted, add_command, add_common, graph, whole_number

RATING_COLUMNS = ["procedure", "category", "rrl", "rating", "median", "soe", "confidence", "source_record"]


def register(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "variants",
        "list the variants of a topic with their titles",
        "List the clinical variants of one ACR topic: number, official title, how many ratings the graph "
        "holds and whether its rating table is complete.",
    )
    p.set_defaults(run=run_variants)
    if wanted("variants"):
        p.add_argument("--topic", default="286", help="topic key (default 286; e.g. 235, 235-2017)")
        add_common(p)

    p = add_command(
        sub,
        "show",
        "everything about one variant",
        "Everything the graph holds about one variant: title, defining features, ratings (best category "
        "first, then lower radiation) with their sources and confidence, differentials, workflow, pitfalls, "
        "clinical facts and related variants. An incomplete rating table is labelled as such.",
    )
    p.set_defaults(run=run_show)
    if wanted("show"):
        p.add_argument("variant", type=whole_number, help="variant number")
        p.add_argument("--topic", default="286", help="topic key (default 286; e.g. 235, 235-2017)")
        add_common(p)


def run_variants(args: argparse.Namespace) -> str:
    from axilla_kg.formats.output import records_table
    from axilla_kg.graph.summary import list_variants

    rows = list_variants(graph(args), args.topic)
    return records_table(rows, ["topic", "variant", "title", "ratings", "complete"], args.format)


def run_show(args: argparse.Namespace) -> str:
    from axilla_kg.formats.output import records_table
    from axilla_kg.graph.summary import variant_summary

    summary = variant_summary(graph(args), args.variant, args.topic)
    if args.format == "json":
        return json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n"
    if args.format in ("csv", "tsv"):
        return records_table(
            summary["ratings"],
            ["procedure", "category", "rrl", "rating", "median", "soe", "source", "confidence"],
            args.format,
        )
    return _show_text(summary)


def _section(title: str, body: str) -> str:
    return f"\n{title}\n{body}"


def _show_text(s: dict[str, Any]) -> str:
    from axilla_kg.formats.output import text_table

    out = [f"ACR topic {s['topic']}, variant {s['variant']}", s["title"]]
    if s["complete"]:
        out.append("Rating table: complete.")
    else:
        out.append(
            "Rating table: INCOMPLETE in this graph - a procedure not listed is unrated in our data, "
            "not 'not appropriate'. " + (s["completeness_note"] or "")
        )
    features = [
        [k, v if not isinstance(v, dict) else " ".join(f"{r} {n}" for r, n in v.items())]
        for k, v in s["features"].items()
    ]
    text = "\n".join(out) + "\n"
    text += _section("Defining features", text_table(["feature", "accepts"], features, max_width=90))
    ratings = [[r.get(c) for c in RATING_COLUMNS] for r in s["ratings"]]
    text += _section("Ratings (best category first, then lower radiation)", text_table(RATING_COLUMNS, ratings))
    if s["differentials"]:
        rows = [
            [d["diagnosis"], d["likelihood"], d["distinguishing_features"], d["confidence"]] for d in s["differentials"]
        ]
        text += _section(
            "Differential diagnoses", text_table(["diagnosis", "likelihood", "features", "confidence"], rows)
        )
    if s["workflow"]:
        rows = [
            [w["order"], w["after"], w["outcome"], w["next_steps"], w["stage"] or w["managed_as"], w["confidence"]]
            for w in s["workflow"]
        ]
        text += _section(
            "Downstream workflow", text_table(["#", "after", "outcome", "next steps", "stage", "confidence"], rows)
        )
    if s["pitfalls"]:
        rows = [[p["pitfall"], p["avoided_by"], p["confidence"]] for p in s["pitfalls"]]
        text += _section("Pitfalls", text_table(["pitfall", "avoided by", "confidence"], rows))
    if s["facts"]:
        rows = [[f["fact"], f["procedures"], f["reserved_for"], f["confidence"]] for f in s["facts"]]
        text += _section("Clinical facts", text_table(["fact", "procedures", "reserved for", "confidence"], rows))
    if s["related_variants"]:
        rows = [
            [
                r["direction"],
                f"{r['other_topic']} V{r['other_variant']}",
                r["relation"] or "",
                r["differs_in"],
                r["kind"],
                r["confidence"],
            ]
            for r in s["related_variants"]
        ]
        columns = ["dir", "variant", "relation", "differs in", "kind", "confidence"]
        text += _section("Related variants", text_table(columns, rows))
    text += (
        "\nSource: ACR Appropriateness Criteria (c) American College of Radiology; "
        "authoritative tables at https://acsearch.acr.org\n"
    )
    return text
