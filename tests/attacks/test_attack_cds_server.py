"""Attack corpus (issue 19), CDS Hooks and every route of ``axilla-kg serve``, through real HTTP.

Before: ``/cds-services/*`` had no body deadline (half-sent, endless chunked and ``Content-Length:
99999999999`` bodies stayed open), heads of 20-60 kB were served although the README promises at
most 16 kB, CDS parsing and FHIR validation ran on the event loop (12,000 prefetched Conditions
stalled every route), 5,500 draft orders gave a 25 MB answer, ``prefetch: []`` was accepted, a
10^30 mm tumour was read as a tumour size, ``/topics/286/variants/<5000 digits>`` was a 500, the
``/`` page could be framed, and client disconnects left tracebacks in the server log. One server
process (stderr kept in a file the last test reads), a canary that must see no connection."""

from __future__ import annotations

import copy
import json
import re
import socket
import subprocess
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from canary import canary
from serving_helpers import stop

from conftest import REPO, cli_command, cli_env

SIGN = "/cds-services/axilla-imaging-order-sign"
SEED: dict[str, Any] = json.loads((REPO / "docs" / "cds-hooks-seed-request.json").read_text(encoding="utf-8"))


@dataclass
class Server:
    url: str
    port: int
    log: Path


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """``axilla-kg serve`` with short deadlines, its stderr in a file (the server log)."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        with log.open("w") as errors:
            process = subprocess.Popen(
                [*cli_command(), "serve", "--port", "0", "--header-timeout", "1", "--body-timeout", "1"],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=cli_env(),
            )
            try:
                assert process.stdout is not None
                match = re.search(r"http://127\.0\.0\.1:(\d+)/sparql", process.stdout.readline())
                assert match, log.read_text()
                port = int(match.group(1))
                yield Server(f"http://127.0.0.1:{port}", port, log)
            finally:
                stop(process)


def exchange(server: Server, payload: bytes, limit: float = 60.0) -> bytes:
    """Send raw bytes, read until the server closes the connection (bounded by a socket timeout)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=limit) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def post(server: Server, body: bytes, path: str = SIGN) -> tuple[int, dict[str, Any]]:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
    answer = exchange(server, f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    status = int(answer.split(b" ", 2)[1])
    payload = answer.split(b"\r\n\r\n", 1)[1]
    return status, json.loads(payload) if payload.startswith(b"{") else {"text": payload.decode()}


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def seed(**changes: Any) -> dict[str, Any]:
    request = copy.deepcopy(SEED)
    request.update(changes)
    return request


def conditions(n: int) -> dict[str, Any]:
    entry = SEED["prefetch"]["conditions"]["entry"][0]
    return {"resourceType": "Bundle", "type": "searchset", "entry": [copy.deepcopy(entry) for _ in range(n)]}


# --- heads and bodies on every route ------------------------------------------------------------
ROUTES = ["/health", "/", "/query", "/cds-services", "/topics", "/sparql?query=ASK%7B%7D"]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("size", [20_000, 60_000])
def test_a_head_over_16_kb_is_refused_on_every_route(server: Server, path: str, size: int) -> None:
    """Sent in one piece (h11's own cap only counts a head that arrives in parts)."""
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Pad: {'a' * size}\r\n\r\n".encode()
    answer = exchange(server, head)
    assert status_of(answer) == 431 and b"16384" in answer


def test_a_head_under_16_kb_is_served(server: Server) -> None:
    head = f"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: {'a' * 15_000}\r\nConnection: close\r\n\r\n".encode()
    assert status_of(exchange(server, head)) == 200


def test_a_huge_content_length_is_refused_before_reading(server: Server) -> None:
    head = f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n"
    answer = exchange(server, head.encode())
    assert status_of(answer) == 413 and b"--max-body" in answer


@pytest.mark.parametrize("path", [SIGN, "/sparql", "/health"])
def test_a_half_sent_body_is_answered_and_the_connection_closed(server: Server, path: str) -> None:
    """The body deadline (1 s here) on CDS Hooks and /sparql; a route that does not read its body
    (``/health``) answers and closes, since the rest of the body would be read as the next request."""
    method = "GET" if path == "/health" else "POST"
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    answer = exchange(server, head.encode() + b'{"hook": ')
    if path == "/health":
        assert status_of(answer) == 200 and b"connection: close" in answer.lower()
    else:
        assert status_of(answer) == 408 and b"--body-timeout" in answer


def test_an_endless_chunked_body_is_cut_off(server: Server) -> None:
    """One small chunk every 0.1 s, never the last one: 408 at the body deadline."""
    answered = threading.Event()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        head = (
            f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())

        def trickle() -> None:
            for _ in range(600):  # bounded: at most a minute
                try:
                    sock.sendall(b"1\r\n \r\n")
                except OSError:
                    return
                if answered.wait(0.1):
                    return

        sender = threading.Thread(target=trickle)
        sender.start()
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        answered.set()
        sender.join(timeout=60)
    assert status_of(b"".join(chunks)) == 408


# --- CDS Hooks request and answer caps ----------------------------------------------------------
def test_prefetch_must_be_an_object(server: Server) -> None:
    status, body = post(server, json.dumps(seed(prefetch=[])).encode())
    assert status == 400 and body["element"] == "prefetch" and "array" in body["error"]


def test_too_many_prefetched_resources_are_refused_before_validation(server: Server) -> None:
    request = seed()
    request["prefetch"]["conditions"] = conditions(12_000)
    body = json.dumps(request, separators=(",", ":")).encode()
    if len(body) > 1_048_576:  # then the body cap refuses it first
        request["prefetch"]["conditions"] = conditions(1001)
        body = json.dumps(request).encode()
    status, answer = post(server, body)
    assert status == 400 and answer["element"] == "prefetch.conditions.entry" and "1001" in answer["error"]


def test_too_many_draft_orders_are_refused(server: Server) -> None:
    request = seed()
    order = request["context"]["draftOrders"]["entry"][0]
    request["context"]["draftOrders"]["entry"] = [copy.deepcopy(order) for _ in range(5500)]
    status, answer = post(server, json.dumps(request, separators=(",", ":")).encode())
    # the body cap (413) or the order cap (400), whichever this body meets first; never an answer
    assert status == 413 or (status == 400 and answer["element"] == "context.draftOrders.entry")
    request["context"]["draftOrders"]["entry"] = [copy.deepcopy(order) for _ in range(101)]
    status, answer = post(server, json.dumps(request).encode())
    assert status == 400 and answer["element"] == "context.draftOrders.entry"


def test_the_largest_accepted_order_set_gets_a_bounded_answer(server: Server) -> None:
    request = seed()
    order = request["context"]["draftOrders"]["entry"][0]
    request["context"]["draftOrders"]["entry"] = [copy.deepcopy(order) for _ in range(100)]
    status, answer = post(server, json.dumps(request).encode())
    assert status == 200 and len(answer["cards"]) >= 100
    assert len(json.dumps(answer)) < 2 * 1024 * 1024


@pytest.mark.parametrize("value", [10**30, -(10**30), 1001])
def test_an_implausible_tumour_size_is_refused(server: Server, value: int) -> None:
    request = seed()
    component = request["prefetch"]["observations"]["entry"][0]["resource"]["component"][0]
    component["valueQuantity"]["value"] = value
    status, answer = post(server, json.dumps(request).encode())
    assert status == 400
    assert answer["element"] == "prefetch.observations.entry[0].resource.component[0].valueQuantity.value"


def test_the_seed_request_still_gets_its_card(server: Server) -> None:
    status, answer = post(server, json.dumps(SEED).encode())
    assert status == 200 and answer["cards"]


def test_other_routes_answer_while_cds_calls_work(server: Server) -> None:
    """Sixteen calls with 1,000 prefetched Conditions each (FHIR validation of 16,000 resources);
    /health and a SPARQL query are answered before the last of them is: the calls run in worker
    processes, not on the event loop that serves the other routes."""
    request = seed()
    request["prefetch"]["conditions"] = conditions(1000)
    body = json.dumps(request).encode()
    finished: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        status, _ = post(server, body)
        with lock:
            finished.append(status)

    callers = [threading.Thread(target=call) for _ in range(16)]
    for caller in callers:
        caller.start()
    health = exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    ask = exchange(server, b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with lock:
        done_before = len(finished)
    for caller in callers:
        caller.join(timeout=300)
    assert status_of(health) == 200 and status_of(ask) == 200
    assert done_before < 16
    assert sorted(set(finished)) == [200]


# --- pages ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["", "/workflow.svg"])
def test_a_variant_number_of_5000_digits_is_a_404(server: Server, suffix: str) -> None:
    path = "/topics/286/variants/" + "9" * 5000 + suffix
    answer = exchange(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status_of(answer) == 404


@pytest.mark.parametrize("path", ["/", "/query"])
def test_the_home_and_query_pages_cannot_be_framed(server: Server, path: str) -> None:
    answer = exchange(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert status_of(answer) == 200 and "frame-ancestors 'none'" in head


# --- nothing reaches the network; disconnects are not errors -----------------------------------
def test_urls_in_a_cds_request_are_never_fetched(server: Server) -> None:
    with canary() as bird:
        request = seed(fhirServer=bird.url, fhirAuthorization={"access_token": "t", "token_type": "Bearer"})
        request["prefetch"]["patient"]["photo"] = [{"url": bird.url}]
        request["context"]["draftOrders"]["entry"][0]["resource"]["instantiatesUri"] = [bird.url]
        status, _ = post(server, json.dumps(request).encode())
        assert status in (200, 400)
        assert bird.connections == 0


def _vanish(server: Server, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(payload)


def test_client_disconnects_leave_no_error_in_the_log(server: Server) -> None:
    """Clients that hang up mid-body, mid-answer and mid-query; then the whole log of this module's
    server (every attack above included) holds no traceback and no ERROR line."""
    heavy = json.dumps({**seed(), "prefetch": {**SEED["prefetch"], "conditions": conditions(900)}}).encode()
    for _ in range(5):
        _vanish(server, f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{".encode())
        _vanish(server, f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(heavy)}\r\n\r\n".encode() + heavy)
        _vanish(
            server,
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 50\r\n\r\nASK",
        )
        query = urllib.parse.quote("SELECT * WHERE { ?s ?p ?o }")
        _vanish(server, f"GET /sparql?query={query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    # the server is still healthy, and has written nothing alarming
    assert status_of(exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
