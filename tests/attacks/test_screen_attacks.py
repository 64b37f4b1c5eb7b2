"""Attacks on the query screen: the reproducers of issue 11 and property-based fuzzing against the
engine's own parser, with a canary listener that must see zero connections.

The corpus is live: each reproducer, given to Oxigraph directly (this test process has no network
barrier), does reach the canary; the screen must refuse every one of them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from canary import Canary, canary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.graph.sparql_text import MAX_DEPTH, QueryRefused, QueryRejected, QueryTooLarge, screen


@pytest.fixture(scope="module")
def bird() -> Iterator[Canary]:
    with canary() as listener:
        yield listener


def _oxigraph_reaches(bird: Canary, text: str) -> bool:
    """Evaluate ``text`` with Oxigraph, unscreened and unsandboxed; did it connect to the canary?"""
    before = bird.connections
    try:
        answer = ox.Store().query(text)
        if not isinstance(answer, ox.QueryBoolean):
            list(answer)
    except (SyntaxError, OSError, ValueError, RuntimeError):
        pass
    return bird.connections > before


# {url} is the canary; each text makes Oxigraph send a request there (checked below)
LIVE = [
    "SELECT * WHERE {{ ?s ?p 1.e5SERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ ?s ?p 1.e5SERVICE <{url}> {{ }} }}",
    "ASK {{ ?s ?p 1.e5SERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ ?s ?p 1SERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ ?s ?p 1.5SERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ ?s ?p .5e1SERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ ?s ?p trueSERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ ?s ?p falseSERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ SERVICESILENT<{url}>{{}} }}",
    "SELECT * WHERE {{ ?s ?p 'x'SERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ ?s ?p <urn:x>SERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ ?s ?p ?o#x\nSERVICE SILENT <{url}> {{ }} }}",
    "SELECT * WHERE {{ sErViCe SILENT <{url}> {{ }} }}",
]


@pytest.mark.parametrize("template", LIVE)
def test_live_reproducers_are_refused(bird: Canary, template: str) -> None:
    text = template.format(url=bird.url)
    assert _oxigraph_reaches(bird, text), "the reproducer no longer reaches the canary: it tests nothing"
    with pytest.raises(QueryRefused):
        screen(text)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { \\u0053ERVICE SILENT <http://h/> { } }",
        "SELECT * WHERE { SERVIC\\U00000045 <http://h/> { } }",
        "SELECT * WHERE { BIND(<http://h/> AS ?u) FILTER(?a<?b)SERVICE SILENT?u#>\n{} }",
    ],
)
def test_texts_another_parser_could_read_as_service_are_refused(text: str) -> None:
    """Oxigraph does not decode codepoint escapes outside strings and IRIs, but the grammar allows a
    parser to decode them first (section 19.2); and '<?b)SERVICE SILENT?u#>' is an IRI to a tokenizer
    but a less-than, a bracket and SERVICE to a parser inside an expression. Both are refused."""
    with pytest.raises(QueryRefused):
        screen(text)


def test_screen_is_linear_on_the_quadratic_reproducer() -> None:
    """128 kB of 'a.' after a comment took minutes with the old tokenizer; in a child process with a
    generous bound, so a regression fails instead of hanging the suite."""
    code = (
        "from axilla_kg.graph.sparql_text import QueryRefused, screen\n"
        "for text in ['#x\\n' + 'a.' * 65000, 'ex:a.' * 26000, '_:a.' * 32000, '<a' * 65000, '?a?' * 43000]:\n"
        "    try:\n"
        "        screen(text)\n"
        "    except QueryRefused:\n"
        "        pass\n"
        "print('done')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "done", done.stderr


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("SELECT * WHERE " + "{" * 10_000 + "}" * 10_000, QueryRejected),
        ("SELECT * WHERE { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }", QueryRejected),
        ("SELECT * WHERE { FILTER(" + "+".join(["1"] * 10_000) + ") }", QueryRejected),
        ("SELECT * WHERE { " + " UNION ".join(["{}"] * 10_000) + " }", QueryRejected),
        ("SELECT * WHERE { ?s " + "/".join(["<urn:p>"] * 1_000) + " ?o }", QueryRejected),
        ("SELECT ?x WHERE { BIND(" + "CONCAT(" * 1_000 + '"a"' + ',"b")' * 1_000 + " AS ?x) }", QueryRejected),
        ("SELECT * WHERE { ?s ?p ?o } #" + "x" * 200_000, QueryTooLarge),
        ("SELECT * WHERE { ?s ?p '''never ends }", QueryRejected),
    ],
    ids=["braces", "parens", "plus", "union", "path", "concat", "size", "unterminated"],
)
def test_deep_long_and_broken_queries_are_rejected(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        screen(text)


def test_nesting_within_the_limit_is_accepted_and_evaluates() -> None:
    text = "SELECT * WHERE " + "{" * MAX_DEPTH + "}" * MAX_DEPTH
    assert screen(text).form == "SELECT"
    assert len(list(ox.Store().query(text))) == 1


# --- property-based: the screen against Oxigraph's own parser --------------------------------
_BEFORE = st.sampled_from(
    [
        "1", "1.", "1.e5", "1.5", ".5e1", "1e5", "+1", "-1.0E-3", "true", "false", "'x'", '"x"', "'''x'''",
        '"x"@en', '"x"^^<urn:t>', "<urn:x>", "ex:x", ":x", "ex:x.", "?o", "$o", "_:b", "_:b.", "[]", "()", "}", ")",
        "?o#c\n", "?o #SERVICE\n", ".", ";", ",", "a", "'\\''", '"\\u0022"', "<urn:x#>",
    ]
)  # fmt: skip
_KEYWORD = st.sampled_from(
    [
        "SERVICE", "service", "SeRvIcE", "\\u0053ERVICE", "\\u0073ervice", "SERVIC\\u0045", "\\U00000053ERVICE",
        "SERVICE SILENT", "SERVICESILENT", "SERVICE\tSILENT", "SERVICE#c\nSILENT",
    ]
)  # fmt: skip
_GAP = st.sampled_from(["", " ", "\n", "\t", "#c\n", " . ", ". ", "\r\n"])
_TARGET = st.sampled_from(["<{url}>", " <{url}>", "<{url}>", "?u"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=_BEFORE, gap=_GAP, keyword=_KEYWORD, target=_TARGET, form=st.sampled_from(["SELECT *", "ASK"]))
def test_fuzzed_adjacencies_never_reach_the_canary(
    bird: Canary, before: str, gap: str, keyword: str, target: str, form: str
) -> None:
    """Numbers, literals, names and comments glued to SERVICE in every spelling: whatever the screen
    accepts, Oxigraph (unsandboxed, in this process) must not connect anywhere."""
    text = (
        f"PREFIX ex: <urn:ex:> {form} WHERE {{ BIND(<{bird.url}> AS ?u) ?s ?p {before}{gap}{keyword} "
        + target.format(url=bird.url)
        + " { } }"
    )
    try:
        screen(text)
    except QueryRefused:
        return
    assert not _oxigraph_reaches(bird, text), f"screen accepted a query that reached the canary: {text!r}"


_CHUNKS = st.sampled_from(
    [
        "SERVICE", "SILENT", "<{url}>", "{", "}", "(", ")", "?u", "'", '"', "'''", "#", "\n", " ", "\\u0053", "\\",
        "1.e5", "true", "ex:a", ".", "<", ">", "FILTER", "BIND", "AS", "?a<?b", "OPTIONAL", "a",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(_CHUNKS, min_size=1, max_size=14))
def test_fuzzed_token_soup_never_reaches_the_canary(bird: Canary, chunks: list[str]) -> None:
    """Arbitrary sequences of the pieces that matter (quotes, comments, escapes, brackets, <, >)."""
    body = "".join(chunks).replace("{url}", bird.url)
    text = f"PREFIX ex: <urn:ex:> SELECT * WHERE {{ BIND(<{bird.url}> AS ?u) {body} }}"
    try:
        screen(text)
    except QueryRefused:
        return
    assert not _oxigraph_reaches(bird, text), f"screen accepted a query that reached the canary: {text!r}"
