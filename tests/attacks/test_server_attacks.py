"""Attacks on ``axilla-kg serve`` through real HTTP: the reproducers of issue 11 against one server
process, with a canary listener that must see zero connections."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.parsers.expat
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from canary import Canary, canary
from serving_helpers import Served, axilla_server, served

from conftest import cli_command, cli_env


@pytest.fixture(scope="module")
def bird() -> Iterator[Canary]:
    with canary() as listener:
        yield listener


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with axilla_server("--workers", "2") as url:
        yield url


def request(
    url: str, body: bytes | None = None, content_type: str | None = None, accept: str | None = None
) -> tuple[int, bytes]:
    headers = {"Content-Type": content_type} if content_type else {}
    if accept:
        headers["Accept"] = accept
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=60) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


@pytest.mark.parametrize("form", ["SELECT *", "ASK"])
@pytest.mark.parametrize("silent", ["SILENT ", ""])
def test_service_reproducer_by_get_and_post(base: str, bird: Canary, form: str, silent: str) -> None:
    query = f"{form} WHERE {{ ?s ?p 1.e5SERVICE {silent}<{bird.url}> {{ }} }}"
    status, body = request(f"{base}/sparql?" + urllib.parse.urlencode({"query": query}))
    assert status == 403 and b"SERVICE is refused" in body
    status, body = request(f"{base}/sparql", query.encode(), "application/sparql-query")
    assert status == 403
    status, body = request(
        f"{base}/sparql", urllib.parse.urlencode({"query": query}).encode(), "application/x-www-form-urlencoded"
    )
    assert status == 403
    assert bird.connections == 0


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000,
        "SELECT * WHERE { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
        "SELECT * WHERE { FILTER(" + "+".join(["1"] * 10_000) + ") }",
        "SELECT * WHERE { " + " UNION ".join(["{}"] * 10_000) + " }",
    ],
    ids=["braces", "parens", "plus", "union"],
)
def test_deep_nesting_is_a_400_and_the_server_goes_on(base: str, query: str) -> None:
    status, body = request(f"{base}/sparql", query.encode(), "application/sparql-query")
    assert status == 400, body
    status, _ = request(f"{base}/sparql?" + urllib.parse.urlencode({"query": "ASK { }"}))
    assert status == 200


# --- a server with short deadlines, extra data, and a data file that is deleted once it runs ------
EXTRA = """
<urn:s> <http://example.org/p#> "hash-ended predicate" .
<urn:s> <http://example.org/1> "digit-ended predicate" .
<urn:s> <urn:control> "bell\\u0007here" .
"""
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?c . ?d a ?f }"  # about a second; answer known below
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("data") / "extra.ttl"
    data.write_text(EXTRA, encoding="utf-8")
    flags = ["--workers", "2", "--timeout", "20", "--header-timeout", "1", "--body-timeout", "1", "--data", str(data)]
    with served(*flags) as server:
        data.unlink()  # the pool must heal without it
        yield server


def raw_exchange(url: str, payload: bytes, limit: float = 30.0) -> bytes:
    """Send raw bytes, then read until the server closes (bounded by a socket timeout, not a sleep)."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=limit) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_content_length_must_be_plain_digits(strict: Served) -> None:
    head = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 1_0\r\n"
    answer = raw_exchange(strict.url, head + b"Connection: close\r\n\r\nASK {}    ")
    assert answer.startswith(b"HTTP/1.1 400")


def test_a_silent_connection_gets_408_and_is_closed(strict: Served) -> None:
    assert raw_exchange(strict.url, b"").startswith(b"HTTP/1.1 408")


