"""``dose``: per-study and cumulative effective-dose bands for a sequence of studies."""

from __future__ import annotations

import argparse
import json

from axilla_kg.cli.common import Wanted, add_command, add_common, graph, whole_number


def register(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "dose",
        "radiation-dose bands of a sequence of studies",
        "The seed article's dose calculator: each study's relative radiation level (RRL) and effective-dose "
        "band, and the cumulative band of the sequence. A level we do not know is reported as unknown, never "
        "counted as zero.",
    )
    p.set_defaults(run=run_dose)
    if wanted("dose"):
        p.add_argument("procedures", nargs="+", metavar="PROCEDURE", help="exact ACR procedure names, in order")
        p.add_argument("--age", type=whole_number, default=None, help="age in years; under 18 uses the pediatric bands")
        add_common(p)


def run_dose(args: argparse.Namespace) -> str:
    from axilla_kg.formats.output import records_table
    from axilla_kg.recommend.dose import dose_report

    report = dose_report(graph(args), args.procedures, args.age).as_dict()
    if args.format == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    rows = [dict(s, band=s["band"] or "unknown", rrl=s["rrl"] or "unknown") for s in report["studies"]]
    columns = ["procedure", "rrl", "band", "dose_min_msv", "dose_max_msv", "confidence"]
    if args.format in ("csv", "tsv"):
        return records_table(rows, columns, args.format)
    total = report["cumulative"]
    text = f"Population: {report['population']}" + (f" (age {report['age']})" if report["age"] is not None else "")
    text += "\n" + records_table(rows, ["procedure", "rrl", "band", "confidence"], "table")
    text += f"\nCumulative: {total['band']}"
    if total["unknown"]:
        text += f"\nUnknown radiation level for: {', '.join(total['unknown'])} (not counted as zero)"
    return text + "\nRRLs are population estimates, not a dose for any one patient.\n"
