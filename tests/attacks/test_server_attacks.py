"""Attacks on ``axilla-kg serve`` through real HTTP: the reproducers of issue 11 against one server
process, with a canary listener that must see zero connections."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from canary import Canary, canary
from serving_helpers import axilla_server


@pytest.fixture(scope="module")
def bird() -> Iterator[Canary]:
    with canary() as listener:
        yield listener


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with axilla_server("--workers", "2") as url:
        yield url


def request(url: str, body: bytes | None = None, content_type: str | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": content_type} if content_type else {}
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
