"""Attacks on ``sparql``/``query`` and the network barrier: one line, exit 2, no traceback, and no
connection to the canary, whatever the engine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from canary import Canary, canary

from conftest import REPO, cli_command, cli_env


@pytest.fixture(scope="module")
def bird() -> Iterator[Canary]:
    with canary() as listener:
        yield listener


def cli(*args: str | bytes, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*cli_command(), *args], input=stdin, capture_output=True, timeout=120, env=cli_env())


def assert_one_line_error(done: subprocess.CompletedProcess[bytes], fragment: str) -> None:
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, err
    assert done.stdout == b""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert fragment in err, err


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_sparql_reproducer_makes_no_request(bird: Canary, engine: str) -> None:
    query = f"SELECT * WHERE {{ ?s ?p 1.e5SERVICE SILENT <{bird.url}> {{ }} }}"
    assert_one_line_error(cli("sparql", query, "--engine", engine), "SERVICE is refused")
    assert_one_line_error(cli("sparql", "-", "--engine", engine, stdin=query.encode()), "SERVICE is refused")
    assert bird.connections == 0


def test_from_named_with_rdflib_is_refused_not_a_crash(bird: Canary) -> None:
    query = f"SELECT * FROM NAMED <{bird.url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert_one_line_error(cli("sparql", query, "--engine", "rdflib"), "FROM / FROM NAMED is refused")
    assert bird.connections == 0


def test_the_barrier_stops_a_service_the_screen_never_saw(bird: Canary) -> None:
    """The second barrier on its own: both engines, given SERVICE directly (no screen), in a process
    that installed it, fail to connect; the same code without it does connect (the check is live)."""
    code = f"""
import sys
import pyoxigraph, rdflib
from axilla_kg.sandbox import forbid_network
if sys.argv[1] == "barrier":
    forbid_network()
query = "SELECT * WHERE {{ SERVICE SILENT <{bird.url}> {{ ?s ?p ?o }} }}"
list(pyoxigraph.Store().query(query))
try:
    list(rdflib.Graph().query(query.replace(" SILENT", "")))
except Exception as exc:
    print(type(exc).__name__)
"""
    before = bird.connections
    done = subprocess.run(
        [sys.executable, "-c", code, "barrier"], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert bird.connections == before
    done = subprocess.run([sys.executable, "-c", code, "open"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert bird.connections > before


def test_a_long_one_line_query_is_text_not_a_file_name() -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # " + "x" * 400
    done = cli("sparql", query, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[0] == "n"


def test_invalid_utf8_in_a_query_argument_file_or_stdin(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = b'SELECT * WHERE { ?s ?p "\xff" }'
    assert_one_line_error(cli("sparql", bad), "not valid UTF-8")
    assert_one_line_error(cli("sparql", "-", stdin=bad), "not valid UTF-8")
    path = tmp_path / "bad.rq"
    path.write_bytes(b"SELECT *\nWHERE { ?s ?p '\xfe' }")
    done = cli("sparql", str(path))
    assert_one_line_error(done, "line 2")


def test_repeated_and_huge_params() -> None:
    done = cli("query", "appropriate-studies", "--param", "variant=4", "--param", "variant=5")
    assert_one_line_error(done, "'variant' given more than once")
    assert_one_line_error(cli("query", "appropriate-studies", "--param", "variant=" + "9" * 5000), "too long")
    assert_one_line_error(cli("query", "appropriate-studies", "--param", "variant=" + "9" * 40), "whole number")
    assert_one_line_error(cli("query", "appropriate-studies", "--param", "variant=٤"), "whole number")


def test_deep_nesting_is_one_line_not_a_crash() -> None:
    assert_one_line_error(cli("sparql", "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000), "nested more than")
