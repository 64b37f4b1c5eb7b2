"""``audit`` on Parquet and Arrow IPC: the same verdicts as the same orders in CSV, typed columns
read as a CSV cell would be, bad rows reported with their row number, nothing dropped, and the
verdicts written as Parquet/Arrow with the CSV output's columns."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from conftest import run_cli

ORDERS = [
    # order_id, sex, age, breast_cancer, tumor_size_cm, clinical_nodes, imaging done, neoadjuvant, nac_planned,
    # imaging_step, procedure
    ("A-1", "female", 52, "new", 1.5, "positive", True, "none", None, "initial", "US axilla"),
    ("A-2", "female", 52, "new", 1.5, "positive", True, "none", True, "initial", "FDG-PET/CT skull base to mid-thigh"),
    ("A-3", "female", 61, "new", 3.25, "negative", True, "none", None, None, "US axilla"),
    ("A-4", "female", 45, "none", None, None, None, None, None, "initial", "US axilla"),
    ("A-5", "female", 52, "new", 2.0, "positive", True, "none", None, "initial", "Bone scan whole body"),
    ("A-6", "male", 70, "none", None, None, None, None, None, None, "MRI breast without and with IV contrast"),
    ("A-7", "female", 52, "new", -1.0, "positive", True, "none", None, "initial", "US axilla"),  # invalid size
    ("A-8", "female", 52, "new", 1.5, "positive", True, "none", None, "initial", "Ultrasound of the armpit"),
]
COLUMNS = [
    "order_id", "sex", "age", "breast_cancer", "tumor_size_cm", "clinical_nodes", "diagnostic_breast_imaging_done",
    "neoadjuvant", "nac_planned", "imaging_step", "procedure",
]  # fmt: skip
TYPES = [
    pa.string(), pa.string(), pa.int64(), pa.string(), pa.float64(), pa.string(), pa.bool_(), pa.string(),
    pa.bool_(), pa.string(), pa.string(),
]  # fmt: skip


def arrow_table() -> pa.Table:
    return pa.table(
        {c: pa.array([row[i] for row in ORDERS], type=t) for i, (c, t) in enumerate(zip(COLUMNS, TYPES, strict=True))}
    )


def csv_text() -> str:
    """The same orders as a CSV a person would write: empty cell = not known, true/false."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in ORDERS:
        writer.writerow(["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row])
    return out.getvalue()


def verdicts_of_csv(tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(), encoding="utf-8")
    result = run_cli("audit", str(path), "--format", "csv")
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_columnar_orders_get_the_verdicts_of_the_same_csv(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"orders{suffix}"
    if suffix == ".parquet":
        pq.write_table(arrow_table(), path, row_group_size=3)  # several record batches
    else:
        with ipc.new_file(path, arrow_table().schema) as writer:
            writer.write_table(arrow_table(), max_chunksize=3)
    result = run_cli("audit", str(path), "--format", "csv")
    assert result.returncode == 0, result.stderr
    columnar = list(csv.DictReader(io.StringIO(result.stdout)))
    from_csv = verdicts_of_csv(tmp_path)
    assert len(columnar) == len(ORDERS)  # nothing dropped, bad rows included
    # CSV numbers lines of the file (header = line 1); Parquet and Arrow number rows from 1
    assert [int(r["line"]) for r in columnar] == list(range(1, len(ORDERS) + 1))
    assert [int(r["line"]) for r in from_csv] == list(range(2, len(ORDERS) + 2))
    strip = ("line", "message")
    assert [{k: v for k, v in r.items() if k not in strip} for r in columnar] == [
        {k: v for k, v in r.items() if k not in strip} for r in from_csv
    ]
    verdicts = {r["order_id"]: r["verdict"] for r in columnar}
    assert verdicts["A-1"] == "appropriate" and verdicts["A-7"] == verdicts["A-8"] == "invalid"
    bad = {r["order_id"]: r["message"] for r in columnar}
    assert bad["A-7"].startswith(f"orders{suffix}:7: ") and "tumor_size_cm" in bad["A-7"]
    assert bad["A-8"].startswith(f"orders{suffix}:8: ") and "procedure" in bad["A-8"]


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_verdicts_written_as_parquet_or_arrow_have_the_csv_columns(tmp_path: Path, fmt: str) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(csv_text(), encoding="utf-8")
    out = tmp_path / f"verdicts.{fmt}"
    result = run_cli("audit", str(source), "--format", fmt, "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "Summary by verdict" in result.stdout and "A-1" not in result.stdout
    table = pq.read_table(out) if fmt == "parquet" else ipc.open_file(pa.memory_map(str(out))).read_all()
    assert table.schema.field("line").type == pa.int64()
    rows = table.to_pylist()
    expected = verdicts_of_csv(tmp_path)
    assert list(rows[0]) == list(expected[0])
    assert [{k: ("" if v is None else str(v)) for k, v in r.items()} for r in rows] == expected


def test_bad_columnar_inputs_are_one_line_errors(tmp_path: Path) -> None:
    dates = tmp_path / "dates.parquet"
    pq.write_table(pa.table({"procedure": ["US axilla"], "age": pa.array([1], pa.date32())}), dates)
    result = run_cli("audit", str(dates))
    assert result.returncode == 2 and "column 'age' has type date32" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really parquet")
    result = run_cli("audit", str(broken))
    assert result.returncode == 2 and "broken.parquet" in result.stderr and result.stdout == ""
    no_procedure = tmp_path / "np.parquet"
    pq.write_table(pa.table({"sex": ["female"]}), no_procedure)
    result = run_cli("audit", str(no_procedure))
    assert result.returncode == 2 and "'procedure' column" in result.stderr
    result = run_cli("audit", str(no_procedure), "--format", "parquet")
    assert result.returncode == 2 and "--output" in result.stderr


def test_a_failed_audit_leaves_the_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "verdicts.parquet"
    out.write_bytes(b"the previous run")
    bad = tmp_path / "np.parquet"
    pq.write_table(pa.table({"sex": ["female"]}), bad)
    result = run_cli("audit", str(bad), "--format", "parquet", "--output", str(out))
    assert result.returncode == 2
    assert out.read_bytes() == b"the previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["np.parquet", "verdicts.parquet"]  # no temporary left
