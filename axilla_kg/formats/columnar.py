"""Writing tables of verdicts as Parquet or Arrow IPC, batch by batch.

The columns are the ones the CSV output has, in the same order, all of them text except ``line``
(64-bit integer), so a program reading the Parquet file and one reading the CSV see the same
table. Batches are written as they come (memory stays flat), into a temporary file that replaces
the target only when every batch was written (:func:`axilla_kg.formats.atomic.open_atomically`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from axilla_kg.formats.atomic import open_atomically

COLUMNAR_FORMATS = ("parquet", "arrow")


def schema(columns: Sequence[str], integers: Sequence[str] = ("line",)) -> Any:
    """The Arrow schema of a table with these columns: ``integers`` as int64, the rest as text."""
    import pyarrow as pa

    return pa.schema([(c, pa.int64() if c in integers else pa.string()) for c in columns])


def to_batch(rows: Sequence[Mapping[str, Any]], table_schema: Any) -> Any:
    """One Arrow record batch of ``rows`` (dicts keyed by column), typed by ``table_schema``."""
    import pyarrow as pa

    arrays = [
        pa.array([row.get(name) for row in rows], type=table_schema.field(name).type) for name in table_schema.names
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=table_schema)


def write_batches(path: Path | str, fmt: str, table_schema: Any, batches: Iterable[Any]) -> int:
    """Stream record batches to a Parquet (``fmt="parquet"``) or Arrow IPC file (``"arrow"``);
    returns the number of rows written."""
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    rows = 0
    with open_atomically(path) as out:
        writer: Any = (
            pq.ParquetWriter(out, table_schema, compression="zstd")
            if fmt == "parquet"
            else ipc.new_file(out, table_schema)
        )
        try:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
        finally:
            writer.close()
    return rows
