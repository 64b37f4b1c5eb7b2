"""Where the ontology and the named queries live.

In an installed wheel they travel inside the package (``axilla_kg/_resources``); in a source
checkout they are the top-level ``ontology/`` and ``queries/`` folders. Looking in both keeps
``pip install .`` and an editable/development checkout working from any directory.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    bundled = _PACKAGE_DIR / "_resources" / name
    if bundled.is_dir():
        return bundled
    checkout = _PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"axilla-kg installation is missing its '{name}' folder")


def ontology_dir() -> Path:
    """Folder holding the Turtle files of the shipped graph."""
    return _find("ontology")


def queries_dir() -> Path:
    """Folder holding the named ``.rq`` queries."""
    return _find("queries")


def ontology_files(*, include_inferred: bool = True) -> list[Path]:
    """The Turtle files that make up the shipped graph, in a stable order.

    ``ontology/inferred/`` holds reasoner-derived triples (written by ``axilla_kg.authoring.derive`` and
    checked against the reasoner by the tests); exports leave them out unless asked, so a
    consumer can tell asserted guideline content from what this tool concluded.
    """
    root = ontology_dir()
    files = sorted(root.glob("*.ttl")) + sorted((root / "generated").glob("*.ttl"))
    if include_inferred:
        files += sorted((root / "inferred").glob("*.ttl"))
    return [f for f in files if not f.name.endswith(".shapes.ttl")]
