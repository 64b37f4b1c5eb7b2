"""Every row of the curated reference tables comes back identically through `show` (the CLI
JSON contract) and through the `variant-ratings` named query: nothing lost, nothing invented."""

from __future__ import annotations

import json
import re

import pytest

from conftest import read_csv, reference_dir, reference_params, run_cli

TOPIC_CELL = re.compile(r"^(\d+)\s+.+?(?:\s+\((?:current|(\d{4}) version[^)]*)\))?$")


def _expected(row: dict[str, str]) -> dict[str, object]:
    def number(text: str) -> object:
        return int(text) if text.isdigit() else (text or None)

    return {
        "procedure": row["procedure"],
        "category": row["appropriateness_category"] or None,
        "rrl": row["relative_radiation_level"] or None,
        "rating": number(row["rating_1_to_9"]),
        "median": number(row["median"]),
        "soe": row["soe"] or None,
        "source": row["source_url"],
        "confidence": row["confidence"],
    }


def _topic_key(cell: str) -> str:
    match = TOPIC_CELL.match(cell)
    assert match, cell
    return f"{match.group(1)}-{match.group(2)}" if match.group(2) else match.group(1)


def _cases() -> list[tuple[str, int, dict[str, object]]]:
    cases = [("286", int(r["variant_number"]), _expected(r)) for r in read_csv("acr286_ratings.csv")]
    cases += [
        (_topic_key(r["topic"]), int(r["variant_number"]), _expected(r)) for r in read_csv("related_topics_ratings.csv")
    ]
    return cases


def _by_variant() -> dict[tuple[str, int], list[dict[str, object]]]:
    grouped: dict[tuple[str, int], list[dict[str, object]]] = {}
    for topic, variant, expected in _cases():
        grouped.setdefault((topic, variant), []).append(expected)
    return grouped


FIELDS = ["procedure", "category", "rrl", "rating", "median", "soe", "source", "confidence"]


@pytest.mark.parametrize(("topic", "variant"), reference_params(lambda: sorted(_by_variant()), 2), ids=str)
def test_show_json_returns_every_reference_row(topic: str, variant: int) -> None:
    reference_dir()  # fails clearly when the tables are missing
    proc = run_cli("show", str(variant), "--topic", topic, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["topic"] == topic and shown["variant"] == variant
    got = sorted(({k: r[k] for k in FIELDS} for r in shown["ratings"]), key=lambda r: str(r["procedure"]))
    want = sorted(_by_variant()[(topic, variant)], key=lambda r: str(r["procedure"]))
    assert got == want


def test_named_query_returns_every_reference_row(kg) -> None:  # type: ignore[no-untyped-def]
    for (topic, variant), want in _by_variant().items():
        rows = kg.records("variant-ratings", topic=topic, variant=variant)
        got = sorted(({k: r[k] for k in FIELDS} for r in rows), key=lambda r: str(r["procedure"]))
        assert got == sorted(want, key=lambda r: str(r["procedure"])), (topic, variant)


def test_variant_titles_are_the_official_ones(kg) -> None:  # type: ignore[no-untyped-def]
    titles = {r["variant"]: r["title"] for r in kg.records("variants", topic="286")}
    assert titles == {int(r["variant_number"]): r["variant_title"] for r in read_csv("acr286_variants.csv")}


def test_related_topic_titles_are_kept(kg) -> None:  # type: ignore[no-untyped-def]
    for row in read_csv("related_topics_ratings.csv"):
        titles = {r["variant"]: r["title"] for r in kg.records("variants", topic=_topic_key(row["topic"]))}
        assert titles[int(row["variant_number"])] == row["variant_title"]


def test_every_rating_is_traceable_to_its_csv_line(kg) -> None:  # type: ignore[no-untyped-def]
    rows = read_csv("acr286_ratings.csv")
    for line, row in enumerate(rows, start=2):
        prov = kg.records("rating-provenance", variant=int(row["variant_number"]), procedure=row["procedure"])
        assert {(r["file"], r["line"]) for r in prov} == {("acr286_ratings.csv", line)}
        assert all(r["citation"] == row["source_url"] for r in prov)
