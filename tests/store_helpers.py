"""Starting a second real triple store for the tests: OpenLink Virtuoso (Debian's
``virtuoso-opensource``), as its own process with a fresh database in a temporary folder, bound to
loopback ports chosen at start, stopped (and its database thrown away) when the test ends.

Virtuoso is a database daemon: it reads an ini file, keeps its database files where the ini says,
and answers SQL on one port and HTTP (``/sparql``, ``/sparql-graph-crud``) on another. A fresh
database has the ``dba`` account with password ``dba`` and a ``SPARQL`` account that may only
read; the fixture grants ``SPARQL_UPDATE`` to it through ``isql-vt`` so that an unauthenticated
Graph Store PUT can load the graph, which is what a user of ``axilla-kg push`` sets up once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from serving_helpers import free_port, stop

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
VSP_ROOT = Path("/var/lib/virtuoso-opensource-7/vsp")


def virtuoso_missing() -> str | None:
    """Why Virtuoso cannot be started here, or None when it can."""
    missing = [name for name in (VIRTUOSO, ISQL) if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not on PATH (Debian package virtuoso-opensource: run .ci/system-packages)"
    return None


def require_virtuoso() -> None:
    """Skip with the reason on a developer machine without Virtuoso; fail under CI, which installs it."""
    reason = virtuoso_missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"Virtuoso is required in CI: {reason}")
    pytest.skip(reason)


def _ini(folder: Path, sql_port: int, http_port: int) -> str:
    db = folder / "db"
    db.mkdir()
    return f"""[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = {db}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {VSP_ROOT}
ServerThreads = 4
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@contextmanager
def virtuoso_server(folder: Path) -> Iterator[str]:
    """Run Virtuoso with a new database in ``folder``; yield its HTTP base URL once ``/sparql``
    answers, with the SPARQL account allowed to update."""
    require_virtuoso()
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(_ini(folder, sql_port, http_port), encoding="utf-8")
    log = (folder / "stdout.log").open("w")
    process = subprocess.Popen(
        [VIRTUOSO, "-c", str(ini), "+foreground"], cwd=folder, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 90
        while True:  # readiness: the SPARQL endpoint answers (a fresh database takes a few seconds)
            try:
                with urllib.request.urlopen(base + "/sparql?query=ASK%7B%7D", timeout=5):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"Virtuoso did not start: {(folder / 'db' / 'virtuoso.log').read_text()[-2000:]}")
                time.sleep(0.2)
        grant = subprocess.run(
            [ISQL, f"127.0.0.1:{sql_port}", "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert grant.returncode == 0, grant.stdout + grant.stderr
        yield base
    finally:
        stop(process)
        log.close()
