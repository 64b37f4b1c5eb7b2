"""Every shape and guideline rule of `axilla-kg check` can fail: one fixture per rule breaks the
graph in exactly that way, and the check reports it with the right id, level and entity, while
the shipped graph does not report that entity. These stages need no JVM."""

from __future__ import annotations

from pathlib import Path

import pytest

from axilla_kg.checks import Level, run_checks
from axilla_kg.checks.logic import parse_explanation
from axilla_kg.checks.rules import load_rules, parse_rule
from axilla_kg.errors import DataError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "check"
AX = "https://w3id.org/axilla-kg/vocab#"
AXD = "https://w3id.org/axilla-kg/id/"
FAST = ["shapes", "rules"]

# fixture file, rule id, level, IRI of the entity the finding must name
CASES = [
    ("score-outside-category.ttl", "rating-score-outside-category", Level.ERROR, AXD + "fx-score-outside"),
    ("median-inconsistent.ttl", "rating-median-inconsistent", Level.WARN, AXD + "fx-median"),
    ("contradictory-rating.ttl", "conflicting-duplicate-rating", Level.ERROR, AXD + "fx-contradictory"),
    ("duplicate-rating.ttl", "duplicate-rating", Level.WARN, AXD + "fx-duplicate"),
    ("rating-rrl-differs.ttl", "rating-rrl-differs-from-procedure", Level.WARN, AXD + "fx-rrl-differs"),
    ("us-with-radiation.ttl", "rrl-implausible-for-modality", Level.ERROR, AXD + "proc-fx-us-radiation"),
    ("ct-with-o.ttl", "rrl-implausible-for-modality", Level.ERROR, AXD + "proc-fx-ct-o"),
    ("ionizing-flag.ttl", "rrl-contradicts-ionizing-flag", Level.ERROR, AXD + "proc-fx-flag"),
    ("category-not-stated.ttl", "category-not-stated", Level.INFO, AXD + "fx-not-stated"),
    ("low-confidence-only.ttl", "low-confidence-sources-only", Level.WARN, AXD + "fx-low-confidence"),
    ("low-confidence-only.ttl", "low-confidence-fact", Level.INFO, AXD + "fx-low-confidence"),
    ("disjoint-types.ttl", "disjoint-types", Level.ERROR, AXD + "proc-us-axilla"),
    ("undeclared-property.ttl", "undeclared-property", Level.ERROR, AX + "ratingScor"),
    ("undefined-iri.ttl", "undefined-iri", Level.ERROR, AXD + "src-does-not-exist"),
    ("variant-without-ratings.ttl", "variant-without-ratings", Level.WARN, AXD + "topic-286-variant-13"),
    ("complete-table-without-ratings.ttl", "complete-table-without-ratings", Level.ERROR, AXD + "topic-286-variant-13"),
    ("incomplete-rating-table.ttl", "incomplete-rating-table", Level.INFO, AXD + "topic-286-variant-13"),
    ("duplicate-variant-number.ttl", "duplicate-variant-number", Level.ERROR, AXD + "fx-variant-one"),
    ("variant-number-gap.ttl", "variant-number-gap", Level.WARN, AXD + "topic-286"),
    ("deprecated-entity-in-use.ttl", "deprecated-entity-in-use", Level.ERROR, AXD + "src-acr286-variants-row-5"),
    # shapes
    ("rating-without-source.ttl", "shape-fact-has-source", Level.ERROR, AXD + "fx-no-source"),
    ("score-out-of-range.ttl", "shape-rating-score-range", Level.ERROR, AXD + "fx-score-range"),
    ("procedure-without-rrl.ttl", "shape-procedure-one-rrl", Level.ERROR, AXD + "proc-fx-no-rrl"),
    ("class-without-definition.ttl", "shape-term-definition", Level.ERROR, AX + "UndefinedThing"),
    ("individual-without-label.ttl", "shape-individual-label", Level.ERROR, AXD + "fx-unlabelled"),
    ("differential-without-likelihood.ttl", "shape-differential-likelihood", Level.WARN, AXD + "ddx-fx"),
]


def _hits(findings: list, rule: str, iri: str) -> list:  # type: ignore[type-arg]
    return [f for f in findings if f.rule == rule and any(e[0] == iri for e in f.entities)]


@pytest.fixture(scope="module")
def baseline() -> list:  # type: ignore[type-arg]
    return run_checks(stages=FAST).findings


@pytest.fixture(scope="module")
def union() -> list:  # type: ignore[type-arg]
    """The shipped graph plus every fixture at once, both stages: one SHACL run for all shape
    fixtures (pySHACL over the whole graph is the slow part; each shape fixture names its own
    entities, so their findings do not mix)."""
    return run_checks([FIXTURES / name for name in sorted({c[0] for c in CASES})], stages=FAST).findings


