"""Screening RDF files before a parser sees them: size cap, and no XML entities in RDF/XML.

Both engines' RDF/XML parsers expand internal entities, so a 959-byte "billion laughs" file
grows to gigabytes in memory. RDF/XML never needs a DOCTYPE (entities are only a way to shorten
IRIs), so any document type declaration — and with it every entity definition — is refused
before parsing. The scan is over raw bytes, in fixed-size chunks, so it is linear and bounded in
memory. A file not in UTF-8 (UTF-16/32 byte-order marks, NUL bytes near the start) is refused
too: it could hide the declaration from a byte scan, and neither engine needs it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from axilla_kg.errors import DataError
from axilla_kg.inputs.files import MiB, describe_limit

#: Largest RDF file accepted as ``--data`` (the shipped graph is under 2 MiB).
MAX_RDF_BYTES = 512 * MiB
XML_SUFFIXES = frozenset({".rdf", ".owl", ".xml"})
_CHUNK = 1 << 20
_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_OVERLAP = max(len(m) for m in _MARKERS) - 1


def screen_rdf_file(path: Path, limit: int = MAX_RDF_BYTES) -> None:
    """Refuse what no parser should be handed; raises :class:`DataError` naming the file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{path}: not a regular file (a directory, pipe or device cannot be RDF data)")
    if info.st_size > limit:
        raise DataError(f"{path}: RDF file larger than the {describe_limit(limit)} limit")
    if path.suffix.lower() in XML_SUFFIXES:
        _screen_xml(path)


def _screen_xml(path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
                raise DataError(f"{path}: RDF/XML must be UTF-8 (this file looks like UTF-16 or UTF-32)")
            handle.seek(0)
            tail = b""
            lines_before_tail = 0  # newlines in the file before ``tail`` starts
            while chunk := handle.read(_CHUNK):
                window = tail + chunk
                found = [i for i in (window.find(m) for m in _MARKERS) if i >= 0]
                if found:
                    line = lines_before_tail + window.count(b"\n", 0, min(found)) + 1
                    raise DataError(
                        f"{path}:{line}: RDF/XML with a DOCTYPE or entity declaration is refused "
                        "(entity expansion can exhaust memory); write the IRIs out in full"
                    )
                tail = window[-_OVERLAP:]
                lines_before_tail += window.count(b"\n") - tail.count(b"\n")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
