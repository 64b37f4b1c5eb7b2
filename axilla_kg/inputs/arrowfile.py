"""Orders and cases from Parquet and Arrow IPC files, read in record batches.

Where the orders live (a data lake) they are Parquet files with typed columns, tens of millions of
rows. They are read one record batch at a time (memory stays flat whatever the file's size), and
each cell is turned into the text a CSV cell would hold, so a Parquet row and the same row in CSV
go through one validation path and get one verdict: an integer ``52`` is ``"52"``, a boolean is
``"true"``/``"false"``, a float is its shortest round-trip decimal (``1.5`` → ``"1.5"``; a float
the contract would refuse in CSV, such as ``1e-07``, is refused the same way), a null is an empty
cell ("not known"). Columns of other types (dates, lists, structs, binary) are refused with the
column's name before any row is read. Rows are numbered from 1 in file order, as the verdicts
report them.
"""

from __future__ import annotations

import decimal
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from axilla_kg.errors import DataError

PARQUET_SUFFIXES = (".parquet", ".parq")
ARROW_SUFFIXES = (".arrow", ".feather", ".arrows", ".ipc")
BATCH_ROWS = 65_536


def is_columnar(path: Path | str) -> bool:
    """Whether a path names a Parquet or Arrow IPC file (by its suffix)."""
    return Path(path).suffix.lower() in PARQUET_SUFFIXES + ARROW_SUFFIXES


@dataclass(frozen=True)
class ColumnBatch:
    """One record batch as rows of cell text: ``first`` is the 1-based number of its first row."""

    first: int
    header: list[str]
    columns: list[list[str]]

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        for i in range(len(self)):
            yield self.first + i, {name: column[i] for name, column in zip(self.header, self.columns, strict=True)}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest round trip; 'nan', 'inf', '1e-07' are refused as in a CSV cell
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def column_batch(batch: Any, first: int, header: list[str] | None = None) -> ColumnBatch:
    """An Arrow record batch as cell text (how each type becomes text: see the module docstring);
    ``first`` numbers its first row."""
    names = list(batch.schema.names) if header is None else header
    columns = [[_text(v) for v in batch.column(i).to_pylist()] for i in range(batch.num_columns)]
    return ColumnBatch(first, names, columns)


def check_types(schema: Any, label: str) -> list[str]:
    """The column names of an Arrow schema, once every column is of a type a cell can hold."""
    import pyarrow as pa

    names = list(schema.names)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DataError(f"{label}: column '{dup}' occurs twice")
    for item in schema:
        t = item.type
        text_dictionary = pa.types.is_dictionary(t) and (
            pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)
        )
        if not (
            pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or pa.types.is_integer(t)
            or pa.types.is_floating(t)
            or pa.types.is_boolean(t)
            or pa.types.is_decimal(t)
            or pa.types.is_null(t)
            or text_dictionary
        ):
            raise DataError(f"{label}: column '{item.name}' has type {t}; expected text, numbers or booleans")
    return names


def _raw_batches(path: Path, batch_rows: int) -> tuple[list[str], Iterator[Any]]:
    """The checked header and the Arrow record batches of a Parquet or Arrow IPC file."""
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    label = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            parquet = pq.ParquetFile(path)
            schema = parquet.schema_arrow
            raw: Iterator[Any] = parquet.iter_batches(batch_size=batch_rows)
        elif suffix in ARROW_SUFFIXES:
            source = pa.memory_map(str(path), "r")
            try:
                reader: Any = ipc.open_file(source)
                schema = reader.schema
                raw = (reader.get_batch(i) for i in range(reader.num_record_batches))
            except pa.ArrowInvalid:
                reader = ipc.open_stream(source)
                schema = reader.schema
                raw = iter(reader)
        else:
            raise DataError(f"{label}: not a Parquet (.parquet) or Arrow IPC (.arrow, .feather) file")
    except FileNotFoundError:
        raise DataError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{label}: is a directory") from None
    except (pa.ArrowException, OSError) as exc:
        kind = "Parquet" if suffix in PARQUET_SUFFIXES else "Arrow"
        raise DataError(f"{label}: cannot read it as {kind}: {exc}") from None
    header = check_types(schema, label)

    def checked() -> Iterator[Any]:
        first = 1
        while True:
            try:
                batch = next(raw)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                raise DataError(f"{label}: unreadable from row {first} on: {exc}") from None
            yield batch
            first += batch.num_rows

    return header, checked()


