"""Attack corpus (issue 19): ``check --data`` never follows ``owl:imports`` or any other way a
parser or reasoner reads another document, and the seccomp barrier covers ``check`` and its JVMs.

Before: ``<urn:o> a owl:Ontology ; owl:imports <http://127.0.0.1:PORT/x.owl>`` made the profile
(OWL API), logic (HermiT) and definitions (owlready2) stages fetch the URL, and ``<file:///etc/passwd>``
had its lines quoted in a profile finding. A canary listener must see no connection; a secret file
named by an import must not appear in anything ``check`` prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from canary import Canary, canary

from conftest import REPO, cli_command, cli_env

MARKER = "axilla-secret-line-7f3c"


def _secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.ttl"  # a readable RDF file, so a reader that follows the import would quote it
    path.write_text(f'<urn:secret> <urn:says> "{MARKER}" .\n<{MARKER}> a <urn:{MARKER}> .\n', encoding="utf-8")
    return path


def _inputs(tmp_path: Path, bird: Canary) -> list[Path]:
    secret = _secret(tmp_path).as_uri()
    turtle = tmp_path / "imports.ttl"
    turtle.write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        f"<urn:o> a owl:Ontology ; owl:imports <{bird.url}/x.owl>, <{secret}>, <file:///etc/passwd> .\n",
        encoding="utf-8",
    )
    xml = tmp_path / "imports.owl"
    xml.write_text(
        '<?xml version="1.0"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:owl="http://www.w3.org/2002/07/owl#">\n'
        f'  <owl:Ontology rdf:about="urn:o2"><owl:imports rdf:resource="{bird.url}/y.owl"/>'
        f'<owl:imports rdf:resource="{secret}"/></owl:Ontology>\n'
        "</rdf:RDF>\n",
        encoding="utf-8",
    )
    return [turtle, xml]


def _check(files: list[Path], *stages: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a program (it owns its process, so it installs the seccomp barrier)."""
    args = [a for f in files for a in ("--data", str(f))] + [a for s in stages for a in ("--stage", s)]
    return subprocess.run(
        [*cli_command(), "check", *args, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
        env=cli_env(),
    )


def _assert_imports_ignored(done: subprocess.CompletedProcess[str], bird: Canary) -> None:
    assert bird.connections == 0
    assert MARKER not in done.stdout + done.stderr
    assert "root:" not in done.stdout + done.stderr  # /etc/passwd
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    ignored = [f for f in report["findings"] if f["rule"] == "input-import-ignored"]
    assert len(ignored) == 5
    assert all(f["level"] == "WARN" and f["stage"] == "inputs" for f in ignored)
    assert any(f"{bird.url}/x.owl" in f["message"] and "imports.ttl" in f["message"] for f in ignored)
    assert any(f"{bird.url}/y.owl" in f["message"] and "imports.owl" in f["message"] for f in ignored)


def test_profile_stage_reads_no_imported_ontology(tmp_path: Path) -> None:
    """The OWL API stage (a JVM) alone: the quick regression."""
    with canary() as bird:
        done = _check(_inputs(tmp_path, bird), "profile")
        _assert_imports_ignored(done, bird)


@pytest.mark.slow
def test_no_stage_reads_an_imported_ontology(tmp_path: Path) -> None:
    """Every stage: OWL API, HermiT, owlready2 definitions, pySHACL (rdflib), SPARQL rules."""
    with canary() as bird:
        done = _check(_inputs(tmp_path, bird))
        _assert_imports_ignored(done, bird)


def test_xinclude_is_refused_not_followed(tmp_path: Path) -> None:
    """An XInclude in RDF/XML is not RDF/XML: one line, exit 2, the included file unread."""
    with canary() as bird:
        secret = _secret(tmp_path).as_uri()
        xml = tmp_path / "xinclude.rdf"
        xml.write_text(
            '<?xml version="1.0"?>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:xi="http://www.w3.org/2001/XInclude">\n'
            f'  <rdf:Description rdf:about="urn:d"><xi:include href="{secret}" parse="text"/>'
            f'<xi:include href="{bird.url}/i.xml"/></rdf:Description>\n'
            "</rdf:RDF>\n",
            encoding="utf-8",
        )
        done = _check([xml], "profile")
        assert bird.connections == 0
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and "xinclude.rdf" in done.stderr
        assert MARKER not in done.stderr


JVM_STAGE = """
import argparse, sys
from pathlib import Path
from axilla_kg.cli.checking import forbid_network_for_check
if sys.argv[2] == "sandboxed":
    forbid_network_for_check(argparse.Namespace(owns_process=True))  # what check does first
from axilla_kg.checks.profile import profile_violations
profile_violations([Path(sys.argv[1])])  # the OWL API reads the raw file and resolves its imports
"""


def _jvm_stage(tmp_path: Path, bird: Canary, mode: str) -> subprocess.CompletedProcess[str]:
    """The profile stage's JVM handed a raw file with an import (both import boundaries bypassed)."""
    data = tmp_path / "net.ttl"
    data.write_text(
        f"<urn:o> a <http://www.w3.org/2002/07/owl#Ontology> ; "
        f"<http://www.w3.org/2002/07/owl#imports> <{bird.url}/z.owl> .\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-c", JVM_STAGE, str(data), mode],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        env=cli_env(),
    )


def test_the_seccomp_barrier_alone_keeps_the_jvm_off_the_network(tmp_path: Path) -> None:
    """The barrier ``check`` installs before any stage (seccomp, inherited across fork/exec) stops
    the OWL API's JVM from fetching an import even when it is handed one."""
    with canary() as bird:
        done = _jvm_stage(tmp_path, bird, "sandboxed")
        assert "Traceback" not in done.stderr, done.stderr
        assert bird.connections == 0


def test_without_the_barrier_the_jvm_would_connect(tmp_path: Path) -> None:
    """The control for the test above: the same JVM run without the barrier reaches the canary,
    so a zero there is the barrier's doing and not a JVM that never tried."""
    with canary() as bird:
        _jvm_stage(tmp_path, bird, "open")
        assert bird.connections >= 1


@pytest.mark.slow
def test_recommend_with_the_reasoner_reads_no_imported_ontology(tmp_path: Path) -> None:
    """``recommend --reasoner hermit --data`` hands the reasoner one merged N-Triples file
    (``reasoning.reasoner.merged_ntriples``); it fetched the import before (1 connection)."""
    with canary() as bird:
        data = tmp_path / "imports.ttl"
        data.write_text(
            f"<urn:o> a <http://www.w3.org/2002/07/owl#Ontology> ; "
            f"<http://www.w3.org/2002/07/owl#imports> <{bird.url}/r.owl>, <{_secret(tmp_path).as_uri()}> .\n",
            encoding="utf-8",
        )
        case = (
            '{"sex": "female", "age": 52, "breast_cancer": "new", "tumor_size_cm": 1.5, "clinical_nodes": "positive"}'
        )
        done = subprocess.run(
            [*cli_command(), "recommend", "--case", "-", "--reasoner", "hermit", "--data", str(data)],
            input=case,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=600,
            env=cli_env(),
        )
        assert done.returncode == 0, done.stderr
        assert bird.connections == 0
        assert MARKER not in done.stdout + done.stderr
