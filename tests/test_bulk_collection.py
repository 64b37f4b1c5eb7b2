"""The collector settings of a long batch run (``cli.common.bulk_collection``) hold only while the
run lasts: the test suite and the Python API run commands in one process, which must get its own
settings back, whatever the run did."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from axilla_kg.cli.common import BULK_GC_THRESHOLD, bulk_collection
from axilla_kg.cli.main import main


def test_settings_hold_inside_and_come_back_after_an_error() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(RuntimeError), bulk_collection():
        assert gc.get_threshold() == BULK_GC_THRESHOLD
        assert gc.get_freeze_count() > frozen  # what was loaded is out of the collector's way
        raise RuntimeError("a line went wrong")
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, frozen)


def test_a_batch_run_and_an_audit_leave_the_process_as_they_found_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"sex": "female", "breast_cancer": "new", "tumor_size_cm": 1.5}) + "\n")
    before = gc.get_threshold()
    assert main(["recommend", "--cases", str(cases)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["line"] == 1 and "decided" in answer
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,sex,breast_cancer,tumor_size_cm,procedure\nA-1,female,new,1.5,US axilla\n")
    assert main(["audit", str(orders), "--format", "csv"]) == 0
    assert "A-1" in capsys.readouterr().out
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)