def read_batches(path: Path | str, batch_rows: int = BATCH_ROWS) -> tuple[list[str], Iterator[ColumnBatch]]:
    """The header and an iterator of record batches (as cell text) of a Parquet or Arrow IPC (file
    or stream) file.

    The header is read (and its types checked) before anything else, so a wrong file fails at once
    with one line naming it; a file that breaks later fails with the row where the batch began.
    """
    header, raw = _raw_batches(Path(path), batch_rows)

    def batches() -> Iterator[ColumnBatch]:
        first = 1
        for batch in raw:
            yield column_batch(batch, first, header)
            first += batch.num_rows

    return header, batches()


def _json_value(value: Any) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        # NaN and the infinities as Python's json writes them: the strict reader refuses them
        # naming the field, as it does on a JSON line
        return json.dumps(value).encode()
    if isinstance(value, decimal.Decimal):
        return format(value, "f").encode()
    return json.dumps(str(value), ensure_ascii=False).encode()


class _JsonLines(io.RawIOBase):
    """The rows of a columnar file as JSON Lines, one object per row, made as they are read."""

    def __init__(self, header: list[str], raw: Iterator[Any]) -> None:
        self.header, self.raw, self.pending, self.offset = header, raw, b"", 0
        self.keys = [json.dumps(name, ensure_ascii=False).encode() + b":" for name in header]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.offset >= len(self.pending):
            try:
                batch = next(self.raw)
            except StopIteration:
                return 0
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            lines = []
            for row in zip(*columns, strict=True):
                cells = [key + _json_value(v) for key, v in zip(self.keys, row, strict=True) if v is not None]
                lines.append(b"{" + b",".join(cells) + b"}\n")
            self.pending, self.offset = b"".join(lines), 0
        size = min(len(buffer), len(self.pending) - self.offset)
        buffer[:size] = memoryview(self.pending)[self.offset : self.offset + size]
        self.offset += size
        return size


def json_lines(path: Path | str, batch_rows: int = BATCH_ROWS) -> IO[bytes]:
    """A Parquet or Arrow IPC file of cases as a JSON Lines byte stream (one compact object per
    row, in column order; a null cell is left out, so it is "not known" and a field's default
    applies, as for an empty CSV cell), for the batch reader: row N is line N. Typed cells become
    JSON values (whole numbers, floats as their shortest round trip, booleans, strings); the
    header is checked before this returns."""
    header, raw = _raw_batches(Path(path), batch_rows)
    return io.BufferedReader(_JsonLines(header, raw), buffer_size=1 << 20)


def record_batches(path: Path | str, batch_rows: int = BATCH_ROWS) -> tuple[list[str], Iterator[Any]]:
    """The checked header and the Arrow record batches themselves of a Parquet or Arrow IPC file, for
    a reader that turns cells into text only once per distinct value (:func:`distinct_texts`)."""
    return _raw_batches(Path(path), batch_rows)


def distinct_texts(array: Any) -> tuple[Any, list[str]]:
    """A column as each row's index into its distinct cells' text (the text :func:`column_batch`
    gives a cell; the index of a null cell is ``len(texts)``), as a numpy array: a column of
    millions of rows is turned into text once per distinct value."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_null(array.type):
        return np.zeros(len(array), dtype=np.int64), []
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
    texts = [_text(v) for v in encoded.dictionary.to_pylist()]
    indices = encoded.indices.fill_null(len(texts)).to_numpy(zero_copy_only=False).astype(np.int64)
    return indices, texts
