"""The value helpers of ``graph/results.py`` against an independent implementation: rdflib's literal
values. ``python_value`` must give the value rdflib gives (``Literal.toPython``) for every datatype
it converts, and ``canonical`` must make two lexical forms equal exactly when rdflib says they are
the same value (``Literal.eq``), so the stores' comparison neither hides a difference nor invents one."""

from __future__ import annotations

import math
from decimal import Decimal

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import given, settings
from hypothesis import strategies as st

from axilla_kg.graph.results import XSD, QueryResult, canonical, lexical, python_value

integers = st.integers(-(10**20), 10**20).map(lambda n: (str(n), "integer"))
decimals = st.builds(
    lambda whole, frac, plus: (("+" if plus and whole >= 0 else "") + f"{whole}.{frac}", "decimal"),
    st.integers(-(10**6), 10**6),
    st.from_regex(r"[0-9]{1,6}", fullmatch=True),
    st.booleans(),
) | st.integers(-(10**6), 10**6).map(lambda n: (str(n), "decimal"))
booleans = st.sampled_from(["true", "false", "1", "0"]).map(lambda b: (b, "boolean"))
# -0.0 equals 0.0 in Python and rdflib, but XSD keeps the two zeros apart and no store here prints one for the other
doubles = (
    st.floats(allow_nan=False, allow_infinity=False, width=64)
    .filter(lambda f: math.copysign(1.0, f) > 0 or f != 0)
    .map(lambda f: (repr(f), "double"))
)
strings = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20).map(lambda t: (t, "string"))
lexical_forms = st.one_of(integers, decimals, booleans, doubles, strings)


def _both(form: tuple[str, str]) -> tuple[ox.Literal, rdflib.Literal]:
    text, datatype = form
    return ox.Literal(text, datatype=ox.NamedNode(XSD + datatype)), rdflib.Literal(
        text, datatype=rdflib.URIRef(XSD + datatype)
    )


@settings(max_examples=300, deadline=None)
@given(lexical_forms)
def test_python_value_is_rdflibs_value(form: tuple[str, str]) -> None:
    ours, theirs = _both(form)
    value = python_value(ours)
    assert value == theirs.toPython() and type(value) is type(theirs.toPython())


@settings(max_examples=300, deadline=None)
@given(lexical_forms, lexical_forms)
def test_canonical_forms_are_equal_exactly_for_equal_values(a: tuple[str, str], b: tuple[str, str]) -> None:
    (ox_a, rdf_a), (ox_b, rdf_b) = _both(a), _both(b)
    assert (canonical(ox_a) == canonical(ox_b)) == (rdf_a.datatype == rdf_b.datatype and rdf_a.eq(rdf_b))


def test_lexical_variants_that_stores_write() -> None:
    decimal, boolean = ox.NamedNode(XSD + "decimal"), ox.NamedNode(XSD + "boolean")
    assert canonical(ox.Literal("2", datatype=decimal)) == canonical(ox.Literal("2.00", datatype=decimal))
    assert canonical(ox.Literal("1", datatype=boolean)) == ox.Literal("true", datatype=boolean)
    assert canonical(ox.NamedNode("urn:a")) == ox.NamedNode("urn:a") and canonical(None) is None


def test_iris_blank_nodes_and_unbound_cells() -> None:
    assert python_value(ox.NamedNode("urn:a")) == "urn:a" == lexical(ox.NamedNode("urn:a"))
    assert python_value(ox.BlankNode("b1")) == "_:b1" and lexical(ox.BlankNode("b1")) == "b1"
    assert python_value(None) is None and lexical(None) is None
    assert python_value(ox.Literal("x", language="en")) == "x"
    assert python_value(ox.Literal("1.5x", datatype=ox.NamedNode(XSD + "decimal"))) == "1.5x"  # ill-typed: its text


def test_records_are_plain_values() -> None:
    row = (ox.NamedNode("urn:a"), ox.Literal("2.50", datatype=ox.NamedNode(XSD + "decimal")), None)
    result = QueryResult("select", ["s", "n", "u"], [row])
    assert result.records() == [{"s": "urn:a", "n": Decimal("2.50"), "u": None}]
    with pytest.raises(ValueError):  # a row narrower than the variables is a bug, not a shorter record
        QueryResult("select", ["s", "n"], [(None,)]).records()
