"""Small Java programs against the OWL API and HermiT that owlready2's HermiT jar bundles.

Some questions are best asked of the OWL API or HermiT directly rather than through owlready2:
the OWL 2 DL profile check (``checks/java/ProfileCheck.java``) and thousands of class
satisfiability questions in one JVM (``reasoning/java/ClassQuestions.java``, see
:class:`axilla_kg.reasoning.reasoner.CaseQuestions`). Their sources ship with the package and are compiled
once with ``javac`` against that jar into a per-user cache, so no jar is ever downloaded and the
build always matches the installed owlready2.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from axilla_kg.errors import AxillaKGError

COMPILE_TIMEOUT_S = 600
#: the Java sources of this package's own programs
JAVA_DIR = Path(__file__).resolve().parent / "java"


class CompilerUnavailable(AxillaKGError):
    """No ``javac`` to compile a Java program and no compiled copy in the cache, or it failed."""


def hermit_jar() -> Path:
    """The HermiT jar owlready2 ships; it bundles the OWL API (profiles and modularity included)."""
    import owlready2

    return Path(owlready2.__file__).resolve().parent / "hermit" / "HermiT.jar"


def java_executable() -> str:
    """The ``java`` owlready2 runs its reasoners with."""
    import owlready2

    return str(owlready2.JAVA_EXE)


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
