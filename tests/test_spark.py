"""The Spark path of the audit (PySpark in local mode, a real JVM): the verdicts of
``axilla-kg audit ORDERS.parquet --spark 'local[2]'`` and of :func:`axilla_kg.spark.audit_dataframe`
are, row for row, those of the single-process ``axilla-kg audit`` of the same orders."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from conftest import cli_env, run_cli, run_cli_subprocess

pytestmark = pytest.mark.slow

ROWS = 6_000
# A guard against a hung Spark process, not a speed limit: a cold Spark start under CI load took
# more than the default 120 s of run_cli_subprocess once.
SPARK_GUARD = 900
BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "audit_scale.py"


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("audit_scale", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Realistic orders (the benchmark's generator): continuous ages and sizes, unknown cells,
    several procedures, a share of invalid rows, in several row groups."""
    path = tmp_path_factory.mktemp("orders") / "orders.parquet"
    _generator().generate(path, ROWS, seed=7, row_group_size=1_000)  # type: ignore[attr-defined]
    return path


@pytest.fixture(scope="module")
def single(orders: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    out = tmp_path_factory.mktemp("single") / "verdicts.parquet"
    result = run_cli("audit", str(orders), "--format", "parquet", "--output", str(out))
    assert result.returncode == 0, result.stderr
    return pq.read_table(out).to_pylist()


def test_the_cli_spark_path_gives_the_single_process_verdicts(
    orders: Path, single: list[dict[str, object]], tmp_path: Path
) -> None:
    pytest.importorskip("pyspark", reason="pip install '.[test]' installs PySpark")
    out = tmp_path / "spark-verdicts"
    result = run_cli_subprocess(
        "audit",
        str(orders),
        "--spark",
        "local[2]",
        "--output",
        str(out),
        "--format",
        "parquet",
        cwd=Path("."),
        timeout=SPARK_GUARD,
    )
    assert result.returncode == 0, result.stderr
    spark_rows = sorted(ds.dataset(out, format="parquet").to_table().to_pylist(), key=lambda r: r["line"])
    assert len(spark_rows) == len(single) == ROWS
    assert spark_rows == single
    verdicts = {r["verdict"] for r in single}
    assert {"appropriate", "invalid", "needs more information"} <= verdicts  # a mix, not one kind
    summary = run_cli_subprocess(
        "audit", str(orders), "--spark", "local[2]", "--format", "json", cwd=Path("."), timeout=SPARK_GUARD
    )
    assert summary.returncode == 0, summary.stderr
    counts = {r["verdict"]: r["orders"] for r in json.loads(summary.stdout)["by_verdict"]}
    assert sum(counts.values()) == ROWS
    assert counts == {v: sum(1 for r in single if r["verdict"] == v) for v in counts}


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    pytest.importorskip("pyspark", reason="pip install '.[test]' installs PySpark")
    from axilla_kg.spark import session

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = cli_env()["PYTHONPATH"]  # Spark's Python workers import this checkout
    spark = session("local[2]", "axilla-kg tests")
    try:
        yield spark
    finally:
        spark.stop()  # type: ignore[attr-defined]
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def test_audit_dataframe_on_a_dataframe_built_in_spark(
    spark: object, orders: Path, single: list[dict[str, object]]
) -> None:
    """A DataFrame made in Spark from Python rows (typed as in the file), numbered by a column."""
    from axilla_kg.spark import audit_dataframe

    table = pq.read_table(orders)
    spark_types = {"string": "string", "int64": "long", "double": "double", "bool": "boolean"}
    ddl = ", ".join(f"`{f.name}` {spark_types[str(f.type)]}" for f in table.schema) + ", `n` long"
    data = [{**row, "n": i} for i, row in enumerate(table.to_pylist(), start=1)]
    frame = spark.createDataFrame(data, ddl)  # type: ignore[attr-defined]
    rows = sorted(
        (r.asDict() for r in audit_dataframe(frame, line_column="n", source="orders.parquet").collect()),
        key=lambda r: r["line"],
    )
    assert rows == single


def test_spark_refuses_what_it_cannot_read_in_one_line(tmp_path: Path) -> None:
    csv_orders = tmp_path / "orders.csv"
    csv_orders.write_text("procedure\nUS axilla\n", encoding="utf-8")
    result = run_cli("audit", str(csv_orders), "--spark", "local[2]")
    assert result.returncode == 2 and "--spark reads Parquet" in result.stderr and result.stdout == ""
    result = run_cli("audit", str(tmp_path / "missing.parquet"), "--spark", "local[2]")
    assert result.returncode == 2 and "no such file" in result.stderr and "Traceback" not in result.stderr
