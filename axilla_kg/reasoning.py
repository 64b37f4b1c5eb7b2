"""The OWL reasoner (HermiT or Pellet through owlready2): the reference semantics of the graph.

owlready2 reads RDF/XML, OWL/XML and N-Triples but not Turtle, so the graph is handed to it as
one N-Triples file written by Oxigraph. The reasoner runs in a JVM started by owlready2; Java
must be on PATH (``.ci/run`` installs a JRE when it is missing).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from axilla_kg import engines
from axilla_kg.errors import AxillaKGError
from axilla_kg.resources import ontology_files

REASONERS = ("hermit", "pellet")


class ReasonerUnavailable(AxillaKGError):
    """No Java runtime to run the reasoner."""


@dataclass
class ReasonerReport:
    reasoner: str
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    triples: int = 0


def merged_ntriples(paths: Sequence[Path], target: Path) -> int:
    """Write the union of ``paths`` as one N-Triples file; returns the triple count."""
    import pyoxigraph

    engine = engines.OxigraphEngine()
    engines.load_all(engine, paths)
    store = engine.store
    with target.open("wb") as handle:
        triples = (quad.triple for quad in store.quads_for_pattern(None, None, None))
        pyoxigraph.serialize(triples, handle, format=pyoxigraph.RdfFormat.N_TRIPLES)
    return len(engine)


def java_available() -> bool:
    return shutil.which("java") is not None


def run_reasoner(extra: Sequence[str | Path] = (), reasoner: str = "hermit") -> ReasonerReport:
    """Load the shipped graph (plus ``extra`` files) into owlready2 and classify it."""
    if reasoner not in REASONERS:
        raise AxillaKGError(f"unknown reasoner '{reasoner}' (expected one of {', '.join(REASONERS)})")
    if not java_available():
        raise ReasonerUnavailable(
            "the OWL reasoner needs Java: install a JRE (e.g. apt-get install default-jre-headless)"
        )
    import owlready2

    paths = list(ontology_files()) + [Path(p) for p in extra]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="axilla-kg-") as tmp:
        nt = Path(tmp) / "graph.nt"
        triples = merged_ntriples(paths, nt)
        world = owlready2.World()
        onto = world.get_ontology(nt.as_uri()).load(format="ntriples")
        try:
            with onto:
                if reasoner == "hermit":
                    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
                else:
                    owlready2.sync_reasoner_pellet(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return ReasonerReport(reasoner, False, [], _first_line(str(exc)), time.perf_counter() - started, triples)
        unsat = sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
        world.close()
    return ReasonerReport(reasoner, True, unsat, "", time.perf_counter() - started, triples)


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "inconsistent ontology"
