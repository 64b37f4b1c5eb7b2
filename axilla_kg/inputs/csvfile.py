"""Strict reading of user CSV tables (``audit`` orders, ``import-ratings`` tables).

Spreadsheet exports come in many encodings. Guessing one would silently change procedure names,
so the text must be UTF-8: a UTF-8 byte-order mark (Excel's "CSV UTF-8") is accepted and dropped,
UTF-16/32 and any other non-UTF-8 byte is one clear error naming the line. The header must be one
line of distinct, non-empty column names under a length limit; a cell over the csv module's field
limit is an error naming its line, never a ``_csv.Error`` traceback.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axilla_kg.errors import DataError
from axilla_kg.inputs.files import MAX_TABLE_BYTES, read_capped

#: Longest header line accepted, in characters.
MAX_HEADER_CHARS = 4096
_WIDE_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


def decode_table(raw: bytes, label: str) -> str:
    """Bytes of a CSV file → text: UTF-8 only (BOM dropped); the error names line and byte."""
    for bom, name in _WIDE_BOMS.items():  # UTF-32-LE starts like UTF-16-LE: longest first
        if raw.startswith(bom):
            raise DataError(f"{label}: the table is {name}; save it as UTF-8 CSV")
    if raw[:2].count(0) == 1 or b"\x00" in raw[:4096]:
        raise DataError(f"{label}: the table holds NUL bytes (UTF-16 without a byte-order mark?); save it as UTF-8 CSV")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{label}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the table as UTF-8 CSV"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


@dataclass(frozen=True)
class Row:
    """One data row: its line number, its cells by column name ('' when missing) and how many
    cells it has beyond the header's columns (a row error for the caller to report)."""

    line: int
    cells: dict[str, str]
    extra: int = 0


@dataclass
class Table:
    """A validated header and an iterator of its rows."""

    header: list[str]
    rows: Iterator[Row]


def read_table(path: Path | str, *, limit: int = MAX_TABLE_BYTES) -> Table:
    """Open a CSV table strictly (see the module docstring); raises :class:`DataError`."""
    label = str(path)
    text = decode_table(read_capped(path, limit, "table"), label)
    first = text.split("\n", 1)[0]
    if len(first) > MAX_HEADER_CHARS:
        raise DataError(f"{label}:1: the header line is longer than {MAX_HEADER_CHARS} characters")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise DataError(f"{label}:1: malformed header: {exc}") from None
    if reader.line_num > 1:
        raise DataError(f"{label}:1: the header must be one line (a column name holds a line break)")
    names = [h.strip() for h in header]
    if not names:
        raise DataError(f"{label}:1: the table is empty (no header line)")
    if "" in names:
        raise DataError(f"{label}:1: column {names.index('') + 1} has no name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"{label}:1: column '{name}' appears twice")
        seen.add(name)
    return Table(names, _rows(reader, names, label))


def _rows(reader: Any, header: list[str], label: str) -> Iterator[Row]:
    width = len(header)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"{label}:{reader.line_num}: {exc}") from None
        if not cells:  # a blank line, as csv.DictReader skips it
            continue
        padded = cells + [""] * (width - len(cells))
        yield Row(reader.line_num, dict(zip(header, padded, strict=False)), max(0, len(cells) - width))
