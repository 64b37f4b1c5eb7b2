"""Everything a check stage may need, loaded once and shared by all stages.

Stages read the graph in the form that suits them: the Oxigraph-backed ``KnowledgeGraph`` for
SPARQL rules, an rdflib graph for pySHACL, one N-Triples file for the OWL reasoner. Each form is
built on first use and cached, so a run that skips a stage does not pay for its input.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axilla_kg.checks.findings import Finding
from axilla_kg.checks.untrusted import without_imports
from axilla_kg.errors import UsageError
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.reads import texts
from axilla_kg.reasoning.reasoner import REASONERS


@dataclass
class CheckContext:
    """The graph under check (shipped files plus ``--data`` files) and the chosen reasoner."""

    kg: KnowledgeGraph
    reasoner: str = "hermit"
    _rdflib: Any = None
    _ntriples: Path | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _labels: dict[str, str] | None = None
    extra: list[Path] = field(default_factory=list)
    #: findings about the inputs themselves (``owl:imports`` taken out, see ``checks.untrusted``)
    input_findings: list[Finding] = field(default_factory=list)
    _inputs: tempfile.TemporaryDirectory[str] | None = None
    #: stages may run in threads (``check --jobs``): each cached form is built once, under this lock
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def load(
        cls, extra: Sequence[str | Path] = (), *, reasoner: str = "hermit", include_shipped: bool = True
    ) -> CheckContext:
        """Load and parse every input first: a bad ``--data`` file fails here (file and line named),
        before any stage has run or printed anything. No stage ever sees a user file: each is
        copied as N-Triples without its ``owl:imports`` (:mod:`axilla_kg.checks.untrusted`)."""
        if reasoner not in REASONERS:
            raise UsageError(f"unknown reasoner '{reasoner}' (expected one of {', '.join(REASONERS)})")
        inputs = tempfile.TemporaryDirectory(prefix="axilla-kg-inputs-")
        try:
            copies, notes = without_imports([Path(p) for p in extra], Path(inputs.name))
            kg = KnowledgeGraph.load(copies, include_shipped=include_shipped)
        except BaseException:
            inputs.cleanup()
            raise
        return cls(kg=kg, reasoner=reasoner, extra=copies, input_findings=notes, _inputs=inputs)

    @property
    def files(self) -> list[Path]:
        return list(self.kg.files)

    def rdflib_graph(self) -> Any:
        """The union of the input files as one rdflib Graph (what pySHACL validates)."""
        with self._lock:
            return self._rdflib_graph()

    def _rdflib_graph(self) -> Any:
        if self._rdflib is None:
            from axilla_kg.graph import engines

            backend = engines.RdflibEngine()
            engines.load_all(backend, self.files)
            self._rdflib = backend.graph
        return self._rdflib

    def ntriples(self) -> Path:
        """The union of the input files as one N-Triples file (owlready2 does not read Turtle)."""
        with self._lock:
            return self._ntriples_file()

    def _ntriples_file(self) -> Path:
        if self._ntriples is None:
            from axilla_kg.reasoning.reasoner import merged_ntriples

            self._tmp = tempfile.TemporaryDirectory(prefix="axilla-kg-check-")
            self._ntriples = Path(self._tmp.name) / "graph.nt"
            merged_ntriples(self.files, self._ntriples)
        return self._ntriples

    def label(self, iri: str) -> str:
        """The rdfs:label of an IRI ('' when it has none), for findings people can read."""
        with self._lock:
            if self._labels is None:
                rows = self.kg.read("labels")
                self._labels = {str(r[0]): str(r[1]) for r in texts(rows) if r[0] is not None and r[1] is not None}
        return self._labels.get(iri, "")

    def entity(self, iri: str) -> tuple[str, str]:
        return (iri, self.label(iri))

    def close(self) -> None:
        if self._inputs is not None:
            self._inputs.cleanup()
            self._inputs = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self._ntriples = None
