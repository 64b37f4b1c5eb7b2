"""The reasoners' jars as ``axilla_kg.reasoning.jvm`` finds them: the same as owlready2 runs; and
the process's one JVM (JPype): HermiT answers in it, it runs under the seccomp network barrier,
and Ctrl-C still reaches Python.

``check`` runs HermiT's and Pellet's own command lines with these classpaths, while answers run
through owlready2's ``sync_reasoner_*``; both must use the same jars. owlready2 keeps its
classpaths in private attributes, so only this test reads them, to catch an owlready2 upgrade that
moves its jars."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from owlready2 import reasoning

from axilla_kg.reasoning import jvm
from axilla_kg.reasoning.hermit import HermitError, HermitSession

from conftest import cli_env, terminal_sigint


def _entries(classpath: str) -> list[str]:
    return classpath.split(os.pathsep)


def test_hermit_classpath_is_owlreadys() -> None:
    assert _entries(jvm.hermit_classpath()) == _entries(getattr(reasoning, "_HERMIT_CLASSPATH"))  # noqa: B009


def test_pellet_classpath_is_owlreadys() -> None:
    ours = _entries(jvm.pellet_classpath())
    assert ours == _entries(getattr(reasoning, "_PELLET_CLASSPATH"))  # noqa: B009
    assert all(Path(entry).is_file() and entry.endswith(".jar") for entry in ours)
    assert any("pellet" in Path(entry).name for entry in ours)


def test_hermit_jar_holds_the_owl_api() -> None:
    import zipfile

    with zipfile.ZipFile(jvm.hermit_jar()) as jar:
        names = set(jar.namelist())
    assert "org/semanticweb/HermiT/cli/CommandLine.class" in names
    assert "org/semanticweb/owlapi/profiles/OWL2DLProfile.class" in names


# --- the in-process JVM (JPype) -------------------------------------------------------------------

TINY = """\
<urn:t:A> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .
<urn:t:B> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .
<urn:t:C> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .
<urn:t:A> <http://www.w3.org/2002/07/owl#disjointWith> <urn:t:B> .
<urn:t:C> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <urn:t:A> .
"""


def _tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.nt"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.mark.slow
def test_hermit_answers_satisfiability_in_process(tmp_path: Path) -> None:
    """A ⊓ B is unsatisfiable (disjoint), C ⊓ ¬A too (C ⊑ A); A ⊓ ¬B and C alone are not."""
    session = HermitSession(_tiny(tmp_path))
    try:
        assert session.consistent()
        assert not session.satisfiable(["urn:t:A", "urn:t:B"])
        assert not session.satisfiable(["urn:t:C", "!urn:t:A"])
        assert not session.satisfiable(["urn:t:C", "urn:t:B"])
        assert session.satisfiable(["urn:t:A", "!urn:t:B"])
        assert session.satisfiable(["urn:t:C"])
        with pytest.raises(HermitError, match="not a class: urn:t:Fresh"):
            session.satisfiable(["urn:t:Fresh"])
    finally:
        session.close()


@pytest.mark.slow
def test_defined_classes_stand_for_their_expression(tmp_path: Path) -> None:
    """D ≡ C ⊓ B is defined outside the ontology: unsatisfiable, like C ⊓ B; E ≡ ¬B is satisfiable."""
    owl = "http://www.w3.org/2002/07/owl#"
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    definitions = tmp_path / "defs.nt"
    definitions.write_text(
        f"<urn:t:D> <{rdf}type> <{owl}Class> .\n"
        f"<urn:t:D> <{owl}equivalentClass> _:x .\n"
        f"_:x <{rdf}type> <{owl}Class> .\n"
        f"_:x <{owl}intersectionOf> _:l1 .\n"
        f"_:l1 <{rdf}first> <urn:t:C> .\n_:l1 <{rdf}rest> _:l2 .\n"
        f"_:l2 <{rdf}first> <urn:t:B> .\n_:l2 <{rdf}rest> <{rdf}nil> .\n"
        f"<urn:t:E> <{rdf}type> <{owl}Class> .\n<urn:t:E> <{owl}equivalentClass> _:y .\n"
        f"_:y <{rdf}type> <{owl}Class> .\n_:y <{owl}complementOf> <urn:t:B> .\n",
        encoding="utf-8",
    )
    session = HermitSession(_tiny(tmp_path))
    try:
        assert session.define(definitions) == 2
        assert not session.satisfiable(["urn:t:D"])
        assert session.satisfiable(["urn:t:E"])
        assert not session.satisfiable(["urn:t:E", "urn:t:B"])
        clash = tmp_path / "clash.nt"
        clash.write_text(
            f"<urn:t:A> <{owl}equivalentClass> _:z .\n"
            f"_:z <{rdf}type> <{owl}Class> .\n_:z <{owl}complementOf> <urn:t:C> .\n",
            encoding="utf-8",
        )
        with pytest.raises(HermitError, match="already a class of the ontology"):
            session.define(clash)
        assert session.satisfiable(["urn:t:E"])  # a refused definition file keeps the previous ones
    finally:
        session.close()


@pytest.mark.slow
def test_many_questions_at_once(tmp_path: Path) -> None:
    """A union term, and the two ways of asking many questions in one call: each answer agrees
    with the questions asked one at a time."""
    session = HermitSession(_tiny(tmp_path))
    try:
        assert session.satisfiable([("urn:t:B", "urn:t:C"), "!urn:t:A"])  # B ⊓ ¬A
        assert not session.satisfiable(["urn:t:C", ("urn:t:B", "!urn:t:A")])  # C ⊑ A, A ⊓ B = ∅
        unsatisfiable = [["urn:t:A", "urn:t:B"], ["urn:t:C", "!urn:t:A"], ["urn:t:C", ("urn:t:B", "!urn:t:A")]]
        assert not any(session.satisfiable(q) for q in unsatisfiable)
        assert session.none_satisfiable(unsatisfiable)
        assert not session.none_satisfiable([*unsatisfiable, ["urn:t:A", "!urn:t:B"]])
        satisfiable = [["urn:t:A", "!urn:t:B"], ["urn:t:C"], ["urn:t:B"], ["!urn:t:A", "!urn:t:B"]]
        assert all(session.satisfiable(q) for q in satisfiable)
        assert session.all_satisfiable(satisfiable)
        assert not session.all_satisfiable([*satisfiable, ["urn:t:C", "urn:t:B"]])
        assert session.none_satisfiable([]) and session.all_satisfiable([])
        with pytest.raises(HermitError, match="not a class: urn:t:Fresh"):
            session.none_satisfiable([["urn:t:A"], ["urn:t:Fresh"]])
    finally:
        session.close()


#: o is the only thing p points to from one element at most (p is inverse-functional), and X is
#: "p to o": X ⊓ A and X ⊓ ¬A are each satisfiable, but not by two elements of one model
SHARED_VALUE = f"""\
{TINY}<urn:t:o> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#NamedIndividual> .
<urn:t:p> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#ObjectProperty> .
<urn:t:p> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#InverseFunctionalProperty> .
<urn:t:X> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .
<urn:t:X> <http://www.w3.org/2002/07/owl#equivalentClass> _:r .
_:r <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Restriction> .
_:r <http://www.w3.org/2002/07/owl#onProperty> <urn:t:p> .
_:r <http://www.w3.org/2002/07/owl#hasValue> <urn:t:o> .
"""


@pytest.mark.slow
def test_all_satisfiable_says_no_when_witnesses_meet_at_a_named_individual(tmp_path: Path) -> None:
    """Why a "no" from ``all_satisfiable`` proves nothing about a single question (and callers
    split the group): two witnesses that must both point to the one named individual o."""
    path = tmp_path / "shared.nt"
    path.write_text(SHARED_VALUE, encoding="utf-8")
    session = HermitSession(path)
    try:
        assert session.satisfiable(["urn:t:X", "urn:t:A"]) and session.satisfiable(["urn:t:X", "!urn:t:A"])
        assert session.all_satisfiable([["urn:t:X", "urn:t:A"]])
        assert not session.all_satisfiable([["urn:t:X", "urn:t:A"], ["urn:t:X", "!urn:t:A"]])
    finally:
        session.close()


@pytest.mark.slow
def test_entailed_types_of_a_named_individual(tmp_path: Path) -> None:
    """i : C entails i : A and i : ¬B; neither B nor ¬A."""
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    path = tmp_path / "abox.nt"
    path.write_text(TINY + f"<urn:t:i> {rdf_type} <urn:t:C> .\n", encoding="utf-8")
    session = HermitSession(path)
    try:
        assert session.entailed("urn:t:i", "urn:t:A") and session.entailed("urn:t:i", "!urn:t:B")
        assert not session.entailed("urn:t:i", "urn:t:B") and not session.entailed("urn:t:i", "!urn:t:A")
        with pytest.raises(HermitError, match="not an individual"):
            session.entailed("urn:t:j", "urn:t:A")
    finally:
        session.close()


_UNDER_BARRIER = """
import socket, sys
from pathlib import Path
from axilla_kg.sandbox import forbid_network
forbid_network()
from axilla_kg.checks.profile import profile_violations
from axilla_kg.reasoning.hermit import HermitSession
tiny = Path(sys.argv[1])
print("profile", len(profile_violations([tiny])[tiny]))
session = HermitSession(tiny)
print("hermit", session.consistent(), session.satisfiable(["urn:t:A", "urn:t:B"]))
import jpype
try:
    jpype.JClass("java.net.Socket")("127.0.0.1", 9)
    print("java socket opened")
