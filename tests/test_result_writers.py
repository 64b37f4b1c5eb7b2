"""The CLI's SPARQL result writers (``axilla_kg.formats.output``) against an independent reader:
pyoxigraph's SPARQL results parser must read back exactly the terms that were written.

CSV and TSV are written by pyoxigraph from our SPARQL JSON, so JSON is what this checks first;
TSV keeps every term (CSV keeps only values), and the cases include what a hand-written TSV
writer gets wrong: tabs and line breaks inside literals, a decimal without a point, unbound cells."""

from __future__ import annotations

import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

from axilla_kg.formats.output import sparql_csv, sparql_json, sparql_tsv
from axilla_kg.graph.results import XSD, QueryResult, Term

XSD_STRING = XSD + "string"


def _typed(datatype: str) -> ox.NamedNode:
    return ox.NamedNode(XSD + datatype)


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
literals = st.one_of(
    st.builds(ox.Literal, texts),
    st.builds(
        lambda t, tag: ox.Literal(t, language=tag), texts, st.from_regex(r"[a-z]{2,3}(-[a-z]{2})?", fullmatch=True)
    ),
    st.builds(lambda n: ox.Literal(str(n), datatype=_typed("integer")), st.integers(-(10**20), 10**20)),
    st.builds(
        lambda whole, frac: ox.Literal(
            f"{whole}.{frac}" if frac is not None else str(whole), datatype=_typed("decimal")
        ),
        st.integers(-(10**6), 10**6),
        st.none() | st.integers(0, 999),
    ),
    st.builds(lambda b: ox.Literal("true" if b else "false", datatype=_typed("boolean")), st.booleans()),
    st.builds(lambda d: ox.Literal(d.isoformat(), datatype=_typed("date")), st.dates()),
)
iris = st.builds(
    lambda local: ox.NamedNode("https://w3id.org/axilla-kg/id/" + local),
    st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
)
bnodes = st.builds(ox.BlankNode, st.from_regex(r"b[0-9]{1,4}", fullmatch=True))
cells = st.none() | literals | iris | bnodes
results = st.integers(1, 3).flatmap(
    lambda width: st.builds(
        lambda rows: QueryResult("select", [f"v{i}" for i in range(width)], rows),
        st.lists(st.tuples(*[cells] * width), max_size=6),
    )
)


def _expected(result: QueryResult) -> list[list[object]]:
    return [[None if cell is None else _labelless(cell) for cell in row] for row in result.rows]


def _labelless(term: Term) -> object:
    if isinstance(term, ox.BlankNode):  # blank node labels are the writer's to choose; only their presence counts
        return "bnode"
    return term


def _read(text: str, fmt: ox.QueryResultsFormat, variables: list[str]) -> list[list[object]]:
    solutions = ox.parse_query_results(text.encode("utf-8"), format=fmt)
    assert isinstance(solutions, ox.QuerySolutions)
    assert [v.value for v in solutions.variables] == variables
    rows = []
    for solution in solutions:
        row: list[object] = []
        for name in variables:
            value = solution[name]
            row.append("bnode" if isinstance(value, ox.BlankNode) else value)
        rows.append(row)
    return rows


@settings(max_examples=150, deadline=None)
@given(results)
def test_json_and_tsv_read_back_as_the_same_terms(result: QueryResult) -> None:
    expected = _expected(result)
    assert _read(sparql_json(result), ox.QueryResultsFormat.JSON, result.variables) == expected
    assert _read(sparql_tsv(result), ox.QueryResultsFormat.TSV, result.variables) == expected


@settings(max_examples=100, deadline=None)
@given(results)
def test_csv_reads_back_as_the_same_values(result: QueryResult) -> None:
    """CSV keeps values, not datatypes or language tags (pyoxigraph will not read it back: Python's
    csv module, the other independent reader, does)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(sparql_csv(result), newline="")))
    assert rows[0] == result.variables
    assert len(rows) == len(result.rows) + 1
    for got, row in zip(rows[1:], result.rows, strict=True):
        # one unbound cell in a one-column table is an empty line, which the csv module reads as []
        for value, cell in zip(got or [""], row, strict=True):
            if cell is None:
                assert value == ""
            elif isinstance(cell, ox.BlankNode):
                assert value.startswith("_:")
            else:
                assert value == cell.value


def test_a_tab_and_a_decimal_without_a_point_in_tsv() -> None:
    row = (ox.Literal("x\ty", datatype=ox.NamedNode(XSD_STRING)), ox.Literal("2", datatype=_typed("decimal")))
    result = QueryResult("select", ["a", "b"], [row])
    assert sparql_tsv(result) == '?a\t?b\n"x\\ty"\t"2"^^<http://www.w3.org/2001/XMLSchema#decimal>\n'


def test_ask_answers_in_every_format() -> None:
    yes, no = QueryResult("ask", boolean=True), QueryResult("ask", boolean=False)
    assert sparql_json(yes) == '{"head": {}, "boolean": true}\n'
    assert sparql_csv(no) == "_askResult\r\nfalse\r\n"
    assert sparql_tsv(yes) == "?_askResult\ntrue\n"
