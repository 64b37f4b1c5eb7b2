"""The graph in a real triple store: push it into an Oxigraph server, query it there (SPARQLWrapper),
and get the same answers as from the embedded graph; the same through ``axilla-kg serve``."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from serving_helpers import axilla_server, oxigraph_server
from test_named_queries import PARAMS

from axilla_kg.errors import UsageError
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.remote import RemoteEngine, push, remote_graph
from axilla_kg.graph.results import XSD
from axilla_kg.graph.sparql_text import bind_parameters

from conftest import run_cli

pytestmark = pytest.mark.slow

GRAPH = "https://w3id.org/axilla-kg/graph/test"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as base:
        report = push(base + "/store")
        assert report.method == "graph-store" and report.target == "default graph"
        yield base


@pytest.fixture(scope="module")
def local() -> KnowledgeGraph:
    return KnowledgeGraph.load()


def count(base: str, graph: str | None = None) -> int:
    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
    query = urllib.parse.urlencode({"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"})
    request = urllib.request.Request(f"{base}/query?{query}", headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.loads(response.read())["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_named_queries_give_the_same_answers_remotely(store: str, local: KnowledgeGraph, name: str) -> None:
    remote = remote_graph(store + "/query")
    here = local.query(name, **PARAMS[name])
    there = remote.query(name, **PARAMS[name])
    assert there.variables == here.variables
    assert there.canonical_rows() == here.canonical_rows()


def test_push_loads_every_triple_and_replaces_rather_than_adds(store: str, local: KnowledgeGraph) -> None:
    assert count(store) == len(local) == len(RemoteEngine(store + "/query"))
    push(store + "/store")
    assert count(store) == len(local)


def test_push_to_a_named_graph_and_query_it_from_the_cli(store: str, local: KnowledgeGraph) -> None:
    result = run_cli("push", "--endpoint", store + "/store", "--graph", GRAPH)
    assert result.returncode == 0, result.stderr
    assert str(len(local)) in result.stdout and GRAPH in result.stdout
    assert count(store, GRAPH) == len(local)
    result = run_cli(
        "query", "appropriate-studies", "--param", "variant=4", "--endpoint", store + "/query", "--graph", GRAPH
    )
    assert result.returncode == 0, result.stderr
    for row in local.records("appropriate-studies", variant=4):
        assert str(row["procedure"]) in result.stdout


def test_push_by_sparql_update_when_there_is_no_graph_store(store: str, local: KnowledgeGraph) -> None:
    graph = GRAPH + "/update"
    report = push(None, graph, update_endpoint=store + "/update")
    assert report.method == "update" and count(store, graph) == len(local)
    report = push(store + "/no-graph-store-here", graph, update_endpoint=store + "/update")  # 404 -> fallback
    assert report.method == "update" and count(store, graph) == len(local)


def test_parameter_values_cannot_change_the_query(store: str, local: KnowledgeGraph) -> None:
    remote = remote_graph(store + "/query")
    hostile = 'x" } } ; DROP ALL ; SELECT * { ?s ?p "'
    for value in (hostile, "Ultrasound\\u0022 }", "line\nbreak"):
        here = local.records("procedure-dose", procedure=value)
        assert remote.records("procedure-dose", procedure=value) == here == []
    assert count(store) == len(local)  # nothing dropped


def test_assigned_parameters_are_filtered_not_valued(store: str, local: KnowledgeGraph) -> None:
    outcomes = {r["outcome"] for r in local.records("next-steps", variant=4)}
    assert outcomes
    remote = remote_graph(store + "/query")
    for outcome in sorted(outcomes):
        here = local.query("next-steps", variant=4, outcome=outcome).canonical_rows()
        assert remote.query("next-steps", variant=4, outcome=outcome).canonical_rows() == here != []


def test_ad_hoc_sparql_remotely_with_the_project_prefixes(store: str, local: KnowledgeGraph) -> None:
    query = "SELECT ?key WHERE { ?t a ax:Topic ; ax:topicKey ?key } ORDER BY ?key"
    result = run_cli("sparql", query, "--endpoint", store + "/query", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == [r["key"] for r in local.sparql(query).records()]
    construct = "CONSTRUCT { ?t ax:topicKey ?key } WHERE { ?t a ax:Topic ; ax:topicKey ?key }"
    there = remote_graph(store + "/query").sparql(construct).triples
    assert set(there) == set(local.sparql(construct).triples) and len(there) >= 7


def test_remote_errors_are_one_line_messages(store: str, tmp_path: Path) -> None:
    result = run_cli("sparql", "SELECT * WHERE { ?s ?p ", "--endpoint", store + "/query")
    assert result.returncode == 2 and "malformed" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("sparql", "SELECT * WHERE { ?s ?p ?o }", "--endpoint", "http://127.0.0.1:1/sparql")
    assert result.returncode == 2 and "cannot reach" in result.stderr
    result = run_cli("query", "variants", "--endpoint", "ftp://example.org/")
    assert result.returncode == 2 and "http(s) URL" in result.stderr
    data = tmp_path / "extra.ttl"
    data.write_text("<urn:a> <urn:b> <urn:c> .\n", encoding="utf-8")
    result = run_cli("query", "variants", "--endpoint", store + "/query", "--data", str(data))
    assert result.returncode == 2 and "--data" in result.stderr
    with pytest.raises(UsageError):
        push(None, None, None)


def test_named_queries_through_serve_match_local_and_oxigraph(store: str, local: KnowledgeGraph) -> None:
    with axilla_server("--workers", "2") as base:
        served = remote_graph(base + "/sparql")
        oxigraph = remote_graph(store + "/query")
        for name in sorted(PARAMS):
            here = local.query(name, **PARAMS[name]).canonical_rows()
            assert served.query(name, **PARAMS[name]).canonical_rows() == here, name
            assert oxigraph.query(name, **PARAMS[name]).canonical_rows() == here, name
        result = run_cli("query", "appropriate-studies", "--param", "variant=4", "--endpoint", base + "/sparql")
        assert result.returncode == 0 and "US axilla" in result.stdout


def test_bound_text_is_what_the_engine_would_bind() -> None:
    text = "SELECT ?v ?x WHERE { ?s ?p ?v . BIND(STR(?s) AS ?x) }"
    four = ox.Literal("4", datatype=ox.NamedNode(XSD + "integer"))
    bound = bind_parameters(text, {"v": four, "x": ox.Literal('a"b')})
    assert 'VALUES (?v) { ("4"^^<http://www.w3.org/2001/XMLSchema#integer>) }' in bound
    assert 'FILTER(sameTerm(?x, "a\\"b"))' in bound


def test_push_keeps_every_literal_in_its_lexical_form() -> None:
    """A real HTTP server receives the PUT; the N-Triples it gets carry exactly the literals that
    rdflib (which keeps lexical forms) reads from the shipped files: "2.0"^^xsd:decimal stays "2.0"."""
    import http.server
    import threading

    import rdflib

    from axilla_kg.resources import ontology_files

    received: list[bytes] = []

    class Store(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        report = push(f"http://127.0.0.1:{server.server_address[1]}/store")
    finally:
        server.shutdown()
        server.server_close()
    pushed = rdflib.Graph().parse(data=received[0], format="nt")
    expected = rdflib.Graph()
    for path in ontology_files(include_inferred=True):
        expected.parse(str(path))
    assert report.triples == len(expected) == len(pushed)
    lexical = {(str(o), str(o.datatype)) for o in expected.objects() if isinstance(o, rdflib.Literal)}
    assert {(str(o), str(o.datatype)) for o in pushed.objects() if isinstance(o, rdflib.Literal)} == lexical
    assert ("2.0", "http://www.w3.org/2001/XMLSchema#decimal") in lexical
