"""``feedback-report``: what clinicians did with the CDS Hooks cards, per ACR variant and procedure."""

from __future__ import annotations

import argparse
import json

from axilla_kg.cli.common import Wanted, add_command
from axilla_kg.errors import UsageError


def register(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "feedback-report",
        "overrides of the CDS Hooks cards per variant and procedure",
        "Read the feedback database of 'axilla-kg serve --cds-feedback-db FILE' (CDS Hooks 2.0 feedback: "
        "accepted or overridden, with the override reason) and report, per ACR variant and procedure, how often "
        "the card was overridden and why: for the guideline authors. Most overridden first.",
    )
    p.set_defaults(run=run_report)
    if wanted("feedback-report"):
        p.add_argument("--db", required=True, metavar="FILE", help="the SQLite file given to serve --cds-feedback-db")
        p.add_argument("--format", choices=("table", "json"), default="table", help="table (default) or json")


def run_report(args: argparse.Namespace) -> str:
    import sqlite3

    from axilla_kg.cdshooks.feedback import override_report
    from axilla_kg.formats.output import records_table

    try:
        rows = override_report(args.db)
    except FileNotFoundError:
        raise UsageError(f"--db: no feedback database at {args.db[:200]}") from None
    except sqlite3.Error as exc:
        raise UsageError(f"--db {args.db[:200]}: not a feedback database ({exc})") from None
    if args.format == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if not rows:
        return "No feedback recorded yet.\n"
    table = [
        {
            "variant": r["variant"],
            "procedure": r["procedure"],
            "category": r["category"] or "",
            "feedback": r["feedback"],
            "overridden": r["overridden"],
            "accepted": r["accepted"],
            "reasons": "; ".join(f"{x['reason']} ({x['count']})" for x in r["reasons"]),
        }
        for r in rows
    ]
    columns = ["variant", "procedure", "category", "feedback", "overridden", "accepted", "reasons"]
    return records_table(table, columns, "table")
