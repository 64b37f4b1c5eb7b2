"""`axilla-kg check` on the command line: formats, exit statuses and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import python_cli, run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "check"


def test_fixture_with_an_error_exits_1_and_names_the_rule() -> None:
    done = python_cli("check", "--stage", "rules", "--data", str(FIXTURES / "contradictory-rating.ttl"))
    assert done.returncode == 1, done.stderr
    assert "conflicting-duplicate-rating" in done.stdout
    assert "Findings: 1 ERROR" in done.stdout


def test_fail_on_levels() -> None:
    clean = python_cli("check", "--stage", "rules", "--stage", "shapes")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    warn = python_cli("check", "--stage", "rules", "--fail-on", "warn")
    assert warn.returncode == 1  # the shipped graph has WARN findings (low-confidence sources)
    broken = python_cli("check", "--stage", "rules", "--fail-on", "none", "--data", str(FIXTURES / "ct-with-o.ttl"))
    assert broken.returncode == 0


def test_json_format_is_the_documented_contract() -> None:
    done = python_cli(
        "check", "--stage", "rules", "--format", "json", "--data", str(FIXTURES / "us-with-radiation.ttl")
    )
    body = json.loads(done.stdout)
    assert set(body) == {"summary", "findings"}
    assert body["summary"]["stages"][0]["stage"] == "rules"
    assert body["summary"]["counts"]["ERROR"] == sum(f["level"] == "ERROR" for f in body["findings"])
    hit = next(f for f in body["findings"] if f["rule"] == "rrl-implausible-for-modality")
    assert set(hit) == {"rule", "level", "stage", "message", "entities", "witness", "source"}
    assert hit["entities"][0] == {"iri": "https://w3id.org/axilla-kg/id/proc-fx-us-radiation", "label": "US fixture"}


@pytest.mark.parametrize("fmt", ["tsv", "md", "table"])
def test_other_formats_list_each_finding(fmt: str) -> None:
    done = python_cli("check", "--stage", "rules", "--format", fmt, "--data", str(FIXTURES / "ct-with-o.ttl"))
    assert done.returncode == 1
    # once per finding in TSV; table and md add the rule's line in the count per rule
    assert done.stdout.count("rrl-implausible-for-modality") == (1 if fmt == "tsv" else 2)
    if fmt == "tsv":
        lines = done.stdout.splitlines()
        assert lines[0].split("\t")[:2] == ["level", "rule"]
        assert all(len(line.split("\t")) == 7 for line in lines)


def test_unreadable_input_exits_2_with_file_and_line() -> None:
    done = python_cli("check", "--data", str(FIXTURES / "syntax-error.ttl"))
    assert done.returncode == 2
    assert "syntax-error.ttl" in done.stderr and "line 5" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    missing = python_cli("check", "--data", "no-such-file.ttl")
    assert missing.returncode == 2 and "no-such-file.ttl" in missing.stderr


def test_bad_usage_exits_2() -> None:
    assert python_cli("check", "--reasoner", "fact++").returncode == 2
    assert python_cli("check", "--fail-on", "sometimes").returncode == 2
    done = python_cli("check", "--stage", "nonsense")
    assert done.returncode == 2 and "unknown check stage" in done.stderr


@pytest.mark.slow
def test_installed_check_passes_on_the_shipped_graph(tmp_path: Path) -> None:
    done = run_cli("check", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    body = json.loads(done.stdout)
    assert body["summary"]["counts"]["ERROR"] == 0
    assert [s["stage"] for s in body["summary"]["stages"]] == ["profile", "logic", "definitions", "shapes", "rules"]
