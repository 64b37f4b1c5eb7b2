"""The Java side of the reasoners: the ``java`` command, the jars owlready2 ships, and our own
small Java programs against them.

``reasoner`` asks owlready2 itself to run HermiT or Pellet (``sync_reasoner_*``) for answers; the
``check`` stages run the reasoners' own command lines (HermiT's consistency and unsatisfiability
report, Pellet's ``unsat`` and ``explain``) and the OWL API's profile checker, for what owlready2
does not expose. Both must run the same jars with the same Java settings, so this module is the one
place that knows them: the executable and heap size are owlready2's public settings
(``owlready2.JAVA_EXE``, ``owlready2.reasoning.JAVA_MEMORY``), and the classpaths are built from
the jar folders of the installed owlready2 (as owlready2 builds its own, which it keeps private).

Some questions are best asked of the OWL API or HermiT directly: the OWL 2 DL profile check
(``checks/java/ProfileCheck.java``) and thousands of class satisfiability questions in one JVM
(``reasoning/java/ClassQuestions.java``, see :class:`axilla_kg.reasoning.reasoner.CaseQuestions`).
Their sources ship with the package and are compiled once with ``javac`` against the HermiT jar
into a per-user cache (:func:`compiled_classpath`), so no jar is ever downloaded and the build
always matches the installed owlready2.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from axilla_kg.errors import AxillaKGError

COMPILE_TIMEOUT_S = 600
#: the Java sources of the reasoning package's own programs
JAVA_DIR = Path(__file__).resolve().parent / "java"


class CompilerUnavailable(AxillaKGError):
    """No ``javac`` to compile a Java program and no compiled copy in the cache, or it failed."""


def java_available() -> bool:
    """Whether a Java runtime is on PATH (the reasoners cannot run without one)."""
    return shutil.which("java") is not None


def owlready_dir() -> Path:
    """The installed owlready2 package folder, which holds the ``hermit/`` and ``pellet/`` jars."""
    import owlready2

    return Path(owlready2.__file__).resolve().parent


def hermit_jar() -> Path:
    """The HermiT jar owlready2 ships; it bundles the OWL API (profiles included)."""
    return owlready_dir() / "hermit" / "HermiT.jar"


def hermit_classpath() -> str:
    """HermiT's folder and jar, in owlready2's order."""
    folder = owlready_dir() / "hermit"
    return os.pathsep.join([str(folder), str(folder / "HermiT.jar")])


def pellet_classpath() -> str:
    """Every jar of owlready2's Pellet folder, in directory order (as owlready2 lists them)."""
    folder = owlready_dir() / "pellet"
    return os.pathsep.join(str(folder / name) for name in os.listdir(folder) if name.endswith(".jar"))


def java_command(*, heap: bool = True) -> list[str]:
    """owlready2's ``java``, with its heap limit when ``heap``."""
    import owlready2
    from owlready2 import reasoning

    command = [str(owlready2.JAVA_EXE)]
    if heap:
        command.append(f"-Xmx{reasoning.JAVA_MEMORY}M")
    return command


def run_java(
    classpath: str, args: Sequence[str], *, timeout: float, heap: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run one JVM (owlready2's ``java``; with its heap limit when ``heap``), capturing its text
    output. Raises OSError when Java cannot start and ``subprocess.TimeoutExpired`` after
    ``timeout`` seconds."""
    command = [*java_command(heap=heap), "-cp", classpath, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "axilla-kg"


def compiled_classpath(source: Path, prefix: str) -> str:
    """Classpath holding ``source`` compiled plus the HermiT jar; compiles on first use.

    The build directory (``<prefix>-<hash>`` in the cache) is keyed by the hashes of the Java
    source and the jar, so an edited source or another owlready2 gets its own build; it is written
    to a temporary folder and renamed into place, so two processes compiling at once never see
    half a class file.
    """
    jar = hermit_jar()
    digest = hashlib.sha256(source.read_bytes() + str(jar.stat().st_size).encode()).hexdigest()[:16]
    target = cache_root() / f"{prefix}-{digest}"
    built = target / f"{source.stem}.class"
    if not built.is_file():
        javac = shutil.which("javac")
        if javac is None:
            raise CompilerUnavailable(
                f"{source.name} is compiled on first use and needs javac: install a JDK "
                "(e.g. apt-get install default-jdk-headless)"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        build = tempfile.mkdtemp(dir=target.parent, prefix="build-")
        try:
            done = subprocess.run(
                [javac, "-nowarn", "-Xlint:none", "-cp", str(jar), "-d", build, str(source)],
                capture_output=True,
                text=True,
                timeout=COMPILE_TIMEOUT_S,
                check=False,
            )
            if done.returncode != 0:
                raise CompilerUnavailable(f"javac could not compile {source.name}: {first_line(done.stderr)}")
            try:
                os.rename(build, target)
            except OSError:  # another process won the race; its build is identical
                if not built.is_file():
                    raise
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return os.pathsep.join([str(target), str(jar)])


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"
