"""The Java side of the reasoners: the ``java`` command, the jars owlready2 ships, and the one
JVM inside this process.

``reasoner`` asks owlready2 itself to run HermiT or Pellet (``sync_reasoner_*``) for answers; the
``check`` stages run the reasoners' own command lines (HermiT's consistency and unsatisfiability
report, Pellet's ``unsat`` and ``explain``). Both must run the same jars with the same Java
settings, so this module is the one place that knows them: the executable and heap size are
owlready2's public settings (``owlready2.JAVA_EXE``, ``owlready2.reasoning.JAVA_MEMORY``), and the
classpaths are built from the jar folders of the installed owlready2 (as owlready2 builds its own,
which it keeps private).

Some questions are best asked of the OWL API or HermiT directly: the OWL 2 DL profile check
(:mod:`axilla_kg.checks.profile`) and thousands of class satisfiability questions
(:mod:`axilla_kg.reasoning.hermit`). They call the Java classes from Python through JPype, in one
long-lived JVM per process (:func:`start`) over the same HermiT jar, which bundles the OWL API: no
Java is compiled at run time, a JRE is enough, and a question costs a method call, not a JVM start.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from axilla_kg.errors import JavaUnavailable

_START_LOCK = threading.Lock()


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


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def start() -> None:
    """Start this process's JVM, once: HermiT's jar (and so the OWL API) on its classpath,
    owlready2's heap limit. Later calls return at once; a JVM cannot be restarted in a process.

    ``interrupt=False`` leaves Ctrl-C to Python (a KeyboardInterrupt, which the CLI turns into one
    line and exit 130) instead of letting the JVM halt the process, and ``-Xrs`` keeps the JVM from
    installing its own SIGINT handler over Python's (without it a Ctrl-C during a blocking read
    went unseen until the process exited). The JVM's threads, and the thread JPype's import starts,
    begin with SIGINT and SIGTERM blocked (they inherit the mask of the starting thread, restored
    afterwards): Linux hands a signal sent to the process to any thread that does not block it,
    and one taken by a JVM thread would leave the main thread in its blocking read, so the
    KeyboardInterrupt would come only at end of input. Java strings stay Java strings
    (``convertStrings=False``, JPype's advice); callers convert with ``str()``."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        _start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _start() -> None:
    """``start``'s work, run with SIGINT and SIGTERM blocked: importing JPype imports numpy, whose
    BLAS starts a worker thread, and those threads inherit the mask as the JVM's do."""
    import jpype
    import jpype.imports

    with _START_LOCK:
        if jpype.isJVMStarted():
            return
        library = jvm_library()
        from owlready2 import reasoning

        folder = owlready_dir() / "hermit"
        try:
            jpype.startJVM(
                f"-Xmx{reasoning.JAVA_MEMORY}M",
                "-Djava.awt.headless=true",
                "-Xrs",  # no JVM handlers for SIGINT/SIGTERM: Python keeps them
                jvmpath=library,
                classpath=[str(folder), str(hermit_jar())],
                convertStrings=False,
                interrupt=False,
            )
        except OSError as exc:
            raise JavaUnavailable(f"the Java runtime at {library} did not start: {first_line(str(exc))}") from None


_LIBRARIES = ("libjvm.so", "libjvm.dylib", "jvm.dll")


def jvm_library() -> str:
    """The JVM library of the Java runtime owlready2 runs (``JAVA_HOME`` when set, else the ``java``
    on PATH), so the in-process JVM and owlready2's reasoner processes are the same Java."""
    import jpype

    home = os.environ.get("JAVA_HOME")
    if home:
        try:
            return str(jpype.getDefaultJVMPath())
        except jpype.JVMNotFoundException:
            raise JavaUnavailable(f"JAVA_HOME={home} holds no Java runtime (no libjvm)") from None
    import owlready2

    java = shutil.which(str(owlready2.JAVA_EXE))
    if java is None:
        raise JavaUnavailable(
            "the OWL API and HermiT need a Java runtime: install a JRE (e.g. apt-get install default-jre-headless)"
        )
    runtime = Path(os.path.realpath(java)).parent.parent
    found = sorted((p for name in _LIBRARIES for p in runtime.rglob(name)), key=lambda p: ("server" not in p.parts, p))
    if not found:
        raise JavaUnavailable(f"the Java runtime of {java} has no JVM library (libjvm) under {runtime}")
    return str(found[0])


def java_error(exc: BaseException) -> str:
    """One line for a Java exception raised through JPype (its class and message)."""
    return " ".join(str(exc).split()) or type(exc).__name__