except jpype.JException as exc:
    print("java socket refused")
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    print("python socket opened")
except OSError:
    print("python socket refused")
"""


@pytest.mark.slow
def test_the_in_process_jvm_runs_under_the_network_barrier(tmp_path: Path) -> None:
    """``check`` installs the seccomp barrier before its stages: the JVM then starts under it,
    answers, and can open no socket itself."""
    done = subprocess.run(
        [sys.executable, "-c", _UNDER_BARRIER, str(_tiny(tmp_path))],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "profile 0",
        "hermit True False",
        "java socket refused",
        "python socket refused",
    ]


_WAIT_AFTER_START = """
import sys
# what this child inherited through exec (an ignored or blocked SIGINT passes on): shown if it fails
print(*(line.strip() for line in open("/proc/self/status") if line.startswith(("SigBlk", "SigIgn"))), file=sys.stderr)
from axilla_kg.reasoning import jvm
try:
    jvm.start()
    print("ready", flush=True)
    sys.stdin.read()
except KeyboardInterrupt:
    print("KeyboardInterrupt in Python", flush=True)
    sys.exit(130)
"""


_THREAD_MASKS = """
import json, os
from axilla_kg.reasoning import jvm
jvm.start()
masks = {"main": os.getpid()}
for tid in os.listdir("/proc/self/task"):
    with open(f"/proc/self/task/{tid}/status") as status:
        blk = next(line for line in status if line.startswith("SigBlk:"))
    masks[tid] = int(blk.split()[1], 16)
