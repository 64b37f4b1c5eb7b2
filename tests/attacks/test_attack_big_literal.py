"""Attack corpus (issue 19): a Turtle literal over 16 MiB (pyoxigraph's limit for one term) in
``--data`` is one line and exit 2 from ``sparql`` and ``serve``; before, a MemoryError traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import cli_command, cli_env


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.ttl"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<urn:a> <urn:b> "')
        for _ in range(17):
            handle.write("x" * (1024 * 1024))
        handle.write('" .\n')
    return path


@pytest.mark.parametrize("command", [["sparql", "ASK {}"], ["serve", "--port", "0"]])
def test_a_literal_over_16_mib_is_one_line(big: Path, command: list[str]) -> None:
    done = subprocess.run(
        [*cli_command(), command[0], "--data", str(big), *command[1:]],
        capture_output=True,
        text=True,
        timeout=300,
        env=cli_env(),
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert str(big) in done.stderr and "16 MiB" in done.stderr