def test_a_half_sent_head_gets_408_and_is_closed(strict: Served) -> None:
    answer = raw_exchange(strict.url, b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n")
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_half_sent_body_gets_408_and_is_closed(strict: Served) -> None:
    head = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\n"
    answer = raw_exchange(strict.url, head + b"ASK {")
    assert answer.startswith(b"HTTP/1.1 408") and b"not received within" in answer


def test_the_host_header_never_reaches_the_service_description(strict: Served) -> None:
    evil = b'evil> . <urn:evil> <urn:p> "injected'
    answer = raw_exchange(strict.url, b"GET /sparql HTTP/1.1\r\nHost: " + evil + b"\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    triples = list(ox.parse(body, format=ox.RdfFormat.TURTLE))
    assert "urn:evil" not in {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    endpoints = [t.object.value for t in triples if t.predicate.value.endswith("#endpoint")]
    assert endpoints == [strict.url + "/sparql"]


def xml_parses(body: bytes) -> bool:
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("SELECT ?o WHERE { <urn:s> <urn:control> ?o }", "application/sparql-results+xml"),
        ("SELECT ?o WHERE { BIND('a\\u0001b' AS ?o) }", "application/sparql-results+xml"),
        ("CONSTRUCT WHERE { <urn:s> <http://example.org/p#> ?o }", "application/rdf+xml"),
        ("CONSTRUCT WHERE { <urn:s> <http://example.org/1> ?o }", "application/rdf+xml"),
        ("DESCRIBE <urn:s>", "application/rdf+xml"),
    ],
)  # fmt: skip
def test_xml_answers_are_well_formed_or_refused(strict: Served, query: str, accept: str) -> None:
    """pyoxigraph writes these as text that is not XML; the server refuses with 406 instead, and the
    same answer in JSON or Turtle comes back whole."""
    status, body = request(f"{strict.url}/sparql?" + urllib.parse.urlencode({"query": query}), accept=accept)
    assert status == 406 and b"well-formed XML" in body, body
    other = "text/turtle" if "rdf+xml" in accept else "application/sparql-results+json"
    status, body = request(f"{strict.url}/sparql?" + urllib.parse.urlencode({"query": query}), accept=other)
    assert status == 200 and body


def test_xml_answers_that_xml_can_carry_are_well_formed(strict: Served) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 200"
    status, body = request(
        f"{strict.url}/sparql?" + urllib.parse.urlencode({"query": query}), accept="application/sparql-results+xml"
    )
    assert status == 200 and xml_parses(body)
    query = "CONSTRUCT WHERE { ?s a ?o } LIMIT 200"
    status, body = request(
        f"{strict.url}/sparql?" + urllib.parse.urlencode({"query": query}), accept="application/rdf+xml"
    )
    assert status == 200 and xml_parses(body)
    assert len(list(ox.parse(body, format=ox.RdfFormat.RDF_XML))) == 200


def health(url: str) -> dict[str, object]:
    return dict(json.loads(request(url + "/health")[1]))


def wait_until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Poll the server's own state within a generous bound (no sleep-based guessing)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")


def ask(url: str) -> int:
    return request(f"{url}/sparql?" + urllib.parse.urlencode({"query": "ASK { <urn:s> ?p ?o }"}))[0]


def test_a_worker_killed_while_idle_fails_no_request_and_is_replaced(strict: Served) -> None:
    wait_until(lambda: health(strict.url)["workers"] == 2, "both workers are up")
    victim = strict.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    assert [ask(strict.url) for _ in range(6)] == [200] * 6
    wait_until(lambda: health(strict.url)["workers"] == 2 and victim not in strict.worker_pids(), "it is replaced")
    assert health(strict.url)["status"] == "ok"


def test_a_worker_stopped_while_idle_fails_no_request_and_is_replaced(strict: Served) -> None:
    wait_until(lambda: health(strict.url)["workers"] == 2, "both workers are up")
    victim = strict.worker_pids()[0]
    os.kill(victim, signal.SIGSTOP)
    try:
        assert [ask(strict.url) for _ in range(6)] == [200] * 6
        wait_until(lambda: victim not in strict.worker_pids(), "the stopped worker is killed")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    wait_until(lambda: health(strict.url)["workers"] == 2, "it is replaced")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def test_a_worker_killed_mid_query_is_retried_on_a_fresh_one(strict: Served) -> None:
    """The innocent query whose worker dies under it still gets its (correct) answer."""
    wait_until(lambda: health(strict.url)["workers"] == 2, "both workers are up")
    url = f"{strict.url}/sparql?" + urllib.parse.urlencode({"query": HEAVY})
    outcome: dict[str, tuple[int, bytes]] = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("answer", request(url)))
    thread.start()
    busy: list[int] = []

    def find_busy() -> bool:
        busy[:] = [pid for pid in strict.worker_pids() if _state(pid) == "R"]
        return bool(busy) or "answer" in outcome

    wait_until(find_busy, "a worker runs the query")
    if busy:
        os.kill(busy[0], signal.SIGKILL)
    thread.join(timeout=120)
    status, body = outcome["answer"]
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == str(types_count(strict.url) ** 2)


def types_count(url: str) -> int:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?c }"
    _status, body = request(f"{url}/sparql?" + urllib.parse.urlencode({"query": query}))
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_two_runaways_do_not_starve_other_clients(strict: Served) -> None:
    wait_until(lambda: health(strict.url)["workers"] == 2, "both workers are up")
    url = f"{strict.url}/sparql?" + urllib.parse.urlencode({"query": RUNAWAY})
    answers: list[tuple[int, bytes]] = []
    runaways = [threading.Thread(target=lambda: answers.append(request(url))) for _ in range(2)]
    for thread in runaways:
        thread.start()
    wait_until(lambda: health(strict.url)["idle"] == 0 or len(answers) > 0, "the runaways hold the workers")
    assert [ask(strict.url) for _ in range(5)] == [200] * 5
    for thread in runaways:
        thread.join(timeout=120)
    assert sorted(status for status, _ in answers) == [503, 503]
    assert any(b"busy" in body for _, body in answers)


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--workers", "100000"), ("--workers", "0"), ("--memory-mb", "1"), ("--timeout", "1e9"), ("--port", "1_0")],
)
def test_unbounded_flags_are_refused(flag: str, value: str) -> None:
    done = subprocess.run(
        [*cli_command(), "serve", flag, value], capture_output=True, text=True, timeout=60, env=cli_env()
    )
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert flag in done.stderr
