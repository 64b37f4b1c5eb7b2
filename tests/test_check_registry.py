"""The check stages are one registry (``STAGES``) that the runner and the CLI both read: a stage
registered from outside runs through ``run_checks`` and ``axilla-kg check --stage`` alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from axilla_kg.checks import STAGES, CheckContext, Finding, Level, register_stage, run_checks

from conftest import cli_in_process


def _count_topics(ctx: CheckContext) -> list[Finding]:
    (row,) = ctx.kg.sparql("SELECT (COUNT(?t) AS ?n) WHERE { ?t a ax:Topic }").records()
    return [Finding("topic-count", Level.INFO, f"{row['n']} topics")]


@pytest.fixture
def extra_stage() -> Iterator[str]:
    saved = list(STAGES)
    register_stage("topic-count", _count_topics, "counts topics", after="profile")
    yield "topic-count"
    STAGES[:] = saved


def test_registered_stage_runs_in_order(extra_stage: str) -> None:
    assert [s.name for s in STAGES][:2] == ["profile", extra_stage]
    report = run_checks(stages=[extra_stage])
    (finding,) = report.findings
    # 7 topic keys: 286, 235, 235-2017, 153, 179, 205, 310 (README)
    assert (finding.rule, finding.stage, finding.message) == ("topic-count", extra_stage, "7 topics")


def test_cli_offers_and_runs_a_registered_stage(extra_stage: str) -> None:
    check_help = cli_in_process("check", "--help")
    assert check_help.returncode == 0
    assert f"profile, {extra_stage}, logic" in " ".join(check_help.stdout.split())
    done = cli_in_process("check", "--stage", extra_stage, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert '"7 topics"' in done.stdout
