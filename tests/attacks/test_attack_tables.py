"""Attack corpus: CSV tables for ``audit`` and ``import-ratings`` (issue 11), in process."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from axilla_kg.errors import DataError
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.inputs.csvfile import MAX_HEADER_CHARS, read_table
from axilla_kg.recommend.audit import audit_orders
from axilla_kg.recommend.recommender import Recommender

HEADER = (
    "order_id,sex,breast_cancer,tumor_size_cm,clinical_nodes,diagnostic_breast_imaging_done,"
    "neoadjuvant,imaging_step,procedure\n"
)
ROW = "A-1,female,new,1.5,positive,true,none,initial,US axilla\n"


@pytest.fixture(scope="module")
def rec(kg: KnowledgeGraph) -> Recommender:
    return Recommender.load(kg)


def _orders(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    return path


def test_excel_utf8_bom_is_accepted(rec: Recommender, tmp_path: Path) -> None:
    plain = audit_orders(rec, _orders(tmp_path, (HEADER + ROW).encode()))
    with_bom = audit_orders(rec, _orders(tmp_path, codecs.BOM_UTF8 + (HEADER + ROW).encode()))
    assert with_bom.orders == plain.orders
    assert plain.orders[0]["verdict"] == "appropriate"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((HEADER + ROW).encode("utf-16"), "the table is UTF-16; save it as UTF-8 CSV"),
        ((HEADER + ROW).encode("utf-16-le"), "NUL bytes"),
        (
            HEADER.encode() + b"A-1,female,new,1.5,positive,true,none,initial,US axilla\xe9\n",
            r"orders.csv:2: not UTF-8 text \(byte 0xe9\)",
        ),
        (b"procedure," + b"x" * (MAX_HEADER_CHARS + 10) + b"\n", "header line is longer than"),
        (b"procedure,sex,sex\nUS axilla,female,male\n", "column 'sex' appears twice"),
        (b"procedure,,sex\n", "column 2 has no name"),
        (b"", "the table is empty"),
    ],
)
def test_bad_tables_are_one_clear_error(rec: Recommender, tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message) as caught:
        audit_orders(rec, _orders(tmp_path, data))
    assert "\n" not in str(caught.value)


def test_oversize_cell_is_an_error_naming_the_line(rec: Recommender, tmp_path: Path) -> None:
    data = (HEADER + ROW).encode() + b"A-2,female,new,1.5,positive,true," + b"x" * 200_000 + b"\n"
    with pytest.raises(DataError, match=r"orders.csv:3: field larger than field limit"):
        audit_orders(rec, _orders(tmp_path, data))


def test_endless_input_is_capped(rec: Recommender) -> None:
    with pytest.raises(DataError, match="/dev/zero: table is larger than the 64 MiB limit"):
        audit_orders(rec, Path("/dev/zero"))


@pytest.mark.parametrize(("column", "cell"), [("tumor_size_cm", "1_5"), ("tumor_size_cm", "1e1"), ("age", "4_5")])
def test_number_cells_in_plain_decimal_only(rec: Recommender, tmp_path: Path, column: str, cell: str) -> None:
    """1_5 was read as 15 cm (greater than 2 cm: a different variant)."""
    data = f"{column},sex,breast_cancer,procedure\n{cell},female,new,US axilla\n".encode()
    if column == "age":
        data = f"age,sex,procedure\n{cell},female,US axilla\n".encode()
    (order,) = audit_orders(rec, _orders(tmp_path, data)).orders
    assert order["verdict"] == "invalid"
    assert f"field '{column}'" in order["message"] and "plain decimal" in order["message"]


def test_extra_cells_are_a_row_error(rec: Recommender, tmp_path: Path) -> None:
    data = (HEADER + "A-1,female,new,1.5,positive,true,none,initial,US axilla,extra\n" + ROW).encode()
    first, second = audit_orders(rec, _orders(tmp_path, data)).orders
    assert first["verdict"] == "invalid" and "more cells" in first["message"]
    assert second["verdict"] == "appropriate"


def test_table_rows_and_lines(tmp_path: Path) -> None:
    table = read_table(_orders(tmp_path, b'a,b\n1,"two\nlines"\n\n3\n'))
    rows = list(table.rows)
    assert table.header == ["a", "b"]
    assert [(r.line, r.cells) for r in rows] == [(3, {"a": "1", "b": "two\nlines"}), (5, {"a": "3", "b": ""})]
