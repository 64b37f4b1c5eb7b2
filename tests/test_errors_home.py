"""Exceptions live in ``axilla_kg/errors.py``, and modules depend on each other through plain
imports only: what ``tests/test_architecture.py`` reads from the import statements is every
dependency there is.

The exception test reads the code (ast), so a class is found whether or not anything imports it:
a class whose bases name an exception (a builtin one, or one defined in ``errors.py``) must be
defined in ``errors.py``. Old homes may re-export the name (``from axilla_kg.errors import X as X``),
so existing imports keep working."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import axilla_kg.errors as errors

PACKAGE = Path(__file__).resolve().parent.parent / "axilla_kg"
ERRORS = PACKAGE / "errors.py"


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_resources" not in p.parts)


def _exception_names() -> set[str]:
    builtin = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    ours = {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, BaseException)}
    return builtin | ours


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _exception_classes(tree: ast.AST, exceptions: set[str]) -> list[str]:
    """The public classes defined in ``tree`` whose bases name one of ``exceptions`` (a private,
    underscore-named one is a module's own control flow, never raised to a caller)."""
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and not node.name.startswith("_")
        and any(_base_name(b) in exceptions for b in node.bases)
    ]


def test_every_exception_class_is_defined_in_errors_py() -> None:
    exceptions = _exception_names()
    elsewhere = []
    for path in _sources():
        if path != ERRORS:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            elsewhere += [f"{path.relative_to(PACKAGE)}: {name}" for name in _exception_classes(tree, exceptions)]
    assert elsewhere == [], "move these to axilla_kg/errors.py (re-export them from the old module)"


def test_the_check_sees_a_misplaced_exception() -> None:
    """The scan above would find an exception class defined outside errors.py."""
    tree = ast.parse("class Oops(DataError):\n    pass\nclass Fine:\n    pass\nclass _Own(Exception):\n    pass\n")
    assert _exception_classes(tree, _exception_names()) == ["Oops"]


def test_moved_exceptions_are_still_importable_from_their_old_modules() -> None:
    from axilla_kg.contract.cases import CaseError
    from axilla_kg.graph.sparql_text import QueryRefused, QueryTooLarge
    from axilla_kg.reasoning.reasoner import InconsistentGraphError, ReasonerUnavailable
    from axilla_kg.sandbox import SandboxUnavailable
    from axilla_kg.server.protocol import HTTPError

    assert (CaseError, QueryRefused, QueryTooLarge, HTTPError) == (
        errors.CaseError,
        errors.QueryRefused,
        errors.QueryTooLarge,
        errors.HTTPError,
    )
    assert (InconsistentGraphError, ReasonerUnavailable, SandboxUnavailable) == (
        errors.InconsistentGraphError,
        errors.ReasonerUnavailable,
        errors.SandboxUnavailable,
    )


def test_no_module_is_imported_behind_the_layer_tests_back() -> None:
    """``importlib.import_module`` or ``__import__`` would hide a dependency from the import statements."""
    hidden = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _base_name(node.func) in ("import_module", "__import__"):
                hidden.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert hidden == []


def test_the_server_does_not_import_the_front_door() -> None:
    """The front door (web) uses the server's page and configuration; the server must not import it
    back (a cycle). The CLI assembles the two."""
    imports = []
    for path in sorted((PACKAGE / "server").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imports.append(node.module)
            elif isinstance(node, ast.Import):
                imports += [a.name for a in node.names]
    assert not [m for m in imports if m.startswith(("axilla_kg.web", "axilla_kg.cdshooks"))]
