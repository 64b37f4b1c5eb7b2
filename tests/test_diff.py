"""`axilla-kg diff`: the 2017 and current editions of topic 235, against an expectation derived
from the curated reference table (related_topics_ratings.csv), not from the program's output.

The golden file ``tests/golden/diff-235-2017-235.json`` is checked twice: equal to what the
reference CSV implies (so it cannot simply copy a bug), and equal to what ``diff`` prints."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import python_cli, reference_dir

GOLDEN = Path(__file__).resolve().parent / "golden" / "diff-235-2017-235.json"
#: the one procedure rename the graph records for topic 235 (ontology/procedures.ttl, ax:alsoKnownAs):
#: the 2017 tables name the sestamibi study with its isotope, the current ones do not
RENAMES = {"Tc-99m sestamibi MBI": "Sestamibi MBI"}
NOT_STATED = "(category not stated)"


def _editions() -> tuple[dict[int, dict[str, str]], dict[int, dict[str, str]], dict[int, str], dict[int, str]]:
    old: dict[int, dict[str, str]] = {}
    new: dict[int, dict[str, str]] = {}
    titles_old: dict[int, str] = {}
    titles_new: dict[int, str] = {}
    with (reference_dir() / "related_topics_ratings.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            topic = row["topic"]
            if not topic.startswith("235 "):
                continue
            number = int(row["variant_number"])
            side, titles = (old, titles_old) if "2017" in topic else (new, titles_new)
            side.setdefault(number, {})[row["procedure"]] = row["appropriateness_category"] or NOT_STATED
            titles[number] = row["variant_title"]
    return old, new, titles_old, titles_new


def _expected_ratings(old: dict[int, dict[str, str]], new: dict[int, dict[str, str]]) -> set[tuple]:  # type: ignore[type-arg]
    rows = set()
    for v in (1, 2):
        before, after = dict(old[v]), dict(new[v])
        for name, category in before.items():
            renamed = RENAMES.get(name)
            if name in after:
                rows.add((v, v, name, category, after[name], "same" if after[name] == category else "changed"))
            elif renamed in after:
                rows.add((v, v, f"{name} → {renamed}", category, after[renamed], "renamed"))
            else:
                rows.add((v, v, name, category, None, "removed"))
        for name, category in after.items():
            if name not in before and name not in RENAMES.values():
                rows.add((v, v, name, None, category, "added"))
    return rows


def _as_tuples(body: dict) -> set[tuple]:  # type: ignore[type-arg]
    keys = ("old_variant", "new_variant", "procedure", "old_category", "new_category", "change")
    return {tuple(r[k] for k in keys) for r in body["ratings"]}


def test_golden_follows_from_the_reference_table() -> None:
    old, new, titles_old, titles_new = _editions()
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(old) == [1, 2] and sorted(new) == list(range(1, 9))
    expected_variants = [
        {"old": v, "new": v, "change": "retitled" if titles_old[v] != titles_new[v] else "unchanged"} for v in (1, 2)
    ] + [{"old": None, "new": v, "change": "added"} for v in sorted(set(new) - {1, 2})]
    assert [{k: v[k] for k in ("old", "new", "change")} for v in golden["variants"]] == expected_variants
    assert all(v["reason"] for v in golden["variants"])
    assert _as_tuples(golden) == _expected_ratings(old, new)
    assert {r["change"] for r in golden["ratings"]} >= {"same", "removed", "added", "renamed"}


def test_diff_prints_the_golden() -> None:
    done = python_cli("diff", "235-2017", "235", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_table_and_markdown_list_every_pair_and_rating(fmt: str) -> None:
    done = python_cli("diff", "235-2017", "235", "--format", fmt)
    assert done.returncode == 0, done.stderr
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert done.stdout.count("Tc-99m sestamibi MBI → Sestamibi MBI") == 2
    assert done.stdout.count("added") == sum(v["change"] == "added" for v in golden["variants"]) + sum(
        r["change"] == "added" for r in golden["ratings"]
    )


def test_two_rdf_files(tmp_path: Path) -> None:
    generated = Path(__file__).resolve().parent.parent / "ontology" / "generated"
    done = python_cli(
        "diff", str(generated / "topic-235-2017.ttl"), str(generated / "topic-235.ttl"), "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert (body["old"], body["new"]) == ("235-2017", "235")
    assert _as_tuples(body) == _as_tuples(json.loads(GOLDEN.read_text(encoding="utf-8")))


@pytest.mark.parametrize("args", [("999", "235"), ("235", "no-such-file.ttl"), ("235", '235"} ; DROP ALL')])
def test_bad_editions_exit_2(args: tuple[str, str]) -> None:
    done = python_cli("diff", *args)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
