"""Ctrl-C and a wrong ``--output``: what a user at a terminal sees.

Ctrl-C is a real SIGINT sent to a real ``python -m axilla_kg`` process. No sleep decides when: the
command is made to read a named pipe (FIFO) the test holds, and opening a FIFO for writing returns
only once the other side has opened it for reading, so when ``open`` returns the CLI is known to be
inside the command, blocked on that read."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import cli_command, cli_env, python_cli, terminal_sigint

INTERRUPTED = 130


def _interrupt_while_reading(fifo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Start the CLI with ``args`` (one of which is ``fifo``), wait until it opened the FIFO, SIGINT it."""
    os.mkfifo(fifo)
    with terminal_sigint():
        process = subprocess.Popen(
            [*cli_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env()
        )

    def unblock_if_it_ends() -> None:
        """A CLI that ends without opening the FIFO (a usage error) would leave the test's open
        blocked for ever: open the reading side ourselves, so the test fails instead of hanging."""
        process.wait()
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))

    threading.Thread(target=unblock_if_it_ends, daemon=True).start()
    try:
        fd = os.open(fifo, os.O_WRONLY)  # returns when the CLI has opened the FIFO to read it
        try:
            assert process.poll() is None, f"the CLI ended before reading: {process.communicate()}"
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            os.close(fd)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_ctrl_c_while_reading_the_query_is_one_line_and_exit_130(tmp_path: Path) -> None:
    done = _interrupt_while_reading(tmp_path / "query.rq", "sparql", str(tmp_path / "query.rq"))
    assert done.returncode == INTERRUPTED
    assert done.stderr == "axilla-kg: interrupted\n"
    assert done.stdout == ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_ctrl_c_in_batch_mode_after_the_graph_loaded_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """The cases file is opened only after the graph and the recommender are loaded."""
    fifo = tmp_path / "cases.jsonl"
    done = _interrupt_while_reading(fifo, "recommend", "--cases", str(fifo))
    assert done.returncode == INTERRUPTED
    assert done.stderr.splitlines() == ["axilla-kg: interrupted"]
    assert done.stdout == ""


def test_a_wrong_output_path_is_refused_before_the_export_runs(tmp_path: Path) -> None:
    """The unknown topic would be found by the export; the path error comes first, so no export ran."""
    target = tmp_path / "missing" / "graph.ttl"
    done = python_cli("export", "--format", "ttl", "--topic", "999", "--output", str(target))
    assert done.returncode == 2
    assert done.stderr == f"axilla-kg: error: {target}: folder '{target.parent}' does not exist\n"
    assert done.stdout == "" and not target.parent.exists()


@pytest.mark.parametrize("kind", ["directory", "symlink"])
def test_an_output_that_is_not_a_regular_file_is_refused_first(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out.csv"
    if kind == "directory":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "elsewhere.csv")
    done = python_cli("export", "--format", "csv", "--topic", "999", "--output", str(target))
    assert done.returncode == 2
    assert "unknown topic" not in done.stderr and str(target) in done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stdout == ""
    assert not (tmp_path / "elsewhere.csv").exists()


def test_import_ratings_checks_its_output_before_reading_the_table(tmp_path: Path) -> None:
    """The table does not exist either; the output path is the first thing refused."""
    target = tmp_path / "missing" / "t.ttl"
    done = python_cli("import-ratings", str(tmp_path / "absent.csv"), "--topic", "286", "-o", str(target))
    assert done.returncode == 2
    assert "does not exist" in done.stderr and str(target) in done.stderr
