"""Attack corpus: user text written into Turtle (``import-ratings``), checked by an independent
parser (pyoxigraph) rather than by reading our own output back as text (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axilla_kg.authoring.importing import import_ratings
from axilla_kg.errors import DataError, UsageError
from axilla_kg.export.table import COLUMNS
from axilla_kg.formats.turtle import Blank, Collection, Ref, Resource, Typed, document

AX = "https://w3id.org/axilla-kg/vocab#"
INJECTION = '\n<urn:evil> <urn:p> "injected" .\n#'


@pytest.fixture(scope="module")
def table_text() -> str:
    """Two ratings, in the layout of ``export --format csv``, for a topic the graph does not have."""
    return (
        ",".join(COLUMNS)
        + "\n999,1,A variant,Mammography diagnostic,Usually Appropriate,☢☢,,,,,https://example.org/a,medium,\n"
        + "999,1,A variant,US axilla,Usually Appropriate,O,,,,,https://example.org/b,medium,\n"
    )


def _triples(text: str) -> list[ox.Triple]:
    return list(ox.parse(text.encode(), format=ox.RdfFormat.TURTLE))


def test_topic_title_with_a_newline_is_refused(tmp_path: Path, table_text: str) -> None:
    table = tmp_path / "t.csv"
    table.write_text(table_text)
    with pytest.raises(UsageError, match="control characters"):
        import_ratings(table, "999", topic_title="T" + INJECTION)


@pytest.mark.parametrize("key", ["286\n", "٢٨٦", "286 ", "286-20245", "1234567"])
def test_topic_key_is_ascii_digits_only(tmp_path: Path, table_text: str, key: str) -> None:
    table = tmp_path / "t.csv"
    table.write_text(table_text)
    with pytest.raises(UsageError, match="topic key"):
        import_ratings(table, key, topic_title="T")


def test_file_name_with_a_newline_stays_in_comments_and_literals(tmp_path: Path, table_text: str) -> None:
    table = tmp_path / ("evil" + INJECTION + ".csv")
    table.write_text(table_text)
    text = import_ratings(table, "999", topic_title='A "quoted" \\ title')
    triples = _triples(text)
    assert not [t for t in triples if "urn:evil" in str(t.subject) or "urn:p" in str(t.predicate)]
    titles = {t.object.value for t in triples if t.predicate.value == AX + "topicTitle"}
    assert titles == {'A "quoted" \\ title'}
    files = {t.object.value for t in triples if t.predicate.value == AX + "sourceFile"}
    assert files == {table.name}


def test_undecodable_command_line_text_is_an_error(tmp_path: Path, table_text: str) -> None:
    table = tmp_path / "t.csv"
    table.write_text(table_text)
    with pytest.raises(UsageError, match="not valid Unicode"):
        import_ratings(table, "999", topic_title="T\udcff")  # how Python passes the byte 0xff in argv
    with pytest.raises(DataError, match="not valid Unicode"):
        document(["T\udcff"], [])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_text_is_one_literal_and_header_comments_stay_comments(text: str) -> None:
    resource = Resource("<urn:s>").add("<urn:p>", text)
    triples = _triples(document([text, text], [resource]))
    assert len(triples) == 1 and triples[0].object.value == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_url_is_one_valid_iri_or_an_error(text: str) -> None:
    resource = Resource("<urn:s>").add("<urn:q>", Ref("https://example.org/" + text))
    try:
        triples = _triples(document([], [resource]))
    except DataError as exc:
        assert "not a valid IRI" in str(exc)
        return
    assert len(triples) == 1 and triples[0].object.value.startswith("https://example.org/")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_lexical_form_in_a_nested_expression_is_one_typed_literal(text: str) -> None:
    """Nested class expressions (``Blank``, ``Collection``) escape their literals like any value:
    a lexical form read from a definitions file cannot end the literal or the list early."""
    bound = Blank((("xsd:minInclusive", Typed(text, Ref("xsd:decimal"))),))
    value = Blank((("a", Ref("rdfs:Datatype")), ("owl:withRestrictions", Collection((bound,), multiline=True))))
    triples = _triples(document([], [Resource("<urn:s>").add("<urn:p>", value)]))
    literals = [t.object for t in triples if isinstance(t.object, ox.Literal)]
    assert len(triples) == 6  # s p _:d ; _:d a Datatype ; _:d withRestrictions _:l ; list first/rest ; _:b min "x"
    assert [(lit.value, lit.datatype.value) for lit in literals] == [(text, "http://www.w3.org/2001/XMLSchema#decimal")]
