"""Hostile search text against the pages' full-text index (``axilla_kg.web.search``).

The search box is the one free-text input of the lookup pages. Its text must never become FTS5
syntax (column filters, NEAR, boolean operators, unbalanced quotes, ``*`` or ``^``), never make
SQLite raise, and never reach the page unescaped; only its length is refused.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend.lookup import Lookup
from axilla_kg.web.search import MAX_QUERY_CHARS, SearchError, SearchIndex, fts_expression


@pytest.fixture(scope="module")
def index(kg: KnowledgeGraph) -> SearchIndex:
    return SearchIndex(Lookup.load(kg))


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"pet',
        "pet OR mri",
        "pet NOT mri",
        "NEAR(pet mri, 2)",
        "kind:topic",  # a column filter, if it were syntax
        "text:pet",
        "{text extra}:pet",
        "^pet",
        "pet*",
        "*",
        "(",
        ")",
        "pet AND",
        "\x00pet",
        "pet\u202e",
        "'; DROP TABLE docs; --",
    ],
)
def test_fts_syntax_in_the_search_box_is_only_words(index: SearchIndex, text: str) -> None:
    results = index.search(text)  # never an sqlite3.OperationalError
    expression = fts_expression(text)
    if expression is not None:
        # every term is a quoted word: no operator, column filter or bare '*' survives
        for term in expression.split(" "):
            assert term.startswith('"') and term.endswith('"*') and term[1:-2].isalnum()
    if text == "kind:topic":
        # "kind" is an UNINDEXED column: as a filter it would list every topic; as words it finds
        # only rows containing both words
        assert not results.topics


def test_or_is_a_word_not_an_operator(index: SearchIndex) -> None:
    either = {(v.topic, v.variant) for v in index.search("pet OR lymphoma").variants}
    pet = {(v.topic, v.variant) for v in index.search("pet").variants}
    assert pet and not pet <= either  # OR as an operator would return every PET variant


def test_search_text_length_is_capped(index: SearchIndex) -> None:
    index.search("a" * MAX_QUERY_CHARS)
    with pytest.raises(SearchError, match=r"^q: more than 200 characters$"):
        index.search("a" * (MAX_QUERY_CHARS + 1))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=MAX_QUERY_CHARS))
def test_any_text_is_searched_or_refused_by_length_only(index: SearchIndex, text: str) -> None:
    results = index.search(text)
    for v in results.variants:
        for hit in v.hits:
            assert "\ue000" not in "".join(part for part, _ in hit.segments)  # markers never leak
