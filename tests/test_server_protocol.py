"""``axilla-kg serve`` over real HTTP: the SPARQL 1.1 Protocol, result formats, screening and limits.

One server process (2 workers, 1.5 s time limit, 500-triple cap, 1 MiB answer cap, 4 KiB body
limit) serves the whole module; answers are compared with the embedded graph's own answers to the
same queries.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest
from canary import Canary, canary
from serving_helpers import axilla_server

from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.sparql_text import bind_parameters

pytestmark = pytest.mark.slow

TIME_LIMIT = 1.5
MAX_RESULTS = 500
SELECT = "SELECT ?key ?number WHERE { ?t a ax:Topic ; ax:topicKey ?key ; ax:topicNumber ?number } ORDER BY ?key"
CONSTRUCT = "CONSTRUCT { ?t ax:topicKey ?key } WHERE { ?t a ax:Topic ; ax:topicKey ?key }"
ASK = "ASK { ?t a ax:Topic ; ax:topicKey '286' }"
# a three-way cross product of the whole graph: 10^11 combinations, never finishes in time
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SR = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    flags = ["--workers", "2", "--timeout", str(TIME_LIMIT), "--max-results", str(MAX_RESULTS), "--max-body", "4096"]
    flags += ["--max-answer-mb", "1"]
    with axilla_server(*flags) as url:
        yield url


@pytest.fixture(scope="module")
def local() -> KnowledgeGraph:
    return KnowledgeGraph.load()


def request(
    base: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def get(base: str, query: str, accept: str | None = None, **extra: str) -> tuple[int, str, bytes]:
    params = urllib.parse.urlencode({"query": query, **extra})
    return request(base, "GET", "/sparql?" + params, headers={"Accept": accept} if accept else {})


def local_keys(local: KnowledgeGraph) -> list[tuple[str, int]]:
    return [(r["key"], r["number"]) for r in local.sparql(SELECT).records()]


def json_keys(body: bytes) -> list[tuple[str, int]]:
    data = json.loads(body)
    assert data["head"]["vars"] == ["key", "number"]
    return [(b["key"]["value"], int(b["number"]["value"])) for b in data["results"]["bindings"]]


# --- protocol --------------------------------------------------------------------------------
def test_health_and_service_description(base: str, local: KnowledgeGraph) -> None:
    status, _, body = request(base, "GET", "/health")
    assert status == 200
    assert json.loads(body)["triples"] == len(local)
    status, ctype, body = request(base, "GET", "/sparql")
    assert status == 200 and ctype.startswith("text/turtle")
    description = list(ox.parse(body, format=ox.RdfFormat.TURTLE))
    endpoints = [t.object.value for t in description if t.predicate.value.endswith("#endpoint")]
    assert endpoints == [base + "/sparql"]


def test_get_select_matches_the_embedded_graph(base: str, local: KnowledgeGraph) -> None:
    status, ctype, body = get(base, SELECT)
    assert status == 200 and ctype.startswith("application/sparql-results+json")
    assert json_keys(body) == local_keys(local) and len(local_keys(local)) >= 6


def test_post_form_and_direct_encodings(base: str, local: KnowledgeGraph) -> None:
    form = urllib.parse.urlencode({"query": SELECT}).encode()
    status, _, body = request(base, "POST", "/sparql", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and json_keys(body) == local_keys(local)
    direct = SELECT.encode()
    status, _, body = request(base, "POST", "/sparql", direct, {"Content-Type": "application/sparql-query"})
    assert status == 200 and json_keys(body) == local_keys(local)


def test_select_in_every_result_format(base: str, local: KnowledgeGraph) -> None:
    expected = local_keys(local)
    status, ctype, body = get(base, SELECT, "application/sparql-results+xml")
    assert status == 200 and ctype.startswith("application/sparql-results+xml")
    rows = ET.fromstring(body).iter(SR + "result")
    got = [
        tuple(b.findtext(f"{SR}literal") for b in sorted(r, key=lambda b: b.get("name") or "")) for r in rows
    ]  # (key, number)
    assert [(k, int(n or 0)) for k, n in got] == expected
    status, ctype, body = get(base, SELECT, "text/csv")
    assert status == 200 and ctype.startswith("text/csv")
    table = list(csv.reader(io.StringIO(body.decode())))
    assert table[0] == ["key", "number"] and [(k, int(n)) for k, n in table[1:]] == expected
    status, ctype, body = get(base, SELECT, "text/tab-separated-values")
    assert status == 200 and ctype.startswith("text/tab-separated-values")
    lines = body.decode().splitlines()
    assert lines[0] == "?key\t?number" and len(lines) == len(expected) + 1
    assert lines[1].startswith(f'"{expected[0][0]}"\t')


def test_ask_in_every_result_format(base: str) -> None:
    assert json.loads(get(base, ASK)[2]) == {"head": {}, "boolean": True}
    assert ET.fromstring(get(base, ASK, "application/sparql-results+xml")[2]).findtext(SR + "boolean") == "true"
    # SPARQL 1.1 CSV/TSV define no boolean form; pyoxigraph's writer sends the bare value
    assert get(base, ASK, "text/csv")[2].decode().split()[-1] == "true"
    assert get(base, ASK, "text/tab-separated-values")[2].decode().split()[-1] == "true"
    assert json.loads(get(base, ASK.replace("'286'", "'no-such-topic'"))[2])["boolean"] is False


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    ],
)
def test_construct_in_every_graph_format(base: str, local: KnowledgeGraph, accept: str, fmt: Any) -> None:
    expected = {(s.value, o.value) for s, _p, o in local.sparql(CONSTRUCT).triples}
    status, ctype, body = get(base, CONSTRUCT, accept)
    assert status == 200 and ctype.startswith(accept)
    got = {(t.subject.value, t.object.value) for t in ox.parse(body, format=fmt)}
    assert got == expected and len(expected) >= 6


def test_describe_defaults_to_turtle(base: str) -> None:
    status, ctype, body = get(base, "DESCRIBE axd:topic-286")
    assert status == 200 and ctype.startswith("text/turtle")
    subjects = {t.subject.value for t in ox.parse(body, format=ox.RdfFormat.TURTLE)}
    assert "https://w3id.org/axilla-kg/id/topic-286" in subjects


def test_named_query_route_binds_typed_parameters(base: str, local: KnowledgeGraph) -> None:
    status, _, body = request(base, "GET", "/queries/appropriate-studies?variant=4")
    assert status == 200
    procedures = [b["procedure"]["value"] for b in json.loads(body)["results"]["bindings"]]
    assert procedures == [r["procedure"] for r in local.records("appropriate-studies", variant=4)]
    status, _, body = request(base, "GET", "/queries/appropriate-studies?variant=four")
    assert status == 400 and b"whole number" in body
    status, _, body = request(base, "GET", "/queries/no-such-query")
    assert status == 400 and b"unknown query" in body


def test_query_page_is_self_contained(base: str, local: KnowledgeGraph) -> None:
    status, ctype, body = request(base, "GET", "/query")
    page = body.decode()
    assert status == 200 and ctype.startswith("text/html")
    for query in local.named_queries():
        assert f'data-name="{query.name}"' in page
    assert "src=" not in page and "<link" not in page  # nothing fetched from anywhere
    status, _, body = request(base, "GET", "/queries")
    assert {q["name"] for q in json.loads(body)} == {q.name for q in local.named_queries()}


# --- errors and screening ------------------------------------------------------------------------
def test_malformed_query_gets_400_with_the_parser_message(base: str) -> None:
    status, _, body = get(base, "SELECT * WHERE { ?s ?p ")
    assert status == 400 and body.startswith(b"malformed SPARQL:") and b"1:" in body


@pytest.mark.parametrize(
    "query",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "PREFIX ex: <urn:x:> DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://127.0.0.1:9/data.ttl>",
        "CLEAR DEFAULT",
    ],
)
def test_updates_are_refused(base: str, query: str) -> None:
    status, _, body = get(base, query)
    assert status == 403 and b"read-only" in body


def test_update_operations_of_the_protocol_are_refused(base: str) -> None:
    update = b"INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    status, _, body = request(base, "POST", "/sparql", update, {"Content-Type": "application/sparql-update"})
    assert status == 403
    form = urllib.parse.urlencode({"update": update.decode()}).encode()
    status, _, _ = request(base, "POST", "/sparql", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
    status, _, _ = request(base, "PUT", "/sparql", update, {"Content-Type": "text/turtle"})
    assert status == 405
    status, _, body = get(base, "ASK { <urn:a> <urn:b> <urn:c> }")
    assert json.loads(body)["boolean"] is False  # nothing was written


@pytest.fixture
def listener() -> Iterator[Canary]:
    """A loopback listener that counts connections: proof that the server fetched nothing."""
    with canary() as bird:
        yield bird


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        "select * where {{ ?x ?y ?z . service silent <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ FILTER EXISTS {{ SERVICE<http://127.0.0.1:{port}/>{{?s ?p ?o}} }} }}",
        "SELECT * WHERE {{ \\u0053ERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
        "SELECT * FROM <http://127.0.0.1:{port}/graph.ttl> WHERE {{ ?s ?p ?o }}",
        "SELECT * FROM NAMED <http://127.0.0.1:{port}/graph.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    ],
)
def test_outbound_requests_are_refused_before_evaluation(base: str, listener: Canary, template: str) -> None:
    status, _, body = get(base, template.format(port=listener.port))
    assert status == 403, body
    assert listener.connections == 0


def test_dataset_protocol_parameters_are_refused(base: str, listener: Canary) -> None:
    status, _, _ = get(base, SELECT, **{"default-graph-uri": f"http://127.0.0.1:{listener.port}/g.ttl"})
    assert status == 403 and listener.connections == 0


def test_keywords_inside_strings_iris_and_names_are_not_refused(base: str) -> None:
    query = (
        "SELECT ?service WHERE { BIND('SERVICE <http://x/> INSERT' AS ?service) "
        "FILTER(?service != <urn:LOAD:FROM>) } # SERVICE in a comment"
    )
    status, _, body = get(base, query)
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"][0]["service"]["value"].startswith("SERVICE")


def test_request_errors(base: str) -> None:
    assert get(base, SELECT, "image/png")[0] == 406
    # a format value that cannot carry this answer is a preference, not an order: Accept decides
    status, ctype, _ = get(base, SELECT, format="turtle")
    assert status == 200 and ctype.startswith("application/sparql-results+json")
    big = b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * 5000
    status, _, body = request(base, "POST", "/sparql", big, {"Content-Type": "application/sparql-query"})
    assert status == 413 and b"--max-body" in body
    status, _, _ = request(base, "POST", "/sparql", b"{}", {"Content-Type": "application/json"})
    assert status == 415
    assert request(base, "GET", "/nothing-here")[0] == 404
    assert get(base, SELECT, format="csv")[1].startswith("text/csv")


# --- limits --------------------------------------------------------------------------------------
def test_result_caps(base: str) -> None:
    status, _, body = get(base, "SELECT * WHERE { ?s ?p ?o }")  # about 2.5 MB of JSON
    assert status == 413 and b"--max-answer-mb" in body
    status, _, body = get(base, "CONSTRUCT WHERE { ?s ?p ?o }")
    assert status == 413 and f"more than {MAX_RESULTS} triples".encode() in body
    status, _, body = get(base, f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {MAX_RESULTS}")
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == MAX_RESULTS


def test_one_row_of_chained_concat_is_stopped_by_the_byte_cap(base: str) -> None:
    """The issue's 67 MB single row: each BIND multiplies the string by ten (the nesting stays flat)."""
    binds = ["BIND(CONCAT(" + ",".join(["?a"] * 10) + ") AS ?b)"]
    binds += [f"BIND(CONCAT({','.join([f'?{x}'] * 10)}) AS ?{y})" for x, y in zip("bcdef", "cdefg", strict=True)]
    query = "SELECT ?g WHERE { BIND('0123456789' AS ?a) " + " ".join(binds) + " }"  # 10^7 characters
    status, _, body = get(base, query)
    assert status == 413 and b"--max-answer-mb" in body


