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


def open_writer(out: Any, fmt: str, table_schema: Any) -> Any:
    """A Parquet (``fmt="parquet"``) or Arrow IPC (``"arrow"``) batch writer over a binary file."""
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    if fmt == "parquet":
        return pq.ParquetWriter(out, table_schema, compression="zstd")
    return ipc.new_file(out, table_schema)


def write_batches(path: Path | str, fmt: str, table_schema: Any, batches: Iterable[Any]) -> int:
    """Stream record batches to a Parquet (``fmt="parquet"``) or Arrow IPC file (``"arrow"``);
    returns the number of rows written."""
    rows = 0
    with open_atomically(path) as out:
        writer = open_writer(out, fmt, table_schema)
        try:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
        finally:
            writer.close()
    return rows


class JsonLinesTable:
    """A sink for JSON Lines answers (``write(bytes)``, as the batch recommender writes) that
    stores them as a Parquet or Arrow IPC table: ``line`` (int64), ``error`` and ``field`` (text,
    null for an answered case) and ``json``, the answer line itself, byte for byte what the JSON
    Lines output holds. Lines are gathered into record batches and written as they fill."""

    ROWS = 65_536

    def __init__(self, out: Any, fmt: str) -> None:
        import msgspec
        import pyarrow as pa

        class _Head(msgspec.Struct):
            line: int
            error: str | None = None
            field: str | None = None

        self._decode = msgspec.json.Decoder(_Head).decode
        self.schema = pa.schema(
            [("line", pa.int64()), ("error", pa.string()), ("field", pa.string()), ("json", pa.string())]
        )
        self.writer = open_writer(out, fmt, self.schema)
        self.rows = 0
        self._pending = b""
        self._lines: list[bytes] = []

    def write(self, data: bytes) -> int:
        parts = (self._pending + data).split(b"\n")
        self._pending = parts.pop()
        self._lines.extend(parts)
        if len(self._lines) >= self.ROWS:
            self._flush_batch()
        return len(data)

    def _flush_batch(self) -> None:
        import pyarrow as pa

        if not self._lines:
            return
        heads = [self._decode(line) for line in self._lines]
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array([h.line for h in heads], pa.int64()),
                pa.array([h.error for h in heads], pa.string()),
                pa.array([h.field for h in heads], pa.string()),
                pa.array([line.decode() for line in self._lines], pa.string()),
            ],
            schema=self.schema,
        )
        self.writer.write_batch(batch)
        self.rows += len(self._lines)
        self._lines = []

    def flush(self) -> None:
        """Called by the batch runner after each block; batches are written when full or at close."""

    def close(self) -> None:
        if self._pending:
            self._lines.append(self._pending)
            self._pending = b""
        self._flush_batch()
        self.writer.close()
