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

    The rows are those of the public named query ``variant-ratings`` (one definition of a rating
    row: its texts are terminology.ttl's), one variant at a time, with the variant's title."""
    keys = [topic] if topic is not None else list(source.topics)
    rows: list[tuple[tuple[Any, ...], dict[str, str]]] = []
    for order, key in enumerate(keys):
        source.topic_node(key)
        titles = {row["number"]: row["title"] or "" for row in source.read("export-variants", topic=key)}
        for number, title in titles.items():
            if number is None:
                continue
            for found in source.read("variant-ratings", topic=key, variant=number):
                file, line = found["source_file"], found["source_line"]
                row = {
                    "topic": key,
                    "variant": number,
                    "title": title,
                    "procedure": found["procedure"] or "",
                    "category": found["category"] or "",
                    "rrl": found["rrl"] or "",
                    "rating": found["rating"] or "",
                    "median": found["median"] or "",
                    "soe": found["soe"] or "",
                    "source": f"{file}:{line}" if file is not None and line is not None else "",
                    "citation": found["source"] or "",
                    "confidence": found["confidence"] or "",
                    "notes": found["notes"] or "",
                }
                sort = (order, int(number), file or "", int(line or 0), row["procedure"])
                rows.append((sort, row))
    return [row for _, row in sorted(rows, key=lambda item: item[0])]


def ratings_csv(source: SourceGraph, *, topic: str | None = None) -> str:
    """The flat ratings table as CSV (RFC 4180 quoting, ``\\n`` line ends, UTF-8)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rating_rows(source, topic=topic))
    return buffer.getvalue()
