"""The graph in a second real triple store, OpenLink Virtuoso: ``axilla-kg push`` loads it through
Virtuoso's Graph Store endpoint, and every named query, run through SPARQLWrapper with the named
graph as the default graph, gives the same rows as the embedded engine and as an Oxigraph server.

Values are compared as RDF terms after the one normalisation ``graph.results.canonical`` documents:
Virtuoso writes ``xsd:boolean`` values as ``"1"``/``"0"`` (valid lexical forms of the same
values), where Oxigraph writes ``"true"``/``"false"``. Nothing else is normalised: a row that
differs in any other way fails the test.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from serving_helpers import oxigraph_server
from store_helpers import virtuoso_server
from test_named_queries import PARAMS

from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.remote import push, remote_graph
from axilla_kg.graph.results import XSD, canonical

from conftest import run_cli

pytestmark = pytest.mark.slow

GRAPH = "https://w3id.org/axilla-kg/graph/286"


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as base:
        result = run_cli("push", "--endpoint", base + "/sparql-graph-crud", "--graph", GRAPH)
        assert result.returncode == 0, result.stderr
        yield base


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as base:
        push(base + "/store", GRAPH)
        yield base


@pytest.fixture(scope="module")
def local() -> KnowledgeGraph:
    return KnowledgeGraph.load()


def count(endpoint: str, graph: str) -> int:
    query = urllib.parse.urlencode({"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    request = urllib.request.Request(f"{endpoint}?{query}", headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(json.loads(response.read())["results"]["bindings"][0]["n"]["value"])


def test_push_loads_every_triple_into_virtuoso(virtuoso: str, local: KnowledgeGraph) -> None:
    assert count(virtuoso + "/sparql", GRAPH) == len(local)
    result = run_cli("push", "--endpoint", virtuoso + "/sparql-graph-crud", "--graph", GRAPH)  # replaces, not adds
    assert result.returncode == 0, result.stderr
    assert count(virtuoso + "/sparql", GRAPH) == len(local)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_named_queries_give_the_same_rows_in_virtuoso_oxigraph_and_embedded(
    virtuoso: str, oxigraph: str, local: KnowledgeGraph, name: str
) -> None:
    here = local.query(name, **PARAMS[name])
    in_virtuoso = remote_graph(virtuoso + "/sparql", GRAPH).query(name, **PARAMS[name])
    in_oxigraph = remote_graph(oxigraph + "/query", GRAPH).query(name, **PARAMS[name])
    assert in_virtuoso.variables == here.variables == in_oxigraph.variables
    assert here.rows, f"{name} answers nothing here: the comparison would prove nothing"
    assert in_virtuoso.canonical_rows() == here.canonical_rows() == in_oxigraph.canonical_rows()


def test_the_cli_queries_virtuoso_with_the_graph_as_default(virtuoso: str, local: KnowledgeGraph) -> None:
    result = run_cli(
        "query", "appropriate-studies", "--param", "variant=4", "--endpoint", virtuoso + "/sparql", "--graph", GRAPH,
        "--format", "csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = [str(r["procedure"]) for r in local.records("appropriate-studies", variant=4)]
    assert [line.split(",")[2] for line in result.stdout.splitlines()[1:]] == expected


def test_virtuoso_booleans_differ_only_in_lexical_form(virtuoso: str) -> None:
    """The one documented difference, shown to exist (so the normalisation is not dead code) and
    to be only lexical: Virtuoso's "1" is the same value as "true"."""
    rows = remote_graph(virtuoso + "/sparql", GRAPH).query("table-completeness").rows
    flags = {row[2] for row in rows}
    boolean = ox.NamedNode(XSD + "boolean")
    assert flags <= {ox.Literal("1", datatype=boolean), ox.Literal("0", datatype=boolean)}, flags
    canonical_forms = {ox.Literal("true", datatype=boolean), ox.Literal("false", datatype=boolean)}
    assert {canonical(flag) for flag in flags} <= canonical_forms
