"""The flat ratings table: one row per rating, the layout a knowledge engineer reviews against
the ACR site and the layout ``axilla-kg import-ratings`` reads back.

Beyond the issue's minimum (topic, variant, title, procedure, category, RRL, rating, source,
confidence) the table carries median, strength of evidence, the source citation and the
curator's note, because without them an export -> import round trip could not give back the
same graph. ``source`` is the ``file:line`` of the rating's source record.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from axilla_kg.export.rdf import SourceGraph

COLUMNS = [
    "topic",
    "variant",
    "title",
    "procedure",
    "category",
    "rrl",
    "rating",
    "median",
    "soe",
    "source",
    "citation",
    "confidence",
    "notes",
]


def rating_rows(source: SourceGraph, *, topic: str | None = None) -> list[dict[str, str]]:
    """Every rating (of one topic, or all) as a flat row, in topic / variant / source-line order.
    Read through the named query ``export-ratings``: the texts are terminology.ttl's."""
    keys = [topic] if topic is not None else list(source.topics)
    rows: list[tuple[tuple[Any, ...], dict[str, str]]] = []
    for order, key in enumerate(keys):
        source.topic_node(key)
        for found in source.read("export-ratings", topic=key):
            row = {name: found.get(name) or "" for name in COLUMNS if name != "source"}
            file, line = found["file"], found["line"]
            row["topic"] = key
            row["source"] = f"{file}:{line}" if file is not None and line is not None else ""
            sort = (order, int(found["variant"] or 0), file or "", int(line or 0), row["procedure"])
            rows.append((sort, {name: row[name] for name in COLUMNS}))
    return [row for _, row in sorted(rows, key=lambda item: item[0])]


def ratings_csv(source: SourceGraph, *, topic: str | None = None) -> str:
    """The flat ratings table as CSV (RFC 4180 quoting, ``\\n`` line ends, UTF-8)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rating_rows(source, topic=topic))
    return buffer.getvalue()
