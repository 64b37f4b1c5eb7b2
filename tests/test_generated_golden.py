"""The generated topic files are exactly what the generator makes from the curated tables
(golden output): the committed Turtle cannot drift from its sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from axilla_kg.authoring.ingest import generate
from axilla_kg.errors import DataError
from axilla_kg.formats.atomic import write_all_atomically

from conftest import REPO, reference_dir


def test_committed_generated_files_match_the_generator(tmp_path: Path) -> None:
    files = generate(reference_dir(), REPO / "ontology" / "generated")
    committed = sorted((REPO / "ontology" / "generated").glob("*.ttl"))
    assert sorted(files) == committed, "a generated file is missing or stale; run python -m axilla_kg.authoring.ingest"
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} differs from the generator's output"


def _copy_reference(tmp_path: Path) -> Path:
    target = tmp_path / "reference"
    target.mkdir()
    for name in ("acr286_variants.csv", "acr286_ratings.csv", "related_topics_ratings.csv"):
        (target / name).write_text((reference_dir() / name).read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (",US axilla,Usually Appropriate,O,9,", ",US axila,Usually Appropriate,O,9,", ":2: field 'procedure'"),
        (
            ",US axilla,Usually Appropriate,O,9,",
            ",US axilla,Usualy Appropriate,O,9,",
            ":2: field 'appropriateness_category'",
        ),
        (
            ",US axilla,Usually Appropriate,O,9,",
            ",US axilla,Usually Appropriate,X,9,",
            ":2: field 'relative_radiation_level'",
        ),
        (",US axilla,Usually Appropriate,O,9,", ",US axilla,Usually Appropriate,O,12,", ":2: field 'rating_1_to_9'"),
    ],
)
def test_bad_rows_are_reported_by_line_and_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    reference = _copy_reference(tmp_path)
    ratings = reference / "acr286_ratings.csv"
    text = ratings.read_text(encoding="utf-8")
    assert old in text
    ratings.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        generate(reference, tmp_path / "out")
    assert not (tmp_path / "out").exists(), "nothing may be written when a row is invalid"


def test_duplicate_rating_is_an_error(tmp_path: Path) -> None:
    reference = _copy_reference(tmp_path)
    ratings = reference / "acr286_ratings.csv"
    lines = ratings.read_text(encoding="utf-8").splitlines(keepends=True)
    ratings.write_text("".join([*lines, lines[1]]), encoding="utf-8")
    with pytest.raises(DataError, match=r"rated twice.*first on line 2"):
        generate(reference, tmp_path / "out")


def test_write_is_all_or_nothing(tmp_path: Path) -> None:
    files = {tmp_path / "a.ttl": "a", tmp_path / "b.ttl": "b"}
    write_all_atomically(files)
    assert [p.read_text() for p in sorted(files)] == ["a", "b"]
    assert not list(tmp_path.glob("*.tmp"))


def _records(files: dict[Path, str]) -> dict[str, tuple[str, int]]:
    """Source record IRI → (file, line), read back from the generated Turtle with rdflib."""
    import rdflib

    ax = rdflib.Namespace("https://w3id.org/axilla-kg/vocab#")
    graph = rdflib.Graph()
    for text in files.values():
        graph.parse(data=text, format="turtle")
    return {
        str(record): (str(graph.value(record, ax.sourceFile)), int(graph.value(record, ax.sourceRow)))  # type: ignore[arg-type]
        for record in graph.subjects(rdflib.RDF.type, ax.SourceRecord)
    }


def test_inserting_a_row_renames_no_record(tmp_path: Path) -> None:
    """IRIs come from what a row is about (topic, variant, procedure), not from its line: a row
    inserted at the top of each table shifts every line number and changes no existing IRI."""
    before = _records(generate(reference_dir(), tmp_path / "before"))
    reference = _copy_reference(tmp_path)
    ratings = reference / "acr286_ratings.csv"
    lines = ratings.read_text(encoding="utf-8").splitlines(keepends=True)
    # variant 12 has no rating of "Mammography screening" in the reference (generate would refuse a repeat)
    inserted = "12,Mammography screening,,,,,,https://example.org/new-row,low,inserted row\n"
    ratings.write_text("".join([lines[0], inserted, *lines[1:]]), encoding="utf-8")
    after = _records(generate(reference, tmp_path / "after"))
    assert set(before) < set(after)
    (new,) = set(after) - set(before)
    assert new.endswith("/src-acr286-ratings-286-v12-mammography-screening") and after[new] == ("acr286_ratings.csv", 2)
    for iri, (file, line) in before.items():
        shift = 1 if file == "acr286_ratings.csv" else 0
        assert after[iri] == (file, line + shift), iri


def test_retired_iris_are_deprecated_with_a_current_replacement() -> None:
    """ontology/deprecated.ttl: every retired IRI is owl:deprecated and names a replacement that
    exists in the current graph and is not itself retired."""
    import rdflib

    graph = rdflib.Graph()
    for path in sorted((REPO / "ontology").glob("*.ttl")) + sorted((REPO / "ontology" / "generated").glob("*.ttl")):
        graph.parse(path, format="turtle")
    deprecated = set(graph.subjects(rdflib.OWL.deprecated, rdflib.Literal(True)))
    assert len(deprecated) >= 167  # the line-based source record IRIs of 0.1.0
    replaced_by = rdflib.DCTERMS.isReplacedBy
    for old in deprecated:
        (new,) = graph.objects(old, replaced_by)
        assert new not in deprecated and any(graph.triples((new, rdflib.RDF.type, None))), (old, new)
