"""``check``: profile, logic, shape and guideline-rule checks of the graph (exit 1 on findings at --fail-on)."""

from __future__ import annotations

import argparse

from axilla_kg.cli.common import Output, Wanted, add_command, add_data, add_format, bounded_int
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
    register_diff(sub, wanted)
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
        "--profile",
        metavar="FILE",
        help="report profile: lines 'LEVEL rule-id' (ERROR, WARN, INFO or IGNORE) that override rule levels",
    )
    p.add_argument(
        "--jobs",
        type=bounded_int(1, 16, "a number of stages"),
        default=1,
        metavar="N",
        help="run up to N stages at once (default 1)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="report each stage's progress on stderr (default: when stderr is a terminal)",
    )
    p.add_argument(
        "--stage",
        action="append",
        default=None,
        metavar="NAME",
        help="run only this stage (repeatable; default all, in this order: "
        + ", ".join(stage.name for stage in STAGES)
        + ")",
    )


def register_diff(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "diff",
        "compare two editions of a topic: variants paired, ratings same/changed/added/removed/renamed",
        "Compare two editions of a topic, each a topic key of the graph (235-2017, 235) or an RDF file "
        "holding one topic: variants are paired by definition, then by title (with the reason), and marked "
        "unchanged, retitled, redefined, added or removed; the ratings of each pair are compared procedure by "
        "procedure (renames from ax:alsoKnownAs). Exit status 0, or 2 on bad usage or unreadable input.",
    )
    p.set_defaults(run=run_diff)
    if not wanted("diff"):
        return
    p.add_argument("old", metavar="OLD", help="older edition: topic key (e.g. 235-2017) or RDF file")
    p.add_argument("new", metavar="NEW", help="newer edition: topic key (e.g. 235) or RDF file")
    add_format(p, ("table", "json", "md"), note="md: Markdown tables")


def run_diff(args: argparse.Namespace) -> Output:
    from axilla_kg.checks.editions import diff, load, render

    return Output(render(diff(load(args.old), load(args.new)), args.format), 0)


def _progress(stage: str, event: str, seconds: float) -> None:
    """One stderr line per stage start, every couple of seconds while it runs, and at its end."""
    import sys

    text = {"start": f"check: {stage} ...", "running": f"check: {stage} running, {seconds:.0f} s"}
    line = text.get(event, f"check: {stage} done in {seconds:.1f} s")
    print(line, file=sys.stderr, flush=True)


def run_check(args: argparse.Namespace) -> Output:
    import sys

    from axilla_kg.checks.levels import read_profile
    from axilla_kg.checks.render import render
    from axilla_kg.checks.runner import run_checks

    profile = read_profile(args.profile) if args.profile else {}  # a bad profile fails before any stage runs
    forbid_network_for_check(args)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    report = run_checks(
        args.data, reasoner=args.reasoner, stages=args.stage, jobs=args.jobs, progress=_progress if show else None
    )
    report.apply(profile)
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
