"""Without the curated reference tables the suite still runs: the tests that need the tables
fail, each with the explanation, and every other test runs (a failure while collecting would
abort the whole run and hide every other result)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO, cli_env


def test_missing_reference_fails_the_tests_that_need_it_and_runs_the_rest(tmp_path: Path) -> None:
    empty = tmp_path / "no-reference"
    empty.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_reference_roundtrip.py::test_show_json_returns_every_reference_row",
            "tests/test_sparql_text.py",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=cli_env(AXILLA_KG_REFERENCE=str(empty)),
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # 1: tests failed; 2 would be an interrupted collection
    assert "error during collection" not in output and "errors during collection" not in output
    assert f"curated reference tables not found at {empty}" in output
    assert "1 failed" in output and " passed" in output
