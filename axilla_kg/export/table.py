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

import rdflib
from rdflib import URIRef

from axilla_kg.export.rdf import AX, SourceGraph
from axilla_kg.vocab import CATEGORIES, CONFIDENCES, RRLS, SOES, text_by_iri

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


def _reverse(table: dict[str, str]) -> dict[URIRef, str]:
    return {URIRef(iri): text for iri, text in text_by_iri(table).items()}


CATEGORY_TEXT = _reverse(CATEGORIES)
RRL_TEXT = _reverse(RRLS)
SOE_TEXT = _reverse(SOES)
CONFIDENCE_TEXT = _reverse(CONFIDENCES)


def _one(graph: rdflib.Graph, subject: Any, predicate: URIRef) -> Any:
    return next(iter(sorted(graph.objects(subject, predicate), key=str)), None)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def rating_rows(source: SourceGraph, *, topic: str | None = None) -> list[dict[str, str]]:
    """Every rating (of one topic, or all) as a flat row, in topic / variant / source-line order."""
    g = source.graph
    keys = [topic] if topic is not None else list(source.topics)
    rows: list[tuple[tuple[Any, ...], dict[str, str]]] = []
    for order, key in enumerate(keys):
        topic_node = source.topic_node(key)
        for variant in g.subjects(AX.inTopic, topic_node):
            number = _one(g, variant, AX.variantNumber)
            title = _one(g, variant, AX.officialTitle)
            for rating in g.subjects(AX.ratedVariant, variant):
                record = _one(g, rating, AX.hasSourceRecord)
                file, line = _one(g, record, AX.sourceFile), _one(g, record, AX.sourceRow)
                median = _one(g, rating, AX.medianRating) or _one(g, rating, AX.medianAsPrinted)
                row = {
                    "topic": key,
                    "variant": _text(number),
                    "title": _text(title),
                    "procedure": _text(_one(g, _one(g, rating, AX.ratedProcedure), AX.procedureName)),
                    "category": CATEGORY_TEXT.get(_one(g, rating, AX.category), ""),
                    "rrl": RRL_TEXT.get(_one(g, rating, AX.listedRRL), ""),
                    "rating": _text(_one(g, rating, AX.ratingScore)),
                    "median": _text(median),
                    "soe": SOE_TEXT.get(_one(g, rating, AX.strengthOfEvidence), ""),
                    "source": f"{file}:{line}" if file is not None and line is not None else "",
                    "citation": _text(_one(g, record, AX.sourceCitation)),
                    "confidence": CONFIDENCE_TEXT.get(_one(g, rating, AX.confidence), ""),
                    "notes": _text(_one(g, record, AX.curatorNote)),
                }
                sort = (order, int(number or 0), _text(file), int(line or 0), row["procedure"])
                rows.append((sort, row))
    return [row for _, row in sorted(rows, key=lambda item: item[0])]


def ratings_csv(source: SourceGraph, *, topic: str | None = None) -> str:
    """The flat ratings table as CSV (RFC 4180 quoting, ``\\n`` line ends, UTF-8)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rating_rows(source, topic=topic))
    return buffer.getvalue()
