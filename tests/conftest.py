"""Shared fixtures. The curated reference tables live beside the repository in
``../shared/reference`` (CI clones the repo with ``shared/`` next to it); AXILLA_KG_REFERENCE
overrides that location. Tests that need them fail, with that explanation, when they are absent.

A test that needs a system tool (Java, rapper, Graphviz, Chromium, libseccomp: the list is
``.ci/system-packages``) skips with the package to install where the tool is missing, through
:func:`require_tool` or, for Java and libseccomp, the library's own "unavailable" error; under
``CI=true`` it fails instead, so CI never passes by skipping."""

from __future__ import annotations

import contextlib
import csv
import ctypes.util
import io
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from axilla_kg.graph.knowledge import KnowledgeGraph

if TYPE_CHECKING:
    from axilla_kg.export import SourceGraph

REPO = Path(__file__).resolve().parent.parent
SYSTEM_PACKAGES = REPO / ".ci" / "system-packages"


# --- system tools: skip with the reason where one is missing, but never in CI ---------------------


def system_packages() -> dict[str, str]:
    """Command the tests look for -> the Debian package that has it, read from the one list
    (``.ci/system-packages``, which installs them all)."""
    text = SYSTEM_PACKAGES.read_text(encoding="utf-8")
    table = text.split("PACKAGES='", 1)[1].split("'", 1)[0]
    rows = [line.split() for line in table.splitlines() if line.strip()]
    return {row[1]: row[0] for row in rows if row[1] != "-"}


def tool_missing(what: str) -> NoReturn:
    """Skip the calling test because ``what`` is not installed, naming the command that installs it.
    Under ``CI`` (set by CI services and by ``.ci/run``) the test fails instead: CI must run every test."""
    message = f"{what} is not installed; `.ci/system-packages` installs it"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (CI=true: a missing tool fails, it never skips)")
    pytest.skip(message)


def require_tool(command: str) -> str:
    """The path of a system tool a test needs (a command or an absolute path); a missing one
    skips the test with the Debian package to install (see :func:`tool_missing`)."""
    found = shutil.which(command)
    if found is None:
        package = system_packages().get(Path(command).name, "?")
        tool_missing(f"{command} (Debian package {package})")
    return found


def _absent_java_or_seccomp(exc: BaseException) -> str | None:
    """What is missing when ``exc`` is the library saying a system tool is absent, else None (a real
    failure, which must not turn into a skip)."""
    from axilla_kg.errors import JavaUnavailable, ReasonerUnavailable, SandboxUnavailable

    if isinstance(exc, JavaUnavailable | ReasonerUnavailable) and shutil.which("java") is None:
        return f"java (Debian package {system_packages()['java']})"
    if isinstance(exc, SandboxUnavailable) and ctypes.util.find_library("seccomp") is None:
        return "libseccomp (Debian package libseccomp2)"
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """A fixture that needs Java or libseccomp where it is absent: skip with the reason (CI: fail)."""
    try:
        return (yield)
    except Exception as exc:
        what = _absent_java_or_seccomp(exc)
        if what is None:
            raise
        tool_missing(what)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """A test that needs Java or libseccomp where it is absent: skip with the reason (CI: fail)."""
    try:
        return (yield)
    except Exception as exc:
        what = _absent_java_or_seccomp(exc)
        if what is None:
            raise
        tool_missing(what)


def _reference_path() -> Path:
    return Path(os.environ.get("AXILLA_KG_REFERENCE", REPO.parent / "shared" / "reference"))


def reference_available() -> bool:
    """Whether the curated tables are there; for collection-time decisions only (see below)."""
    return (_reference_path() / "acr286_ratings.csv").is_file()


def reference_dir() -> Path:
    """The curated reference folder; the calling test fails, with the explanation, when it is missing.

    Call it inside tests, never while collecting: a failure during collection aborts the whole run,
    while a failing test lets every other test run. Parameters read from the tables at collection
    time go through :func:`reference_params`."""
    path = _reference_path()
    if not (path / "acr286_ratings.csv").is_file():
        pytest.fail(f"curated reference tables not found at {path}; set AXILLA_KG_REFERENCE")
    return path


def reference_params(build: Callable[[], Sequence[Any]], arity: int) -> list[Any]:
    """Test parameters built from the reference tables, or, when the tables are missing, one
    placeholder whose test then fails in :func:`reference_dir` with the explanation."""
    if not reference_available():
        return [pytest.param(*([None] * arity), id="reference-tables-missing")]
    return list(build())


