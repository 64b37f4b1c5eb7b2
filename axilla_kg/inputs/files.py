"""Reading file arguments with a size cap, so ``/dev/zero`` or a runaway file cannot exhaust memory.

Every file a command reads whole (``--case``, the ``audit`` orders, the ``import-ratings`` table)
goes through :func:`read_capped`. It reads at most ``limit + 1`` bytes whatever the file is (a
regular file, a pipe, a character device or standard input), so the memory used is bounded by the
limit. RDF ``--data`` files are parsed by the engines straight from disk; they are capped by size
in :mod:`axilla_kg.inputs.rdfscreen`.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from axilla_kg.errors import DataError

MiB = 1024 * 1024
#: One patient case as JSON (``recommend --case``).
MAX_CASE_BYTES = 1 * MiB
#: A CSV table (``audit`` orders, ``import-ratings`` table).
MAX_TABLE_BYTES = 64 * MiB


def describe_limit(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit} bytes"


def read_capped(name: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of file ``name`` (``-`` is standard input), refusing more than ``limit`` bytes.

    Directories are refused up front; a read error becomes a :class:`DataError` naming the file.
    """
    label = str(name)
    try:
        if label == "-":
            raw = sys.stdin.buffer.read(limit + 1)
        else:
            with open(name, "rb") as handle:
                if stat.S_ISDIR(os.fstat(handle.fileno()).st_mode):  # pragma: no cover - open() refuses first
                    raise DataError(f"{label}: is a directory, not a {what}")
                raw = handle.read(limit + 1)
    except FileNotFoundError:
        raise DataError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{label}: is a directory, not a {what}") from None
    except OSError as exc:
        raise DataError(f"{label}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > limit:
        raise DataError(f"{label}: {what} is larger than the {describe_limit(limit)} limit")
    return raw