def test_shipped_graph_has_no_error_in_shapes_and_rules(baseline: list) -> None:  # type: ignore[type-arg]
    errors = [f for f in baseline if f.level is Level.ERROR]
    assert errors == []


@pytest.mark.parametrize(("fixture", "rule", "level", "iri"), CASES, ids=[f"{c[1]}:{c[0]}" for c in CASES])
def test_fixture_breaks_exactly_its_rule(
    fixture: str,
    rule: str,
    level: Level,
    iri: str,
    baseline: list,  # type: ignore[type-arg]
    union: list,  # type: ignore[type-arg]
) -> None:
    assert _hits(baseline, rule, iri) == [], "the shipped graph must not report the fixture's entity"
    if rule.startswith("shape-"):
        hits = _hits(union, rule, iri)
    else:  # SPARQL rules take milliseconds: each fixture alone, so fixtures cannot mask each other
        report = run_checks([FIXTURES / fixture], stages=["rules"])
        hits = _hits(report.findings, rule, iri)
        # the fixture breaks the graph in that one way: no ERROR of an unrelated rule appears
        expected = {c[1] for c in CASES if c[0] == fixture}
        new_errors = {f.rule for f in report.findings if f.level is Level.ERROR} - expected
        new_errors -= {f.rule for f in baseline if f.level is Level.ERROR}
        assert new_errors <= _ALSO_ERRORS.get(fixture, set()), new_errors
    assert hits, f"{rule} did not report {iri}"
    assert {f.level for f in hits} == {level}
    assert all(f.message for f in hits)


def test_fixtures_cause_no_unexpected_error_in_either_stage(baseline: list, union: list) -> None:  # type: ignore[type-arg]
    """Across both stages, every ERROR the fixtures add is one some fixture is meant to cause."""
    known = {(f.rule, f.entities) for f in baseline}
    meant = {c[1] for c in CASES} | set().union(*_ALSO_ERRORS.values())
    unexpected = {f.rule for f in union if f.level is Level.ERROR and (f.rule, f.entities) not in known} - meant
    assert unexpected == set()


# where one defect necessarily violates a second rule too (a score of 12 is outside every band)
_ALSO_ERRORS = {
    "score-out-of-range.ttl": {"rating-score-outside-category"},
    # a procedure also typed as a variant lacks everything a variant needs
    "disjoint-types.ttl": {
        "shape-variant-one-topic",
        "shape-variant-number",
        "shape-variant-title",
        "shape-variant-completeness",
        "shape-variant-definition-source",
    },
}


def test_every_guideline_rule_has_a_fixture() -> None:
    covered = {c[1] for c in CASES}
    assert {r.id for r in load_rules()} <= covered


def test_rule_headers_give_id_level_description() -> None:
    for rule in load_rules():
        assert rule.description and rule.level in Level
        assert "SELECT" in rule.text and "?focus" in rule.text


def test_malformed_rule_header_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "my-rule.rq"
    bad.write_text("# id: my-rule\n# level: SEVERE\n# description: x\nSELECT ?focus WHERE {}\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown level"):
        parse_rule(bad)
    bad.write_text("# id: other\n# level: WARN\n# description: x\nSELECT ?focus WHERE {}\n", encoding="utf-8")
    with pytest.raises(DataError, match="must equal the file name"):
        parse_rule(bad)


def test_turtle_syntax_error_names_file_and_line() -> None:
    with pytest.raises(DataError, match=r"syntax-error\.ttl: .*line 5"):
        run_checks([FIXTURES / "syntax-error.ttl"], stages=FAST)


def test_fail_on_threshold() -> None:
    report = run_checks([FIXTURES / "duplicate-rating.ttl"], stages=["rules"])
    assert report.fails("warn") and report.fails("info")
    assert not report.fails("none")
    assert report.fails("error") == any(f.level is Level.ERROR for f in report.findings)


def test_pellet_explanation_is_parsed_to_one_line() -> None:
    text = (
        "Axiom: Thing subClassOf Nothing\n\nExplanation(s): \n"
        "1)   proc-us-axilla type Procedure\n     proc-us-axilla type Variant\n"
        "     DisjointClasses(AppropriatenessCategory\n                     Variant)\n\n"
    )
    assert parse_explanation(text) == (
        "proc-us-axilla type Procedure; proc-us-axilla type Variant; DisjointClasses(AppropriatenessCategory Variant)"
    )
    assert parse_explanation("no explanation here") == ""
