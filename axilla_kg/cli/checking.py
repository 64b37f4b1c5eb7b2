"""``check``: profile, logic, shape and guideline-rule checks of the graph (exit 1 on findings at --fail-on)."""

from __future__ import annotations

import argparse

from axilla_kg.checks.render import FORMATS, render
from axilla_kg.checks.runner import STAGES, run_checks
from axilla_kg.cli.common import Output
from axilla_kg.reasoning.reasoner import REASONERS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check the graph: OWL 2 DL profile, OWL reasoner, SHACL shapes and guideline rules",
        description="Check the shipped graph (plus --data files): OWL 2 DL profile (OWL API), logical consistency "
        "(OWL reasoner), well-formedness (SHACL) and guideline rules (SPARQL). Exit status 1 when a finding at or "
        "above --fail-on exists, 0 otherwise, 2 on bad usage or unreadable input.",
    )
    p.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="FILE",
        help="extra RDF file to check together with the shipped graph (repeatable)",
    )
    p.add_argument(
        "--fail-on",
        choices=("error", "warn", "info", "none"),
        default="error",
        help="lowest level that makes the exit status 1 (default error)",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="table for people; tsv, json or md")
    p.add_argument("--reasoner", choices=REASONERS, default="hermit", help="OWL reasoner (default hermit)")
    p.add_argument(
        "--stage",
        action="append",
        default=None,
        metavar="NAME",
        help="run only this stage (repeatable; default all, in this order: "
        + ", ".join(stage.name for stage in STAGES)
        + ")",
    )
    p.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> Output:
    report = run_checks(args.data, reasoner=args.reasoner, stages=args.stage)
    return Output(render(report, args.format), 1 if report.fails(args.fail_on) else 0)
