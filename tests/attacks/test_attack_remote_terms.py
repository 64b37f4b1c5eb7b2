"""A remote SPARQL endpoint is an adversary: its answer's terms are read into pyoxigraph terms
(and so are the rdflib engine's, from a data file the user names).

``axilla-kg query/sparql --endpoint URL`` reads SPARQL JSON from a store the user named, which may
answer anything. pyoxigraph validates a term as it builds it, so an IRI with a space, a bad percent
escape, a language tag that is no tag or a cell of the wrong shape must end in one line naming the
endpoint (``RemoteError``, exit 2), never a traceback, and never reach the writers half-read. A
blank node label that RDF syntax does not allow (Virtuoso writes ``nodeID://b10007``) is not an
error: it becomes one fresh blank node, the same wherever it recurs in that answer.

The endpoint is a real HTTP server (the standard library's) spoken to by the real client
(SPARQLWrapper, through ``RemoteEngine``) and by the CLI.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from axilla_kg.errors import RemoteError
from axilla_kg.graph.remote import RemoteEngine

from conftest import run_cli

XSD = "http://www.w3.org/2001/XMLSchema#"


def _answer(*cells: Any) -> dict[str, Any]:
    return {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": cell} for cell in cells]}}


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A SPARQL endpoint that answers every query with the next body the test puts in its list."""
    bodies: list[dict[str, Any]] = []

    class Endpoint(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            payload = json.dumps(bodies.pop(0)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", bodies
    finally:
        server.shutdown()
        server.server_close()


HOSTILE = [
    {"type": "uri", "value": "http://a b/"},  # a space in an IRI
    {"type": "uri", "value": "http://a/%zz"},  # a percent escape that is none
    {"type": "uri", "value": "no-scheme"},  # a relative IRI
    {"type": "literal", "value": "x", "xml:lang": "e n"},  # a language tag that is no tag
    {"type": "literal", "value": "x", "datatype": "not an iri"},  # a datatype that is no IRI
    {"type": "literal", "value": ["not", "a", "string"]},  # a cell of the wrong shape
]


@pytest.mark.parametrize("cell", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_an_invalid_term_is_one_remote_error(endpoint: tuple[str, list[dict[str, Any]]], cell: Any) -> None:
    url, bodies = endpoint
    bodies.append(_answer({"type": "uri", "value": "urn:fine"}, cell))
    with pytest.raises(RemoteError, match="answered a term that is not valid RDF") as caught:
        RemoteEngine(url).query("SELECT ?x WHERE { ?x ?p ?o }")
    assert url in str(caught.value) and "\n" not in str(caught.value)


def test_the_cli_says_it_in_one_line(endpoint: tuple[str, list[dict[str, Any]]]) -> None:
    url, bodies = endpoint
    bodies.append(_answer({"type": "uri", "value": "http://a b/"}))
    result = run_cli("sparql", "SELECT ?x WHERE { ?x ?p ?o }", "--endpoint", url, "--format", "csv")
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "not valid RDF" in result.stderr, result.stderr


def test_store_specific_blank_node_labels_keep_their_coreference(endpoint: tuple[str, list[dict[str, Any]]]) -> None:
    url, bodies = endpoint
    virtuoso, other = {"type": "bnode", "value": "nodeID://b10007"}, {"type": "bnode", "value": "nodeID://b10008"}
    bodies.append(_answer(virtuoso, other, virtuoso, {"type": "bnode", "value": "b1"}))
    rows = RemoteEngine(url).query("SELECT ?x WHERE { ?x ?p ?o }").rows
    (a,), (b,), (again,), (plain,) = rows
    assert isinstance(a, ox.BlankNode) and a == again and a != b
    assert plain == ox.BlankNode("b1")  # a label RDF allows is kept as it is


def test_well_formed_terms_arrive_as_pyoxigraph_terms(endpoint: tuple[str, list[dict[str, Any]]]) -> None:
    url, bodies = endpoint
    bodies.append(
        _answer(
            {"type": "uri", "value": "https://w3id.org/axilla-kg/id/x"},
            {"type": "literal", "value": "Hello", "xml:lang": "EN-GB"},
            {"type": "typed-literal", "value": "1", "datatype": XSD + "boolean"},  # the SPARQL XML-era spelling
            {"type": "literal", "value": "plain"},
        )
    )
    rows = RemoteEngine(url).query("SELECT ?x WHERE { ?x ?p ?o }").rows
    assert [row[0] for row in rows] == [
        ox.NamedNode("https://w3id.org/axilla-kg/id/x"),
        ox.Literal("Hello", language="en-gb"),
        ox.Literal("1", datatype=ox.NamedNode(XSD + "boolean")),
        ox.Literal("plain"),
    ]


def test_an_iri_only_rdflib_accepts_is_one_line_from_the_rdflib_engine(tmp_path: Path) -> None:
    """The same check on the other way in: a data file whose IRI rdflib's parser lets through but RDF
    does not allow, queried with ``--engine rdflib``, is refused in one line (Oxigraph refuses the
    file itself when loading it)."""
    data = tmp_path / "bad.nt"
    data.write_text('<http://a/%zz> <urn:p> "x" .\n', encoding="utf-8")
    query = "SELECT ?s WHERE { ?s <urn:p> ?o }"
    for engine, words in (("rdflib", "not valid RDF"), ("oxigraph", "bad.nt")):
        result = run_cli("sparql", query, "--engine", engine, "--data", str(data))
        assert result.returncode == 2 and result.stdout == "", (engine, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr, (engine, result.stderr)
