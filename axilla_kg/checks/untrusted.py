"""The boundary where ``check`` reads the files a user passes: imports are never followed.

Why: every reasoner and parser behind ``check`` has its own way of reading *other* documents than
the one it is given. The OWL API (profile stage) and owlready2/HermiT (logic and definitions
stages) resolve ``owl:imports`` by fetching the IRI — ``http://`` reaches any host, ``file:///``
reads any local file, and the OWL API's messages then quote that file's lines. rdflib (pySHACL)
would fetch remote JSON-LD contexts, and XML parsers know external entities and XInclude. Rather
than switching each mechanism off in each library (and in the next library someone adds), no
stage is ever handed a user file: each ``--data`` file is parsed once here by pyoxigraph, which
has no import, include or remote-context mechanism at all (RDF/XML DOCTYPEs and entities are
refused before it, :mod:`axilla_kg.inputs.rdfscreen`), its ``owl:imports`` statements are taken
out, and the stages read the result, a plain N-Triples copy. N-Triples has no syntax that refers
to another document, so whatever a stage does with it, it reads nothing else.

Each ``owl:imports`` taken out becomes a WARN finding (rule ``input-import-ignored``) naming the
file and the imported IRI, so the user knows the imported ontology was not checked and can pass
it with ``--data`` instead. The second barrier is :mod:`axilla_kg.sandbox`: ``check`` runs with
outbound sockets forbidden, inherited by the JVM stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from axilla_kg.checks.findings import Finding, Level
from axilla_kg.graph import engines

OWL_IMPORTS = "http://www.w3.org/2002/07/owl#imports"
RULE = "input-import-ignored"
STAGE = "inputs"
_SHOWN = 200  # characters of an imported IRI quoted in a finding


def _shown(iri: str) -> str:
    return iri if len(iri) <= _SHOWN else iri[: _SHOWN - 1] + "…"


def without_imports(paths: Sequence[Path], target: Path) -> tuple[list[Path], list[Finding]]:
    """Copies of ``paths`` in ``target`` as N-Triples without ``owl:imports``, and one finding per
    import removed. A file that does not parse raises :class:`axilla_kg.errors.DataError` naming the
    original file and line (the copies are only made from files that parsed)."""
    import pyoxigraph as ox

    copies: list[Path] = []
    findings: list[Finding] = []
    imports = ox.NamedNode(OWL_IMPORTS)
    for number, path in enumerate(paths):
        engine = engines.OxigraphEngine()
        engines.load_all(engine, [path])  # screened: size cap, no DOCTYPE/entities; DataError names the file
        store = engine.store
        for quad in list(store.quads_for_pattern(None, imports, None)):
            store.remove(quad)
            subject, imported = quad.subject, quad.object
            what = f"<{_shown(imported.value)}>" if isinstance(imported, ox.NamedNode) else "a blank node or literal"
            findings.append(
                Finding(
                    RULE,
                    Level.WARN,
                    f"{path}: owl:imports {what} ignored: check never reads an imported ontology "
                    "(pass it with --data to check it)",
                    ((subject.value, ""),) if isinstance(subject, ox.NamedNode) else (),
                    STAGE,
                    source=str(path),
                )
            )
        copy = target / f"{number:04d}-{path.stem}.nt"
        store.dump(str(copy), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        copies.append(copy)
    return copies, findings
