"""Attack corpus, reasoner side (issue 11): an inconsistent ``--data`` graph is a finding of
``check`` (exit 1), not an abort; a failed reasoner run leaves no temporary file behind; a
``--data`` graph that contradicts a case is an error naming the case, never a silent "refuted"."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from axilla_kg.cli import main
from axilla_kg.contract.cases import parse_case
from axilla_kg.reasoning.reasoner import InconsistentGraphError, case_verdicts, classify_cases

pytestmark = pytest.mark.slow

NOTHING = "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<urn:x> a owl:Nothing .\n"


@pytest.fixture(scope="module")
def nothing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inconsistent") / "nothing.ttl"
    path.write_text(NOTHING)
    return path


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["check", *args, "--format", "json"])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)["findings"]


def test_inconsistent_graph_is_reported_and_dependent_stages_skipped(
    nothing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, findings = _check(capsys, "--data", str(nothing), "--stage", "logic", "--stage", "definitions")
    assert code == 1
    rules = [(f["rule"], f["level"], f["stage"]) for f in findings]
    assert rules == [("logic-inconsistent", "ERROR", "logic"), ("check-stage-skipped", "INFO", "definitions")]
    assert "<urn:x>" in str(findings[0]["message"])
    assert findings[0]["entities"] == [{"iri": "urn:x", "label": ""}]


def test_a_stage_that_meets_the_inconsistency_reports_it_once(
    nothing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: 'the graph is inconsistent', exit 2, no findings (the definitions stage aborted)."""
    code, findings = _check(capsys, "--data", str(nothing), "--stage", "definitions", "--stage", "logic")
    assert code == 1
    assert [f["rule"] for f in findings] == ["logic-inconsistent", "check-stage-skipped"]


def test_failed_reasoner_run_leaves_no_temp_file(
    nothing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """owlready2 deletes its 1.4 MB NamedTemporaryFile only when the reasoner succeeds."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(InconsistentGraphError):
        classify_cases([parse_case({"sex": "female"})], extra=[nothing])
    assert list(tmp_path.iterdir()) == []
    assert tempfile.gettempdir() == str(tmp_path)  # restored after the run


def test_case_verdicts_refuse_an_inconsistent_graph_and_leave_no_temp_file(
    nothing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(InconsistentGraphError, match="inconsistent"):
        case_verdicts([parse_case({"sex": "female"})], extra=[nothing])
    assert list(tmp_path.iterdir()) == []


def test_case_verdicts_refuse_a_case_the_graph_contradicts(tmp_path: Path) -> None:
    """Every variant would be both matched and refuted for an unsatisfiable case class; the
    answer is an error instead (as the realisation's inconsistent ABox is)."""
    males_only = tmp_path / "males-only.ttl"
    males_only.write_text(
        "@prefix ax: <https://w3id.org/axilla-kg/vocab#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "ax:PatientCase rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ax:hasSex ; owl:hasValue ax:Male ] .\n"
    )
    male, female = parse_case({"sex": "male"}), parse_case({"sex": "female", "age": 50})
    with pytest.raises(InconsistentGraphError, match='"sex": "female"'):
        case_verdicts([male, female], extra=[males_only])
