"""The layering that README's "Architecture" section describes, checked on the source: a module
imports only from its own layer or the layers below it, and never a private (underscore) name of
another module. Read from the code's import statements (ast), so the README cannot drift from it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "axilla_kg"

# lowest first; a top-level module or subpackage of axilla_kg belongs to exactly one layer
LAYERS: list[set[str]] = [
    {"errors", "resources", "vocab", "inputs", "sandbox"},  # foundation: exceptions, files, prefixes, safe input
    {"graph", "contract"},  # the read side (results, engines, queries, KnowledgeGraph) and the patient-case contract
    {"formats", "reasoning"},  # writers over query results; the OWL reasoner (JVM)
    {"recommend"},  # answers: the compiled classifier, recommendations, batches, audits, dose, front-door views
    {"authoring", "checks", "export", "server", "web", "cdshooks", "spark"},  # tools
    {"cli", "__main__", "__init__"},  # entry points and the package's public facade
]
# known exceptions, each owned by a change in progress (README "Architecture": what remains)
PRIVATE_IMPORT_EXCEPTIONS: set[tuple[str, str, str]] = set()


def _unit(path: Path) -> str:
    """The layer unit of a source file: its top-level module or subpackage name."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _layer(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _imports(path: Path) -> list[tuple[str, str]]:
    """(imported unit, imported name) for every ``axilla_kg`` import in the file."""
    out: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "axilla_kg":
            parts = node.module.split(".")
            for alias in node.names:
                if len(parts) > 1:
                    out.append((parts[1], alias.name))
                elif alias.name != "__version__":  # the version is data every layer may cite
                    sub = (PACKAGE / alias.name).is_dir() or (PACKAGE / f"{alias.name}.py").is_file()
                    out.append((alias.name if sub else "__init__", alias.name))
        elif isinstance(node, ast.Import):
            out += [(a.name.split(".")[1], "") for a in node.names if a.name.startswith("axilla_kg.")]
    return out


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_resources" not in p.parts)


def test_every_module_has_a_layer() -> None:
    units = {_unit(p) for p in _sources()}
    assert units <= set().union(*LAYERS), units - set().union(*LAYERS)


def test_no_module_imports_from_a_higher_layer() -> None:
    upward = []
    for path in _sources():
        unit = _unit(path)
        for target, _name in _imports(path):
            if target != unit and _layer(target) > _layer(unit):
                upward.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert upward == []


def test_no_module_imports_a_private_name_of_another() -> None:
    private = []
    for path in _sources():
        unit = _unit(path)
        for target, name in _imports(path):
            if name.startswith("_") and target != unit and (unit, target, name) not in PRIVATE_IMPORT_EXCEPTIONS:
                private.append(f"{path.relative_to(PACKAGE)} imports {target}.{name}")
    assert private == []


def test_the_iri_bases_we_mint_are_written_only_in_vocab() -> None:
    """One home per fact: ``vocab.py`` spells every base under ``https://w3id.org/axilla-kg/``."""
    elsewhere = [
        str(path.relative_to(PACKAGE))
        for path in _sources()
        if path.name != "vocab.py" and "w3id.org/axilla-kg" in path.read_text(encoding="utf-8")
    ]
    assert elsewhere == []


def test_exporters_do_not_import_the_authoring_tools() -> None:
    """``export`` reads vocabulary from ``vocab``, not from the CSV generator (``authoring``)."""
    leaks = [
        f"{path.relative_to(PACKAGE)} imports {target}"
        for path in _sources()
        if _unit(path) == "export"
        for target, _name in _imports(path)
        if target == "authoring"
    ]
    assert leaks == []
