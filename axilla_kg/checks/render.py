"""Output of ``axilla-kg check``: a listing for people (table), TSV, JSON and Markdown.

The JSON form is the contract for programs: ``{"summary": {...}, "findings": [...]}`` with each
finding's rule, level, stage, message, entities (iri, label), witness (a patient case or null)
and source.
"""

from __future__ import annotations

import json
import re

from axilla_kg.checks.findings import Finding
from axilla_kg.checks.runner import CheckReport
from axilla_kg.formats.output import text_table
from axilla_kg.vocab import curie

FORMATS = ("table", "tsv", "json", "md")


def short(iri: str) -> str:
    return curie(iri) or (iri if not iri.startswith("http") else f"<{iri}>")


def _entities(finding: Finding) -> str:
    return "; ".join(f"{short(iri)}" + (f' "{label}"' if label else "") for iri, label in finding.entities)


def _witness(finding: Finding) -> str:
    return json.dumps(finding.witness, ensure_ascii=False, sort_keys=True) if finding.witness is not None else ""


def render(report: CheckReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "tsv":
        return _tsv(report)
    if fmt == "md":
        return _markdown(report)
    return _table(report)


def _clean(text: str) -> str:
    return re.sub(r"[\t\r\n]+", " ", text)


def _tsv(report: CheckReport) -> str:
    lines = ["level\trule\tstage\tentities\tmessage\twitness\tsource"]
    for f in report.findings:
        cells = [f.level.name, f.rule, f.stage, _entities(f), f.message, _witness(f), f.source or ""]
        lines.append("\t".join(_clean(c) for c in cells))
    return "\n".join(lines) + "\n"


def _summary_rows(report: CheckReport) -> list[list[object]]:
    rows: list[list[object]] = [["load", f"{report.load_seconds:.2f}", ""]]
    rows += [[s.name, f"{s.seconds:.2f}", len(s.findings)] for s in report.stages]
    rows.append(["total", f"{report.total_seconds():.2f}", len(report.findings)])
    return rows


def _counts_line(report: CheckReport) -> str:
    return ", ".join(f"{n} {level}" for level, n in report.counts().items())


def _rules_table(report: CheckReport) -> str:
    rows: list[list[object]] = [[level, rule, n] for level, rule, n in report.rule_counts()]
    return text_table(["level", "rule", "findings"], rows).rstrip("\n")


def _table(report: CheckReport) -> str:
    out: list[str] = []
    for f in report.findings:
        out.append(f"{f.level.name:<5}  {f.rule}  ({f.stage})")
        if f.entities:
            out.append(f"       {_entities(f)}")
        out.append(f"       {f.message}")
        if f.witness is not None:
            out.append(f"       witness case: {_witness(f)}")
        if f.source:
            out.append(f"       source: {f.source}")
    if out:
        out.append("")
    if report.findings:
        out.append(_rules_table(report))
        out.append("")
    out.append(text_table(["stage", "seconds", "findings"], _summary_rows(report)).rstrip("\n"))
    out.append(f"Findings: {_counts_line(report)}")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return _clean(text).replace("|", "\\|")


MD_SHOWN_PER_RULE = 20  # findings listed per rule before the rest is folded away


def _markdown(report: CheckReport) -> str:
    """A pull-request comment: the verdict, a count per rule, then each rule's findings (most
    severe first), folded in ``<details>`` so a long list does not bury the summary."""
    counts = report.counts()
    verdict = "❌" if counts.get("ERROR") else ("⚠️" if counts.get("WARN") else "✅")
    out = [f"## {verdict} axilla-kg check", "", f"**Findings:** {_counts_line(report)}", ""]
    if report.findings:
        out += ["| level | rule | findings |", "|---|---|---:|"]
        out += [f"| {level} | `{rule}` | {n} |" for level, rule, n in report.rule_counts()]
        out.append("")
        for level, rule, n in report.rule_counts():
            mine = [f for f in report.findings if f.rule == rule and f.level.name == level]
            fold = "<details open>" if level == "ERROR" else "<details>"
            out += [f"{fold}<summary><b>{level}</b> <code>{rule}</code> ({n})</summary>", ""]
            out += ["| entities | message |", "|---|---|"]
            for f in mine[:MD_SHOWN_PER_RULE]:
                message = f.message + (f" — witness case: `{_witness(f)}`" if f.witness is not None else "")
                out.append(f"| {_md_cell(_entities(f))} | {_md_cell(message)} |")
            if n > MD_SHOWN_PER_RULE:
                out.append(f"| … | {n - MD_SHOWN_PER_RULE} more (see `--format json`) |")
            out += ["", "</details>", ""]
    out += ["<details><summary>stages</summary>", "", "| stage | seconds | findings |", "|---|---:|---:|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in _summary_rows(report)]
    out += ["", "</details>"]
    return "\n".join(out) + "\n"
