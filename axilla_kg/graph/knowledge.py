"""Loading the knowledge graph and asking it questions: the library's entry point.

``KnowledgeGraph.load()`` reads the shipped Turtle files (plus any extra data a user passes)
into a SPARQL engine; everything else in the library, and the CLI, goes through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from axilla_kg.graph import engines
from axilla_kg.graph.engines import Engine
from axilla_kg.graph.queries import NamedQuery, QueryLibrary
from axilla_kg.graph.results import QueryResult
from axilla_kg.graph.sparql_text import screen
from axilla_kg.inputs.rdfscreen import screen_rdf_file
from axilla_kg.resources import ontology_files


class KnowledgeGraph:
    """The ACR axilla knowledge graph, loaded into one SPARQL engine."""

    def __init__(self, engine: Engine, files: Sequence[Path], library: QueryLibrary | None = None) -> None:
        self.engine = engine
        self.files = list(files)
        self._library = library

    @property
    def library(self) -> QueryLibrary:
        """The named queries of ``queries/*.rq``, read when first asked for (``recommend`` and
        ``show`` read through the internal ones only, and need not parse these)."""
        if self._library is None:
            self._library = QueryLibrary.load()
        return self._library

    @classmethod
    def load(
        cls,
        extra: Sequence[str | Path] = (),
        *,
        engine: str = engines.DEFAULT,
        include_shipped: bool = True,
        include_inferred: bool = True,
    ) -> KnowledgeGraph:
        """Load the shipped graph, plus ``extra`` RDF files (Turtle, N-Triples, RDF/XML, TriG...).

        ``include_inferred=False`` leaves out the reasoner-derived triples of ``ontology/inferred/``.
        """
        paths = list(ontology_files(include_inferred=include_inferred)) if include_shipped else []
        for item in extra:
            path = Path(item)
            screen_rdf_file(path)  # exists, is a regular file under the size cap, no XML entities
            paths.append(path)
        backend = engines.create(engine)
        engines.load_all(backend, paths)
        return cls(backend, paths)

    def __len__(self) -> int:
        return len(self.engine)

    # --- queries -------------------------------------------------------------------------------
    def named_queries(self) -> list[NamedQuery]:
        return list(self.library)

    def query(self, name: str, /, **params: Any) -> QueryResult:
        """Run a named query from ``queries/``; keyword arguments are its parameters."""
        named = self.library.get(name)
        return self.engine.query(named.text, named.bindings(params))

    def read(self, name: str, /, **params: Any) -> QueryResult:
        """Run one of the library's internal queries (``queries/internal/``): see :mod:`axilla_kg.graph.reads`."""
        from axilla_kg.graph.reads import read

        return read(self.engine, name, **params)

    def sparql(self, text: str) -> QueryResult:
        """Run any SELECT, ASK, CONSTRUCT or DESCRIBE query. The one screen every query passes
        (:func:`~axilla_kg.graph.sparql_text.screen`) refuses updates, ``SERVICE`` and ``FROM``
        before any engine, local or remote, sees the text."""
        screen(text)
        return self.engine.query(text)

    def records(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
        """A named SELECT query's rows as plain dicts."""
        return self.query(name, **params).records()
