"""Shared fixtures. The curated reference tables live beside the repository in
``../shared/reference`` (CI clones the repo with ``shared/`` next to it); AXILLA_KG_REFERENCE
overrides that location. Tests that need them fail, with that explanation, when they are absent."""

from __future__ import annotations

import csv
import os
import shutil
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
    """The installed console script: the tests exercise what `pip install .` put on PATH."""
    exe = shutil.which("axilla-kg")
    if exe is None:
        pytest.fail("the axilla-kg console script is not installed; run `pip install .` first")
    return [exe]


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def python_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI of this source tree (not the installed one), for error-path tests."""
    code = "import sys; from axilla_kg.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=120)
