"""Slow and oversized request heads against both ways of starting a server, through real sockets.

Issue 22 replaced the uvicorn ``H11Protocol`` subclass that enforced the request-head deadline with
public parts (:mod:`axilla_kg.server.listener`): these are the behaviours the old subclass gave and
the new listener must keep — a head sent one byte at a time (slowloris) gets 408 and a closed
connection, also on a kept-alive connection after a first answer; a slow *body* is not cut by the
head deadline; keep-alive still serves several requests. Before issue 22, ``python -m axilla_kg.web``
ran without the request limits (a 20 kB head, a ``Content-Length: 99999999999`` and a silent
connection were all kept): it now runs the same listener and middleware as ``axilla-kg serve``,
so every test here runs against both. The last tests stop each server with SIGTERM and read its
whole stderr: a clean exit, no "leaked semaphore" warning from the CDS Hooks worker pool.
"""

from __future__ import annotations

import http.client
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from serving_helpers import stop

from conftest import REPO, cli_command, cli_env

DEADLINES = ["--header-timeout", "1", "--body-timeout", "5"]
SIGN = "/cds-services/axilla-imaging-order-sign"


@dataclass
class Running:
    name: str
    port: int
    process: subprocess.Popen[str]


def _start(kind: str) -> subprocess.Popen[str]:
    if kind == "serve":
        command = [*cli_command(), "serve", "--port", "0", "--workers", "1", *DEADLINES]
    else:
        command = [sys.executable, "-m", "axilla_kg.web", "--port", "0", *DEADLINES]
    # stderr is a pipe: the SIGTERM tests read all of it (a few lines; nothing else writes there)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())


def _port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    line = process.stdout.readline()  # each runner prints its URL once it listens
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        stop(process)
        pytest.fail(f"the server did not start: {line!r} {process.stderr.read() if process.stderr else ''}")
    return int(match.group(1))


@pytest.fixture(scope="module", params=["serve", "web"])
def server(request: pytest.FixtureRequest) -> Iterator[Running]:
    process = _start(request.param)
    try:
        yield Running(request.param, _port(process), process)
    finally:
        stop(process)


def _read_to_close(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def _trickle(sock: socket.socket, data: bytes, every: float, stop_when: threading.Event) -> None:
    """Send ``data`` one byte each ``every`` seconds until it is sent, the socket fails or ``stop_when``."""
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return
        if stop_when.wait(every):
            return


def _trickled_exchange(sock: socket.socket, data: bytes, every: float) -> tuple[bytes, bool]:
    """Trickle ``data`` while reading until the server closes; (its answer, whether all was sent first)."""
    answered = threading.Event()
    sent_all = threading.Event()

    def send() -> None:
        _trickle(sock, data, every, answered)
        if not answered.is_set():
            sent_all.set()

    sender = threading.Thread(target=send)
    sender.start()
    answer = _read_to_close(sock)
    finished_first = sent_all.is_set()
    answered.set()
    sender.join(timeout=60)
    return answer, finished_first


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


# a head that takes 12 s at one byte per 0.05 s: far past the 1 s deadline
SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"


def test_a_head_sent_one_byte_at_a_time_gets_408(server: Running) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        answer, finished_first = _trickled_exchange(sock, SLOW_HEAD, 0.05)
    assert status_of(answer) == 408 and b"not received within 1 s" in answer
    assert not finished_first  # closed while the head was still arriving


def test_a_later_head_on_a_kept_alive_connection_has_the_deadline_too(server: Running) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("GET", "/health")
        first = connection.getresponse()
        assert first.status == 200 and not first.will_close
        first.read()
        assert connection.sock is not None
        answer, finished_first = _trickled_exchange(connection.sock, SLOW_HEAD, 0.05)
    finally:
        connection.close()
    assert status_of(answer) == 408 and not finished_first


def test_a_silent_connection_gets_408(server: Running) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        assert status_of(_read_to_close(sock)) == 408


def test_keep_alive_serves_several_requests_on_one_connection(server: Running) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        for path in ["/health", "/cds-services", "/health"]:
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200 and response.read()
        assert not response.will_close
    finally:
        connection.close()


def test_a_slow_body_is_not_cut_by_the_head_deadline(server: Running) -> None:
    """The head at once, then a 20-byte body over about 2 s: past the 1 s head deadline, within
    the 5 s body deadline; answered, and the connection serves another request."""
    if server.name == "serve":
        path, media_type, body, expected = "/sparql", "application/sparql-query", b"ASK {}" + b" " * 14, 200
    else:  # a CDS Hooks call reads its whole body before it answers (400: not a CDS request)
        path, media_type, body, expected = SIGN, "application/json", b"{}" + b" " * 18, 400
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {media_type}\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head.encode())
        _trickle(sock, body, 0.1, threading.Event())
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = _read_to_close(sock)
    statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]
    assert statuses == [expected, 200], answer[:500]


def test_a_head_over_16_kb_in_one_packet_is_431(server: Running) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20_000 + b"\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head)
        answer = _read_to_close(sock)
    assert status_of(answer) == 431 and b"16384" in answer


def test_a_huge_content_length_is_refused_before_reading(server: Running) -> None:
    head = f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head.encode() + b"{")
        answer = _read_to_close(sock)
    assert status_of(answer) == 413


def test_content_length_must_be_plain_digits(server: Running) -> None:
    head = b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1_0\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head + b"0123456789")
        assert status_of(_read_to_close(sock)) == 400


# --- SIGTERM: a clean stop ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["serve", "web"])
def test_sigterm_stops_the_server_cleanly(kind: str) -> None:
    """After a CDS Hooks call (the worker pool has run), SIGTERM: exit 0, and the whole stderr
    (read to its end, which comes when every process holding it, the multiprocessing resource
    tracker included, has exited) holds no traceback and no leaked-resource warning."""
    seed = (REPO / "docs" / "cds-hooks-seed-request.json").read_bytes()
    process = _start(kind)
    try:
        port = _port(process)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", SIGN, seed, {"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200 and b"cards" in response.read()
        connection.close()
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    finally:
        stop(process)
    assert process.returncode == 0, errors
    assert "leaked" not in errors and "Traceback" not in errors and "Error" not in errors, errors