def health(base: str) -> dict[str, Any]:
    return dict(json.loads(request(base, "GET", "/health")[2]))


def wait_until(condition: Any, what: str, limit: float = 60.0) -> None:
    """Poll a condition of the server's own state (not a clock guess), within a generous bound."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")


def test_runaway_query_is_stopped_and_the_server_keeps_serving(base: str, local: KnowledgeGraph) -> None:
    outcome: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("answer", get(base, RUNAWAY)))
    thread.start()
    wait_until(lambda: health(base)["idle"] < 2 or "answer" in outcome, "the runaway holds a worker")
    # while one worker is stuck, the other answers
    for _ in range(5):
        status, _, body = get(base, SELECT)
        assert status == 200 and json_keys(body) == local_keys(local)
    thread.join(timeout=60)
    status, _, body = outcome["answer"]
    assert status == 503 and b"time limit" in body
    # the killed worker is replaced: both workers are alive and answer again
    wait_until(lambda: health(base)["workers"] == 2, "the killed worker is replaced")
    assert all(get(base, SELECT)[0] == 200 for _ in range(10))


def test_sixteen_concurrent_clients_get_their_own_answers(base: str, local: KnowledgeGraph) -> None:
    variants = list(range(1, 13))
    named = local.library.get("appropriate-studies")
    expected = {v: local.query("appropriate-studies", variant=v).canonical_rows() for v in variants}
    texts = {v: bind_parameters(named.text, named.bindings({"variant": v})) for v in variants}
    failures: list[str] = []

    def client(index: int) -> None:
        parts = urllib.parse.urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        for round_ in range(12):
            variant = variants[(index + round_) % len(variants)]
            body = urllib.parse.urlencode({"query": texts[variant]})
            conn.request("POST", "/sparql", body, {"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                failures.append(f"client {index}: HTTP {response.status} {data[:200]!r}")
                continue
            got = [b["procedure"]["value"] for b in json.loads(data)["results"]["bindings"]]
            want = [row[2].value for row in expected[variant] if row[2] is not None]
            if got != want:
                failures.append(f"client {index}, variant {variant}: {got} != {want}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert any(expected[v] for v in variants)


def test_sparqlwrapper_talks_to_serve(base: str, local: KnowledgeGraph) -> None:
    from SPARQLWrapper import JSON, XML, SPARQLWrapper

    wrapper = SPARQLWrapper(base + "/sparql")
    wrapper.setQuery("PREFIX ax: <https://w3id.org/axilla-kg/vocab#>\n" + SELECT)
    wrapper.setReturnFormat(JSON)
    assert json_keys(json.dumps(wrapper.queryAndConvert()).encode()) == local_keys(local)
    wrapper.setReturnFormat(XML)
    document = wrapper.queryAndConvert()
    assert len(document.getElementsByTagName("result")) == len(local_keys(local))


SPARQLWRAPPER_FORMS = {
    "SELECT": SELECT,
    "ASK": ASK,
    "CONSTRUCT": CONSTRUCT,
    "DESCRIBE": "DESCRIBE axd:topic-286",
}


def test_sparqlwrapper_defaults_work_for_every_form_format_and_method(base: str, local: KnowledgeGraph) -> None:
    """SPARQLWrapper as shipped (no setOnlyConneg): it sends format, output and results, repeats
    format for TSV, RDF/XML and JSON-LD, and asks for N3; every combination must give a 200 whose
    body SPARQLWrapper converts, and a SELECT in JSON must carry the right rows."""
    import warnings

    from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    failures = []
    tried = 0
    prefix = "PREFIX ax: <https://w3id.org/axilla-kg/vocab#>\nPREFIX axd: <https://w3id.org/axilla-kg/id/>\n"
    for form, text in SPARQLWRAPPER_FORMS.items():
        for fmt in (JSON, XML, CSV, TSV, TURTLE, N3, RDFXML, JSONLD):
            for method in ("GET", POST):
                tried += 1
                wrapper = SPARQLWrapper(base + "/sparql")
                wrapper.setQuery(prefix + text)
                wrapper.setReturnFormat(fmt)
                if method == POST:
                    wrapper.setMethod(POST)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # SPARQLWrapper warns about unusual form/format pairs
                        result = wrapper.query()
                        converted = result.convert()
                except (SPARQLWrapperException, OSError, ValueError) as exc:
                    failures.append(f"{form} {fmt} {method}: {type(exc).__name__} {str(exc)[:120]}")
                    continue
                if result.response.status != 200:
                    failures.append(f"{form} {fmt} {method}: HTTP {result.response.status}")
                if form == "SELECT" and fmt == JSON:
                    assert json_keys(json.dumps(converted).encode()) == local_keys(local)
    assert failures == [], f"{len(failures)} of {tried} failed"
    assert tried == 64


def test_the_front_door_is_served_beside_the_endpoint(base: str) -> None:
    """serve mounts the lookup pages and the CDS Hooks service (axilla_kg.web) under its own limits."""
    status, ctype, body = request(base, "GET", "/topics")
    assert status == 200 and ctype.startswith("text/html") and b"286" in body
    status, ctype, body = request(base, "GET", "/cds-services")
    assert status == 200 and json.loads(body)["services"]
    status, _, _ = request(base, "GET", "/health")
    assert status == 200  # the endpoint's own routes come first
    status, ctype, body = request(base, "GET", "/")
    assert status == 200 and b'action="/search"' in body  # the lookup home, not a redirect to /query
    status, ctype, body = request(base, "GET", "/query")
    assert status == 200 and b'id="named-data"' in body
