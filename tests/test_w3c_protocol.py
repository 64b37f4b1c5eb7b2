"""The W3C SPARQL 1.1 Protocol test suite (tests/w3c/protocol/manifest.ttl) against ``axilla-kg serve``.

Each test's HTTP requests are sent as the manifest gives them (method, path, headers, body in its
character encoding) to one server process, and the status class, result format and boolean are
checked. A read-only endpoint that never fetches graphs refuses some tests by design: every update
and every request that names a protocol dataset (default-graph-uri, named-graph-uri,
using-graph-uri). For those the test asserts the refusal: a 4xx with a message that says why
(the README's "Security" section lists them).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection
from serving_helpers import axilla_server

pytestmark = pytest.mark.slow

MANIFEST = Path(__file__).parent / "w3c" / "protocol" / "manifest.ttl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
STATUS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
# refused by design: updates and protocol datasets (README, "Security")
REFUSED_MARKERS = ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri", "update=")


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[str]  # "2xx", "3xx", "4xx"
    expected_format: str | None
    expected_boolean: bool | None


@dataclass(frozen=True)
class Case:
    name: str
    steps: tuple[Step, ...]

    @property
    def refused_by_design(self) -> bool:
        for step in self.steps:
            if any(marker in step.path for marker in REFUSED_MARKERS):
                return True
            if step.headers.get("content-type", "").startswith("application/sparql-update"):
                return True
            if step.body and step.body.startswith(b"update="):
                return True
        return False


def load_cases() -> list[Case]:
    graph = rdflib.Graph().parse(MANIFEST, format="turtle")
    cases = []
    for test in sorted(graph.subjects(rdflib.RDF.type, MF.ProtocolTest)):
        action = graph.value(test, MF.action)
        steps = []
        for request in Collection(graph, graph.value(action, HT.requests)):
            headers = {}
            header_list = graph.value(request, HT.headers)
            if header_list is not None:
                for header in Collection(graph, header_list):
                    headers[str(graph.value(header, HT.fieldName)).lower()] = str(graph.value(header, HT.fieldValue))
            body_node = graph.value(request, HT.body)
            body = None
            if body_node is not None:
                encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(graph.value(body_node, CNT.chars)).encode(encoding)
            response = graph.value(request, HT.resp)
            statuses = frozenset(str(s).removeprefix(STATUS) for s in graph.objects(response, MF.expectedStatus))
            boolean = graph.value(response, MF.expectedBoolean)
            fmt = graph.value(response, MF.expectedFormat)
            steps.append(
                Step(
                    str(graph.value(request, HT.methodName)),
                    str(graph.value(request, HT.absolutePath)),
                    headers,
                    body,
                    statuses,
                    str(fmt) if fmt is not None else None,
                    bool(boolean.toPython()) if boolean is not None else None,
                )
            )
        cases.append(Case(str(test).rsplit("#", 1)[-1], tuple(steps)))
    return cases


CASES = load_cases()


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with axilla_server("--workers", "1") as url:
        yield url


def send(base: str, step: Step) -> tuple[int, str, bytes]:
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(step.method, step.path, body=step.body, headers=step.headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def boolean_of(ctype: str, body: bytes) -> bool:
    if ctype.startswith("application/sparql-results+json"):
        return bool(json.loads(body)["boolean"])
    assert ctype.startswith("application/sparql-results+xml"), ctype
    text = ET.fromstring(body).findtext("{http://www.w3.org/2005/sparql-results#}boolean")
    return text == "true"


def test_the_manifest_is_the_whole_suite() -> None:
    assert len(CASES) == 34
    assert sum(not case.refused_by_design for case in CASES) == 8
    assert len(WITHOUT_DATASET) == 6


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_w3c_protocol(base: str, case: Case) -> None:
    for step in case.steps:
        status, ctype, body = send(base, step)
        if case.refused_by_design:
            assert 400 <= status < 500, (status, body)
            if "4xx" not in step.statuses:  # a test that expects success gets the documented refusal
                assert status == 403, (status, body)
                assert b"read-only" in body or b"never fetches graphs" in body, body
            return  # later steps depend on the refused one
        assert f"{status // 100}xx" in step.statuses, (status, body)
        if step.expected_boolean is not None:
            assert boolean_of(ctype, body) is step.expected_boolean
        if step.expected_format == "RDF":
            media = ctype.split(";")[0]
            formats = {"text/turtle": ox.RdfFormat.TURTLE, "application/rdf+xml": ox.RdfFormat.RDF_XML}
            formats["application/n-triples"] = ox.RdfFormat.N_TRIPLES
            list(ox.parse(body, format=formats[media]))
        if step.expected_format == "tabular":
            media = ctype.split(";")[0]
            assert media in (
                "application/sparql-results+json",
                "application/sparql-results+xml",
                "text/csv",
                "text/tab-separated-values",
            )


# tests that name a dataset only in passing: their queries (ASK {}, a content-type check) do not
# depend on it, so they also run with the dataset parameters taken out
WITHOUT_DATASET = [c for c in CASES if c.name in ("query_get", "query_post_form") or c.name.startswith("query_content")]


def _strip_dataset(step: Step) -> Step:
    path, _, query = step.path.partition("?")
    kept = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if not k.endswith("graph-uri")]
    new_path = path + ("?" + urllib.parse.urlencode(kept) if kept else "")
    return dataclasses.replace(step, path=new_path)


@pytest.mark.parametrize("case", WITHOUT_DATASET, ids=[c.name for c in WITHOUT_DATASET])
def test_w3c_protocol_without_the_dataset(base: str, case: Case) -> None:
    stripped = Case(case.name, tuple(_strip_dataset(step) for step in case.steps))
    assert not stripped.refused_by_design
    test_w3c_protocol(base, stripped)
