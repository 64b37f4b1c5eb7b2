"""Shared fixtures. The curated reference tables live beside the repository in
``../shared/reference`` (CI clones the repo with ``shared/`` next to it); AXILLA_KG_REFERENCE
overrides that location. Tests that need them fail, with that explanation, when they are absent."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from axilla_kg.graph import KnowledgeGraph

REPO = Path(__file__).resolve().parent.parent


def reference_dir() -> Path:
    path = Path(os.environ.get("AXILLA_KG_REFERENCE", REPO.parent / "shared" / "reference"))
    if not (path / "acr286_ratings.csv").is_file():
        pytest.fail(f"curated reference tables not found at {path}; set AXILLA_KG_REFERENCE")
    return path


def read_csv(name: str) -> list[dict[str, str]]:
    with (reference_dir() / name).open(encoding="utf-8", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


@pytest.fixture(scope="session")
def kg() -> KnowledgeGraph:
    return KnowledgeGraph.load()


@pytest.fixture(scope="session")
def kg_rdflib() -> KnowledgeGraph:
    return KnowledgeGraph.load(engine="rdflib")


TTL_PREFIXES = "@prefix ax: <https://w3id.org/axilla-kg/vocab#> .\n@prefix axd: <https://w3id.org/axilla-kg/id/> .\n"


def write_ttl(path: Path, body: str) -> Path:
    """A small Turtle fixture with the project's two prefixes declared."""
    path.write_text(TTL_PREFIXES + body, encoding="utf-8")
    return path


def cli_command() -> list[str]:
    """The CLI of this working tree (``python -m axilla_kg`` with the checkout first on the path,
    see :func:`cli_env`), never a stale installed copy."""
    return [sys.executable, "-m", "axilla_kg"]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: this checkout first on ``PYTHONPATH``."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONIOENCODING": "utf-8", **extra}


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env=cli_env(),
    )


def python_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI of this source tree (not the installed one), for error-path tests."""
    code = "import sys; from axilla_kg.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=120)
