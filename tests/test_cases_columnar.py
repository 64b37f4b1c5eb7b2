"""``recommend --cases`` on Parquet and Arrow IPC: row N of the file is answered as line N of the
same cases in JSON Lines, byte for byte (a null cell left out, as an empty CSV cell), and
``--output`` writes the answers as a table whose ``json`` column holds exactly the JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from conftest import run_cli

CASES = pa.table(
    {
        "sex": ["female", "female", "female", "male", None],
        "age": pa.array([52, None, 40, 17, 33], pa.int64()),
        "breast_cancer": ["new", "none", "new", None, "new"],
        "tumor_size_cm": pa.array([1.5, None, float("nan"), None, 2.0000001]),
        "clinical_nodes": ["positive", None, None, None, "negative"],
        "diagnostic_breast_imaging_done": pa.array([True, None, None, None, False]),
        "axillary_lump": [None, "unilateral", None, "bilateral", None],
    }
)


def json_lines_of(table: pa.Table) -> str:
    """The same cases typed by hand as JSON Lines (independent of the adapter): nulls left out."""
    lines = []
    for row in table.to_pylist():
        cells = []
        for key, value in row.items():
            if value is None:
                continue
            text = "NaN" if isinstance(value, float) and value != value else json.dumps(value)
            cells.append(f'"{key}":{text}')
        lines.append("{" + ",".join(cells) + "}\n")
    return "".join(lines)


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_columnar_cases_are_answered_as_the_same_json_lines(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"cases{suffix}"
    if suffix == ".parquet":
        pq.write_table(CASES, path, row_group_size=2)
    else:
        with ipc.new_file(path, CASES.schema) as writer:
            writer.write_table(CASES, max_chunksize=2)
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text(json_lines_of(CASES), encoding="utf-8")
    expected = run_cli("recommend", "--cases", str(jsonl), "--detail", "brief")
    got = run_cli("recommend", "--cases", str(path), "--detail", "brief")
    assert expected.returncode == got.returncode == 0, got.stderr
    assert got.stdout == expected.stdout
    answers = [json.loads(line) for line in got.stdout.splitlines()]
    assert [a["line"] for a in answers] == [1, 2, 3, 4, 5]
    assert answers[2]["field"] == "tumor_size_cm" and "NaN" in answers[2]["error"]
    assert answers[4]["field"] == "sex"  # a case without its required sex


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_answers_written_as_a_table_hold_the_json_lines(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "cases.parquet"
    pq.write_table(CASES, path)
    out = tmp_path / f"answers.{fmt}"
    result = run_cli("recommend", "--cases", str(path), "--detail", "brief", "--output", str(out))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    table = pq.read_table(out) if fmt == "parquet" else ipc.open_file(pa.memory_map(str(out))).read_all()
    lines = run_cli("recommend", "--cases", str(path), "--detail", "brief").stdout.splitlines()
    assert table.column("json").to_pylist() == lines
    assert table.column("line").to_pylist() == [json.loads(x)["line"] for x in lines]
    assert table.column("field").to_pylist() == [json.loads(x).get("field") for x in lines]
    assert table.column("error").to_pylist() == [json.loads(x).get("error") for x in lines]


def test_json_lines_output_and_bad_inputs(tmp_path: Path) -> None:
    path = tmp_path / "cases.parquet"
    pq.write_table(CASES, path)
    out = tmp_path / "answers.jsonl"
    assert run_cli("recommend", "--cases", str(path), "--detail", "brief", "-o", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == run_cli("recommend", "--cases", str(path), "--detail", "brief").stdout
    dates = tmp_path / "dates.parquet"
    pq.write_table(pa.table({"sex": ["female"], "age": pa.array([1], pa.date32())}), dates)
    result = run_cli("recommend", "--cases", str(dates), "-o", str(tmp_path / "x.parquet"))
    assert result.returncode == 2 and "column 'age' has type date32" in result.stderr and result.stdout == ""
    assert not (tmp_path / "x.parquet").exists()
    result = run_cli("recommend", "--sex", "female", "--output", str(tmp_path / "y.jsonl"))
    assert result.returncode == 2 and "--output" in result.stderr