def read_csv(name: str) -> list[dict[str, str]]:
    with (reference_dir() / name).open(encoding="utf-8", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


@pytest.fixture(scope="session")
def kg() -> KnowledgeGraph:
    return KnowledgeGraph.load()


@pytest.fixture(scope="session")
def kg_rdflib() -> KnowledgeGraph:
    return KnowledgeGraph.load(engine="rdflib")


@pytest.fixture(scope="session")
def export_source() -> SourceGraph:
    """The shipped graph as the exporters read it (asserted triples only), loaded once per run
    (~0.1 s). The exporters never modify it."""
    from axilla_kg.export import load_source

    return load_source()


Exported = Callable[..., str]


@pytest.fixture(scope="session")
def exported(export_source: SourceGraph) -> Exported:
    """``exported(fmt, topic=None)``: the export text, each (format, topic) written once per run.

    Written with SOURCE_DATE_EPOCH unset, so the generation date comes from the ontology: the
    same bytes as ``axilla-kg export`` in a clean environment (the golden files' condition)."""
    from axilla_kg.export import EXPORT_FORMATS

    texts: dict[tuple[str, str | None], str] = {}

    def get(fmt: str, topic: str | None = None) -> str:
        if (fmt, topic) not in texts:
            with pytest.MonkeyPatch.context() as patch:
                patch.delenv("SOURCE_DATE_EPOCH", raising=False)
                texts[(fmt, topic)] = EXPORT_FORMATS[fmt].write(export_source, topic)
        return texts[(fmt, topic)]

    return get


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


@dataclass
class CliResult:
    """What a CLI run gives back; the fields of ``subprocess.CompletedProcess`` the tests read."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def _decoded(raw: bytes) -> str:
    """Decode as ``subprocess.run(text=True)`` does: UTF-8 with universal newlines."""
    return io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8").read()


@contextlib.contextmanager
def terminal_sigint() -> Iterator[None]:
    """Start children (inside this block) the way a terminal would: SIGINT handled, not blocked.

    A child inherits through fork and exec an ignored SIGINT (and a blocked one), and a child
    Python keeps it ignored, so a Ctrl-C test depends on what earlier code in this test worker left
    behind: twice a CI run's Ctrl-C tests timed out that way. The worker's state is put back after."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, previous)


def cli_in_process(*args: str, stdin: str | None = None) -> CliResult:
    """Run ``axilla_kg.cli.main(args)`` in this process with stdin, stdout and stderr captured.

    The same code path as ``python -m axilla_kg`` (argument parsing, error handling, exit status,
    the bytes written) without a new interpreter per call (~0.5-1 s each on a busy machine); the
    streams are real text streams over bytes, so code that writes to ``sys.stdout.buffer`` works."""
    from axilla_kg.cli import main

    out_raw, err_raw = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_raw, encoding="utf-8", newline="", write_through=True)
    err = io.TextIOWrapper(err_raw, encoding="utf-8", newline="", write_through=True)
    fake_stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = fake_stdin, out, err
    try:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out.flush()
        err.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return CliResult(list(args), code, _decoded(out_raw.getvalue()), _decoded(err_raw.getvalue()))


def run_cli_subprocess(
    *args: str, stdin: str | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m axilla_kg`` in a fresh interpreter: for what only a process shows (another
    working directory, the module entry point, a cold start). ``timeout`` is a guard against a
    hung process, not a speed limit: callers that start Spark or a JVM pass a longer one."""
    return subprocess.run(
        [*cli_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=cli_env(),
    )


def run_cli(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> CliResult | subprocess.CompletedProcess[str]:
    """The CLI of this working tree: in-process, or a subprocess when a working directory is given."""
    if cwd is not None:
        return run_cli_subprocess(*args, stdin=stdin, cwd=cwd)
    return cli_in_process(*args, stdin=stdin)


def python_cli(*args: str) -> CliResult:
    """The CLI of this source tree (not an installed copy), in-process (see :func:`cli_in_process`)."""
    return cli_in_process(*args)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the snapshots in tests/golden/ from the current code (then review their diff)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True under ``--update-golden``: snapshot tests write their file before comparing."""
    return bool(request.config.getoption("--update-golden"))


# --- order: the long files first ------------------------------------------------------------------

#: test files that take minutes (``--durations``), longest first: in a full run on 2026-12-06 (issue
#: 22, second round) the fast-path test ~220 s, Spark ~200 s, the slow-heads attacks ~105 s, the
#: reference checks ~85 s of worker time. ``-n 2 --dist loadfile`` hands whole files to the two
#: workers in collection order (``--no-loadscope-reorder`` in pyproject's pytest options: xdist
#: would otherwise order files by their number of tests, which put the three-test fast-path file
#: last), so these start at once and no worker ends the run alone on one.
LONG_FILES = (
    "test_fast_path.py",
    "test_spark.py",
    "test_attack_slow_heads.py",
    "test_fast_path_reference.py",
    "test_web_pages.py",
    "test_virtuoso.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The files of :data:`LONG_FILES` first, in that order; the rest keep their order."""
    rank = {name: k for k, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
