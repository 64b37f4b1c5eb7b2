"""``check``: profile, logic, shape and guideline-rule checks of the graph (exit 1 on findings at --fail-on)."""

from __future__ import annotations

import argparse

from axilla_kg.cli.common import Output, Wanted, add_command, add_data, add_format
from axilla_kg.errors import UsageError


def register(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "check",
        "check the graph: OWL 2 DL profile, OWL reasoner, SHACL shapes and guideline rules",
        "Check the shipped graph (plus --data files): OWL 2 DL profile (OWL API), logical consistency "
        "(OWL reasoner), what the variant definitions mean for patients (OWL reasoner), well-formedness "
        "(SHACL) and guideline rules (SPARQL). Exit status 1 when a finding at or above --fail-on exists, "
        "0 otherwise, 2 on bad usage or unreadable input.",
    )
    p.set_defaults(run=run_check)
    if not wanted("check"):
        return
    from axilla_kg.checks.render import FORMATS
    from axilla_kg.checks.runner import STAGES
    from axilla_kg.reasoning.reasoner import REASONERS

    add_data(p, "check together with the shipped graph")
    p.add_argument(
        "--fail-on",
        choices=("error", "warn", "info", "none"),
        default="error",
        help="lowest level that makes the exit status 1 (default error)",
    )
    add_format(p, FORMATS, note="md: a Markdown report")
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


def run_check(args: argparse.Namespace) -> Output:
    from axilla_kg.checks.render import render
    from axilla_kg.checks.runner import run_checks

    forbid_network_for_check(args)
    report = run_checks(args.data, reasoner=args.reasoner, stages=args.stage)
    return Output(render(report, args.format), 1 if report.fails(args.fail_on) else 0)


def forbid_network_for_check(args: argparse.Namespace) -> None:
    """No stage of ``check`` needs the network, so none may use it: the seccomp barrier
    (:mod:`axilla_kg.sandbox`) is installed before any file is read or any JVM starts, and the
    reasoners' JVMs inherit it. Only when the CLI owns its process (the barrier is permanent)."""
    if not getattr(args, "owns_process", False):
        return
    from axilla_kg.sandbox import SandboxUnavailable, forbid_network

    try:
        forbid_network()
    except SandboxUnavailable as exc:
        raise UsageError(f"{exc}; check refuses to run without it") from None
