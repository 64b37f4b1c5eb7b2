"""Runs the check stages in order, times each one and summarises the findings.

``STAGES`` is the one registry of stages: ``run_checks`` runs them in its order, ``--stage``
selects from it by name and the CLI's help lists it. The built-in stages (profile, logic,
definitions, shapes, rules) are entries like any other. A stage is any callable
``(CheckContext) -> list[Finding]``; ``register_stage`` adds one (or replaces one by name) from
outside this package, for a library user's own checks, and the CLI then offers it too.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.definitions import check_definitions
from axilla_kg.checks.findings import Finding, Level, StageResult
from axilla_kg.checks.logic import INCONSISTENT, check_logic, inconsistency_finding
from axilla_kg.checks.profile import check_profile
from axilla_kg.checks.rules import check_rules
from axilla_kg.checks.shapes import check_shapes
from axilla_kg.reasoning.reasoner import InconsistentGraphError

StageFunction = Callable[[CheckContext], list[Finding]]


@dataclass(frozen=True)
class Stage:
    name: str
    run: StageFunction
    description: str = ""
    #: The stage asks the reasoner questions that an inconsistent graph cannot answer (everything
    #: follows from a contradiction); it is skipped, with an INFO finding, once one is found.
    needs_consistency: bool = False


STAGES: list[Stage] = [
    Stage("profile", check_profile, "OWL 2 DL profile (the OWL API's OWL2DLProfile, as ROBOT validate-profile)"),
    Stage("logic", check_logic, "OWL reasoner: consistency and unsatisfiable classes"),
    # set algebra, held equal to HermiT's answers: on an inconsistent graph HermiT has none to give
    # (everything follows), so the stage waits for the logic stage and is skipped after an inconsistency
    Stage(
        "definitions",
        check_definitions,
        "variant classes: overlaps, gaps, cross-topic conflicts (set algebra)",
        needs_consistency=True,
    ),
    Stage("shapes", check_shapes, "SHACL shapes (ontology/*.shapes.ttl)"),
    Stage("rules", check_rules, "guideline rules (queries/checks/*.rq)"),
]


def register_stage(
    name: str,
    run: StageFunction,
    description: str = "",
    *,
    after: str | None = None,
    needs_consistency: bool = False,
) -> None:
    """Add (or replace, by name) a stage; ``after`` places it behind a named stage, else last.
    A stage whose reasoner questions need a consistent graph says so with ``needs_consistency``
    (it may also just raise :class:`axilla_kg.reasoning.reasoner.InconsistentGraphError`)."""
    stage = Stage(name, run, description, needs_consistency)
    existing = [i for i, s in enumerate(STAGES) if s.name == name]
    if existing:
        STAGES[existing[0]] = stage
        return
    if after is not None:
        position = next((i + 1 for i, s in enumerate(STAGES) if s.name == after), len(STAGES))
        STAGES.insert(position, stage)
    else:
        STAGES.append(stage)


@dataclass
class CheckReport:
    """All findings of one run, the time each stage took, and the exit status they imply."""

    stages: list[StageResult] = field(default_factory=list)
    load_seconds: float = 0.0
    triples: int = 0

    @property
    def findings(self) -> list[Finding]:
        """Every finding, most severe first, then by rule and by the entities it names."""
        found = [f for stage in self.stages for f in stage.findings]
        return sorted(found, key=lambda f: (-f.level, f.rule, f.entities, f.message))

    def counts(self) -> dict[str, int]:
        counter = Counter(f.level.name for f in self.findings)
        return {level.name: counter.get(level.name, 0) for level in sorted(Level, reverse=True)}

    def rule_counts(self) -> list[tuple[str, str, int]]:
        """(level, rule, number of findings), in the order of the findings."""
        counter = Counter((f.level.name, f.rule) for f in self.findings)
        return [
            (level, rule, n)
            for (level, rule), n in sorted(counter.items(), key=lambda kv: (-Level[kv[0][0]], kv[0][1]))
        ]

    def apply(self, profile: dict[str, Level | None]) -> None:
        """Give each finding its level from a report profile (see :mod:`axilla_kg.checks.levels`)."""
        from axilla_kg.checks.levels import apply_profile

        for stage in self.stages:
            stage.findings = apply_profile(stage.findings, profile)

    def total_seconds(self) -> float:
        return self.load_seconds + sum(s.seconds for s in self.stages)

    def fails(self, fail_on: str) -> bool:
        """True when a finding at or above ``fail_on`` (error, warn, info or none) exists."""
        if fail_on == "none":
            return False
        threshold = Level.parse(fail_on)
        return any(f.level >= threshold for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": {
                "counts": self.counts(),
                "rules": [{"level": level, "rule": rule, "findings": n} for level, rule, n in self.rule_counts()],
                "triples": self.triples,
                "load_seconds": round(self.load_seconds, 3),
                "stages": [
                    {"stage": s.name, "seconds": round(s.seconds, 3), "findings": len(s.findings)} for s in self.stages
                ],
                "total_seconds": round(self.total_seconds(), 3),
            },
            "findings": [f.as_dict() for f in self.findings],
        }


Progress = Callable[[str, str, float], None]
"""``progress(stage, event, seconds)``: event is "start", "running" (every few seconds) or "done"."""


def run_checks(
    extra: Sequence[str | Path] = (),
    *,
    reasoner: str = "hermit",
    stages: Sequence[str] | None = None,
    include_shipped: bool = True,
    jobs: int = 1,
    progress: Progress | None = None,
) -> CheckReport:
    """Check the shipped graph plus ``extra`` files; ``stages`` selects stages by name (default all).

    ``jobs`` > 1 runs that many stages at once (threads: the profile and logic stages wait on a
    JVM, the others on Oxigraph or Python), stages that need a consistent graph after the logic
    stage; results are reported in stage order either way."""
    started = time.perf_counter()
    ctx = CheckContext.load(extra, reasoner=reasoner, include_shipped=include_shipped)
    report = CheckReport(load_seconds=time.perf_counter() - started, triples=len(ctx.kg))
    if ctx.input_findings:  # e.g. owl:imports never followed (checks.untrusted)
        report.stages.append(StageResult("inputs", list(ctx.input_findings), 0.0))
    selected = list(STAGES) if stages is None else [_stage(name) for name in stages]
    results: dict[str, StageResult] = {}

    def one(stage: Stage) -> StageResult:
        began = time.perf_counter()
        ticker = _Ticker(stage.name, progress, began) if progress is not None else None
        try:
            findings = _run_stage(stage, ctx, results)
        finally:
            if ticker is not None:
                ticker.stop()
        findings = [f if f.stage else _with_stage(f, stage.name) for f in findings]
        result = StageResult(stage.name, findings, time.perf_counter() - began)
        if progress is not None:
            progress(stage.name, "done", result.seconds)
        return result

    # the stages that need a consistent graph run after the others (the logic stage among them), so
    # an inconsistency is known before they start, whatever order the user named the stages in
    first = [s for s in selected if not s.needs_consistency]
    later = [s for s in selected if s.needs_consistency]
    try:
        if jobs <= 1:
            for stage in first + later:
                results[stage.name] = one(stage)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=jobs) as pool:
                for stage, result in zip(first, pool.map(one, first), strict=True):
                    results[stage.name] = result
                for stage, result in zip(later, pool.map(one, later), strict=True):
                    results[stage.name] = result
        report.stages += [results[s.name] for s in selected]
    finally:
        ctx.close()
    return report


class _Ticker:
    """Reports a running stage every ``every`` seconds, from a daemon thread, until stopped."""

    def __init__(self, stage: str, progress: Progress, began: float, every: float = 2.0) -> None:
        import threading

        self.stage, self.progress, self.began, self.every = stage, progress, began, every
        self.stopped = threading.Event()
        progress(stage, "start", 0.0)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            self.progress(self.stage, "running", time.perf_counter() - self.began)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def _inconsistent(results: dict[str, StageResult]) -> bool:
    return any(f.rule == INCONSISTENT for r in list(results.values()) for f in r.findings)


def _run_stage(stage: Stage, ctx: CheckContext, results: dict[str, StageResult]) -> list[Finding]:
    """One stage's findings. An inconsistent graph is what ``check`` exists to report, so it is
    a finding (reported once, with the reasoner's explanation), never an abort of the run."""
    if stage.needs_consistency and _inconsistent(results):
        return [_skipped(stage)]
    try:
        findings = stage.run(ctx)
    except InconsistentGraphError:
        findings = [] if _inconsistent(results) else [inconsistency_finding(ctx)]
        return [*findings, _skipped(stage)]
    if _inconsistent(results):  # e.g. --stage definitions --stage logic: already reported
        findings = [f for f in findings if f.rule != INCONSISTENT]
    return findings


def _skipped(stage: Stage) -> Finding:
    return Finding(
        "check-stage-skipped",
        Level.INFO,
        f"stage '{stage.name}' skipped: it needs a logically consistent graph (see {INCONSISTENT})",
        stage=stage.name,
    )


def _stage(name: str) -> Stage:
    for stage in STAGES:
        if stage.name == name:
            return stage
    from axilla_kg.errors import UsageError

    raise UsageError(f"unknown check stage '{name}' (available: {', '.join(s.name for s in STAGES)})")


def _with_stage(finding: Finding, stage: str) -> Finding:
    from dataclasses import replace

    return replace(finding, stage=stage)
