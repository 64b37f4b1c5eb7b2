"""Query screening and text binding, without a server: the token-level rules on their own."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axilla_kg.errors import ParameterError, UsageError
from axilla_kg.graph.queries import Parameter
from axilla_kg.graph.results import XSD
from axilla_kg.graph.sparql_text import (
    QueryRefused,
    bind_parameters,
    char_class,
    decode_codepoint_escapes,
    query_iri,
    screen,
    sparql_term,
)


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
        ("PREFIX service: <urn:s:> ask { ?s service:from ?o }", "ASK"),
        ("CONSTRUCT WHERE { ?s ?p 'INSERT DATA' }", "CONSTRUCT"),
        ("DESCRIBE <urn:x#SERVICE>", "DESCRIBE"),
        ('SELECT ?load WHERE { ?s ?p """\nSERVICE <http://x/> {}\n""" }', "SELECT"),
        ("SELECT * WHERE { ?s ?p ?o } # DROP ALL", "SELECT"),
        ("SELECT * WHERE { ?s ?p _:from }", "SELECT"),
        ("SELECT * WHERE { ?s ?p 'x'@from }", "SELECT"),
        ("not a query", ""),
    ],
)
def test_screen_accepts_keywords_that_are_not_keywords(query: str, form: str) -> None:
    assert screen(query).form == form


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://h/> { ?s ?p ?o } }",
        "SELECT * { OPTIONAL { SeRvIcE ?endpoint { ?s ?p ?o } } }",
        "SELECT * { FILTER(?a<?b||EXISTS{SERVICE?s{}}) }",
        "SELECT * { \\u0053ERVICE <http://h/> {} }",
        "SELECT * { \\U00000053ERVICE <http://h/> {} }",
        "SELECT * FROM <http://h/g> { ?s ?p ?o }",
        "SELECT * FROM NAMED <http://h/g> { ?s ?p ?o }",
        "LOAD <http://h/g.ttl>",
        "PREFIX a: <urn:a:> INSERT { ?s a:b ?o } WHERE { ?s ?p ?o }",
        "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "DROP ALL",
        "CLEAR DEFAULT ; ADD DEFAULT TO <urn:g>",
    ],
)
def test_screen_refuses(query: str) -> None:
    with pytest.raises(QueryRefused):
        screen(query)


def _roundtrip(value: str) -> str:
    """Bind a value into a query as text, then ask Oxigraph what it was bound to; a parser that
    decodes codepoint escapes over the whole text first must read the same value."""
    text = bind_parameters("SELECT ?v WHERE { }", {"v": ox.Literal(value)})
    assert screen(text).form == "SELECT"
    (solution,) = list(ox.Store().query(text))
    (predecoded,) = list(ox.Store().query(decode_codepoint_escapes(text)))
    assert predecoded["v"] == solution["v"]
    return str(solution["v"].value)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_string_is_bound_as_exactly_one_literal(value: str) -> None:
    assert _roundtrip(value) == value


@pytest.mark.parametrize(
    "value", ['"} SERVICE <http://h/> { "', "\\u0022", "\\\\U0000007D", "a\\", "'''", '"""', "x\r\ny"]
)
def test_hostile_strings_stay_strings(value: str) -> None:
    assert _roundtrip(value) == value


def test_typed_terms_and_bad_iris() -> None:
    integer = ox.NamedNode(XSD + "integer")
    assert sparql_term(ox.Literal("4", datatype=integer)) == '"4"^^<http://www.w3.org/2001/XMLSchema#integer>'
    assert sparql_term(ox.Literal("x", language="EN-gb")) == '"x"@en-gb'
    assert sparql_term(query_iri("urn:x")) == "<urn:x>"
    for bad in ("urn:x> } SERVICE <http://h/", "http://a/%zz", "a:b c", "no-scheme"):
        with pytest.raises(UsageError, match="not a valid IRI"):
            query_iri(bad)
    with pytest.raises(UsageError):
        sparql_term(ox.BlankNode("b1"))
    with pytest.raises(UsageError):
        bind_parameters("ASK { }", {"bad name": ox.Literal("x")})


def test_an_iri_parameter_pyoxigraph_refuses_is_a_parameter_error() -> None:
    """The parameter pattern lets '%zz' through; pyoxigraph's RFC 3987 check does not: one clear line."""
    iri = Parameter("type", "iri", True, None, "")
    assert iri.term("urn:a") == ox.NamedNode("urn:a")
    with pytest.raises(ParameterError, match="parameter 'type' must be an absolute IRI"):
        iri.term("http://a/%zz")


def test_binding_goes_into_the_outer_group_not_a_subquery() -> None:
    text = "SELECT ?k { { SELECT ?k WHERE { ?t <urn:key> ?k } } }"
    bound = bind_parameters(text, {"k": ox.Literal("286")})
    assert bound.index("VALUES") < bound.index("{ SELECT")
    construct = "CONSTRUCT { ?s <urn:p> ?k } WHERE { ?s <urn:key> ?k }"
    bound = bind_parameters(construct, {"k": ox.Literal("286")})
    assert bound.index("VALUES") > bound.index("WHERE")


_EVERY_CHARACTER = "".join(map(chr, range(0x110000)))
# the SPARQL 1.1 grammar's PN_CHARS_BASE and PN_CHARS (section 19.8, productions 164 and 166)
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_CHARS = _BASE + "_\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"


@pytest.mark.parametrize(
    "spec",
    [
        _BASE,
        _BASE + "_0-9",
        _BASE + "_0-9\u00b7\u0300-\u036f\u203f-\u2040",
        _CHARS + ".",
        _BASE + "_:0-9",
        _CHARS + ".:",
        "\\-a-c",  # an escaped hyphen is a character, not a range
        "a\\-c",
    ],
)
def test_a_name_class_written_as_a_negation_holds_the_same_characters(spec: str) -> None:
    """The tokenizer's name classes are compiled as the negation of their complement (cheaper to
    compile): on every code point, the same characters as the class written as the grammar lists them."""
    listed = re.compile("[" + spec + "]").findall(_EVERY_CHARACTER)
    assert re.compile(char_class(spec)).findall(_EVERY_CHARACTER) == listed
    assert len(listed) >= 3
