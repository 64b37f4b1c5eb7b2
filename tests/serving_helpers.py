"""Starting real servers for the endpoint and remote-store tests: ``axilla-kg serve`` and the
Oxigraph server, each as its own process on a free loopback port, stopped when the test ends."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import cli_command, cli_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[str]) -> None:
    """Terminate a test server, killing it if it does not exit within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Served:
    """A running ``axilla-kg serve``: its base URL and its process."""

    url: str
    process: subprocess.Popen[str]

    def worker_pids(self) -> list[int]:
        """The pids of its query workers (its child processes running ``axilla_kg.server.worker``;
        not the CDS Hooks pool's fork server), from /proc."""
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"axilla_kg.server.worker" not in command:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.process.pid and fields[0] not in ("Z", "X"):
                children.append(int(entry.name))
        return sorted(children)


@contextmanager
def served(*flags: str) -> Iterator[Served]:
    """Run ``axilla-kg serve --port 0 FLAGS``; yield it once it has announced its URL."""
    # stderr goes to a file, not a pipe nobody reads: a full pipe would block the server
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(
            [*cli_command(), "serve", "--port", "0", *flags],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=cli_env(),
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # the server announces its URL once it listens
            match = re.search(r"http://127\.0\.0\.1:(\d+)/sparql", line)
            if not match:
                stop(process)
                errors.seek(0)
                pytest.fail(f"axilla-kg serve did not start: {line!r} {errors.read()}")
            yield Served(f"http://127.0.0.1:{match.group(1)}", process)
        finally:
            stop(process)


@contextmanager
def axilla_server(*flags: str) -> Iterator[str]:
    """Run ``axilla-kg serve --port 0 FLAGS``; yield its base URL (http://127.0.0.1:PORT)."""
    with served(*flags) as server:
        yield server.url


@contextmanager
def oxigraph_server(location: Path) -> Iterator[str]:
    """Run the Oxigraph server (PyPI package ``oxigraph``, test extra); yield its base URL."""
    exe = shutil.which("oxigraph")
    if exe is None:
        pytest.fail("the 'oxigraph' server command is not installed; run pip install '.[test]'")
    port = free_port()
    process = subprocess.Popen(
        [exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read() if process.stderr else ""
                    pytest.fail(f"oxigraph server did not start: {err}")
                time.sleep(0.1)
        yield base
    finally:
        stop(process)
