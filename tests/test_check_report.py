"""The report of `axilla-kg check`: ordered by level then rule, a count per rule, one label per
entity whatever the stage, report profiles (rule → level, validated), Markdown for a pull
request, progress on stderr and `--jobs`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from axilla_kg.checks.findings import Level

from conftest import python_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "check"
STAGES = ("--stage", "definitions", "--stage", "rules")


def _json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = python_cli("check", *STAGES, "--format", "json", "--fail-on", "none", *args)
    assert done.returncode == 0, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_findings_ordered_by_level_then_rule_with_a_count_per_rule() -> None:
    _, body = _json("--data", str(FIXTURES / "overlapping-variants.ttl"))
    keys = [(-Level[f["level"]], f["rule"]) for f in body["findings"]]
    assert keys == sorted(keys) and len({k[0] for k in keys}) > 1
    counted = {(r["level"], r["rule"]): r["findings"] for r in body["summary"]["rules"]}
    actual: dict[tuple[str, str], int] = {}
    for f in body["findings"]:
        actual[(f["level"], f["rule"])] = actual.get((f["level"], f["rule"]), 0) + 1
    assert counted == actual


def test_one_label_per_entity_across_stages() -> None:
    _, body = _json("--data", str(FIXTURES / "overlapping-variants.ttl"))
    labels: dict[str, set[str]] = {}
    stages: dict[str, set[str]] = {}
    for f in body["findings"]:
        for e in f["entities"]:
            labels.setdefault(e["iri"], set()).add(e["label"])
            stages.setdefault(e["iri"], set()).add(f["stage"])
    assert all(len(v) == 1 for v in labels.values()), {k: v for k, v in labels.items() if len(v) > 1}
    # variant 4 of topic 286 is named by both stages (a cross-topic conflict, an incomplete table)
    v4 = "https://w3id.org/axilla-kg/id/topic-286-variant-4"
    assert stages[v4] == {"definitions", "rules"} and labels[v4] == {"ACR 286 variant 4"}


def test_profile_overrides_levels_and_sets_the_exit_status(tmp_path: Path) -> None:
    profile = tmp_path / "profile.txt"
    profile.write_text("# release gate\nERROR cross-topic-conflict\nIGNORE variant-gap\n\nwarn category-not-stated\n")
    done = python_cli("check", *STAGES, "--format", "json", "--profile", str(profile))
    assert done.returncode == 1  # cross-topic conflicts of the shipped graph are now errors
    body = json.loads(done.stdout)
    rules = {(f["rule"], f["level"]) for f in body["findings"]}
    assert ("cross-topic-conflict", "ERROR") in rules and ("category-not-stated", "WARN") in rules
    assert not any(f["rule"] == "variant-gap" for f in body["findings"])
    default = python_cli("check", *STAGES, "--format", "json")
    assert default.returncode == 0  # without the profile nothing is an error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ERROR no-such-rule\n", "profile.txt:1: unknown rule 'no-such-rule'"),
        ("# ok\nSEVERE variant-gap\n", "profile.txt:2: unknown level 'SEVERE'"),
        ("ERROR\n", "profile.txt:1: expected 'LEVEL rule-id'"),
    ],
)
def test_bad_profile_is_one_line_exit_2(tmp_path: Path, text: str, expected: str) -> None:
    profile = tmp_path / "profile.txt"
    profile.write_text(text)
    done = python_cli("check", *STAGES, "--profile", str(profile))
    assert done.returncode == 2 and done.stdout == ""
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_missing_profile_is_exit_2(tmp_path: Path) -> None:
    done = python_cli("check", *STAGES, "--profile", str(tmp_path / "absent.txt"))
    assert done.returncode == 2 and "absent.txt" in done.stderr and done.stdout == ""


def test_markdown_is_a_pull_request_comment() -> None:
    done = python_cli("check", *STAGES, "--format", "md", "--data", str(FIXTURES / "overlapping-variants.ttl"))
    text = done.stdout
    assert text.startswith("## ") and "| level | rule | findings |" in text
    _, body = _json("--data", str(FIXTURES / "overlapping-variants.ttl"))
    overlaps = sum(f["rule"] == "variant-overlap" for f in body["findings"])
    assert f"<details><summary><b>WARN</b> <code>variant-overlap</code> ({overlaps})</summary>" in text
    assert text.index("variant-overlap") < text.index("incomplete-rating-table")  # WARN before INFO


def test_progress_on_request_and_jobs_give_the_same_findings() -> None:
    one = python_cli("check", *STAGES, "--stage", "shapes", "--format", "json", "--progress")
    assert "check: rules ..." in one.stderr and "check: rules done in" in one.stderr
    two = python_cli("check", *STAGES, "--stage", "shapes", "--format", "json", "--jobs", "2", "--no-progress")
    assert two.stderr == ""
    assert json.loads(one.stdout)["findings"] == json.loads(two.stdout)["findings"]
    assert python_cli("check", "--jobs", "0").returncode == 2


@pytest.mark.parametrize("text", ["\u0662", "1_0", "+2", "17"])
def test_jobs_is_a_plain_ascii_number_from_1_to_16(text: str) -> None:
    """README: number flags take plain ASCII digits only (``int()`` reads ``1_0`` as 10 and Arabic-Indic
    ``\u0662`` as 2); one line naming --jobs, exit 2, nothing on stdout."""
    done = python_cli("check", "--jobs", text, "--stage", "shapes", "--no-progress")
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "--jobs" in done.stderr