print(json.dumps(masks))
"""


@pytest.mark.slow
def test_ctrl_c_reaches_python_once_the_jvm_runs() -> None:
    """The JVM must not take SIGINT for itself (halting the process): Python gets it, so the CLI
    can print its one line. Readiness is the child's "ready" line, not a sleep. The answer must
    come while the child's input is still open: a SIGINT taken by one of the JVM's threads left the
    main thread in its read until end of input, and the interrupt was then lost; so the JVM's
    threads block it. The child starts as from a terminal (``terminal_sigint``: an ignored SIGINT
    left in this worker would pass on through exec). The timer only ends a child that never
    answers."""
    with terminal_sigint():
        process = subprocess.Popen(
            [sys.executable, "-c", _WAIT_AFTER_START],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
    guard = threading.Timer(60, process.kill)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGINT)
        guard.start()
        answer = process.stdout.readline()  # the input is still open
        out, err = process.communicate(timeout=60)
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    parent = [line.strip() for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("Sig")]
    assert answer + out == "KeyboardInterrupt in Python\n", f"child: {err!r}; this worker: {parent}"
    assert process.returncode == 130


def test_the_jvm_threads_leave_sigint_to_the_main_thread() -> None:
    """Every thread the JVM started blocks SIGINT and SIGTERM (read from /proc: SigBlk of each
    thread), so the kernel can only hand them to Python's main thread."""
    done = subprocess.run(
        [sys.executable, "-c", _THREAD_MASKS],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    masks = json.loads(done.stdout)
    bits = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    main = masks.pop(str(masks["main"]))
    masks.pop("main")
    assert main & bits == 0  # Python's own thread still takes them
    assert len(masks) >= 5  # the JVM started its threads (GC, compiler, reference handler...)
    assert all(mask & bits == bits for mask in masks.values()), masks
