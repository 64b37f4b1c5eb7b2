"""The reasoners' jars as ``axilla_kg.reasoning.jvm`` finds them: the same as owlready2 runs.

``check`` runs HermiT's and Pellet's own command lines with these classpaths, while answers run
through owlready2's ``sync_reasoner_*``; both must use the same jars. owlready2 keeps its
classpaths in private attributes, so only this test reads them, to catch an owlready2 upgrade that
moves its jars."""

from __future__ import annotations

import os
from pathlib import Path

from owlready2 import reasoning

from axilla_kg.reasoning import jvm


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
