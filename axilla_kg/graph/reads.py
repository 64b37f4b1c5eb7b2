"""The read layer's internal queries: how the library's own modules read the knowledge graph.

Content is read one way: through named SPARQL queries. The user-facing ones are ``queries/*.rq``
(``axilla-kg queries`` lists them); the ones the library needs for itself — the recommender's
lookup tables, the feature registry, the checks' and the authoring tools' reads — are
``queries/internal/*.rq``, in the same format (``# title:``, ``# answers:``, typed ``# param``
lines), but not listed to users. A module asks for one by name::

    read(kg.engine, "procedure-names")            # or kg.read("procedure-names")
    read(engine, "variant-classes-of-topic", topic="286")

Parameters are bound by the engine (substitutions / initial bindings), never pasted into the text.
A query file is read the first time it is asked for and kept, so a command pays only for the
queries it runs. ``tests/test_read_layer.py`` checks that no module outside ``axilla_kg/graph``
holds SPARQL text or walks an RDF graph's triples itself.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from axilla_kg.errors import UnknownQueryError
from axilla_kg.graph.engines import Engine, OxigraphEngine
from axilla_kg.graph.queries import NamedQuery, parse_query_file
from axilla_kg.graph.results import QueryResult, lexical, python_value
from axilla_kg.resources import queries_dir

INTERNAL = "internal"  # the subfolder of ``queries/`` holding the library's own queries


_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@cache
def _folder() -> Path:
    return queries_dir() / INTERNAL


@cache
def internal_query(name: str) -> NamedQuery:
    """The internal named query ``queries/internal/<name>.rq`` (read once per process, on first use:
    a command pays for the few files it runs, with no directory scan)."""
    if not _NAME.fullmatch(name):
        raise UnknownQueryError(f"unknown internal query '{name[:60]}'")
    try:
        return parse_query_file(_folder() / f"{name}.rq")
    except FileNotFoundError:
        raise UnknownQueryError(f"unknown internal query '{name}'") from None


def internal_names() -> list[str]:
    """Every internal query's name, sorted (what the read layer's tests run)."""
    return sorted(p.stem for p in _folder().glob("*.rq"))


def read(engine: Engine, name: str, /, **params: Any) -> QueryResult:
    """Run the internal query ``name`` on ``engine``; keyword arguments are its parameters."""
    named = internal_query(name)
    return engine.query(named.text, named.bindings(params))


def read_store(store: Any, name: str, /, **params: Any) -> QueryResult:
    """Run the internal query ``name`` on a bare ``pyoxigraph.Store``."""
    return read(OxigraphEngine.over(store), name, **params)


def values(result: QueryResult) -> list[tuple[Any, ...]]:
    """SELECT rows as tuples of plain Python values (str, int, Decimal, bool; None when unbound)."""
    return [tuple(python_value(cell) for cell in row) for row in result.rows]


def texts(result: QueryResult) -> list[tuple[str | None, ...]]:
    """SELECT rows as tuples of lexical strings (an IRI's text, a literal's lexical form; None when unbound)."""
    return [tuple(lexical(cell) for cell in row) for row in result.rows]
