"""The Java side of the reasoners: the ``java`` command and the jars owlready2 ships.

``reasoner`` asks owlready2 itself to run HermiT or Pellet (``sync_reasoner_*``) for answers; the
``check`` stages run the reasoners' own command lines (HermiT's consistency and unsatisfiability
report, Pellet's ``unsat`` and ``explain``) and the OWL API's profile checker, for what owlready2
does not expose. Both must run the same jars with the same Java settings, so this module is the one
place that knows them: the executable and heap size are owlready2's public settings
(``owlready2.JAVA_EXE``, ``owlready2.reasoning.JAVA_MEMORY``), and the classpaths are built from
the jar folders of the installed owlready2 (as owlready2 builds its own, which it keeps private).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


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


def run_java(
    classpath: str, args: Sequence[str], *, timeout: float, heap: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run one JVM (owlready2's ``java``; with its heap limit when ``heap``), capturing its text
    output. Raises OSError when Java cannot start and ``subprocess.TimeoutExpired`` after
    ``timeout`` seconds."""
    import owlready2
    from owlready2 import reasoning

    command = [owlready2.JAVA_EXE]
    if heap:
        command.append(f"-Xmx{reasoning.JAVA_MEMORY}M")
    command += ["-cp", classpath, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
