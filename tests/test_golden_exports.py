"""Golden (snapshot) tests of every export format, in the style of LinkML's: the committed
files in tests/golden/ are the reviewed output, so any change to what an exporter writes (a FHIR
element, an SSSOM column, a CSV cell, an RDF triple) fails here until the snapshot is
regenerated and its diff reviewed:

    python -m pytest tests/test_golden_exports.py --update-golden

The RDF syntaxes are snapshotted on the smallest topic (179, plus the shared model they always
carry); FHIR, SSSOM and CSV on topic 286, the topic this project is about. The generation date
comes from the ontology (SOURCE_DATE_EPOCH is unset here), so the files are stable everywhere."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from axilla_kg.export import EXPORT_FORMATS

from conftest import Exported

GOLDEN = Path(__file__).resolve().parent / "golden"
TOPIC = {"fhir": "286", "sssom": "286", "csv": "286"}  # every other format: topic 179
SUFFIX = {"fhir": "json", "sssom": "sssom.tsv", "xml": "rdf", "owl": "owl.rdf"}


def golden_path(fmt: str) -> Path:
    return GOLDEN / f"export-topic-{TOPIC.get(fmt, '179')}.{SUFFIX.get(fmt, fmt)}"


def test_every_export_format_has_a_snapshot() -> None:
    assert sorted(p.name for p in GOLDEN.glob("export-*")) == sorted(golden_path(f).name for f in EXPORT_FORMATS)


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_matches_its_snapshot(fmt: str, exported: Exported, update_golden: bool) -> None:
    text = exported(fmt, TOPIC.get(fmt, "179"))  # written with SOURCE_DATE_EPOCH unset
    path = golden_path(fmt)
    if update_golden:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    expected = path.read_bytes().decode("utf-8") if path.is_file() else ""
    if text != expected:
        diff = "".join(
            list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "export", n=1))[:40]
        )
        pytest.fail(
            f"{fmt} export differs from {path.name}; if the change is intended, run "
            f"`python -m pytest tests/test_golden_exports.py --update-golden` and review the diff:\n{diff}"
        )
