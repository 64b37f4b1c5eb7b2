"""``axilla-kg import-ratings``: a flat ratings table (the layout ``export --format csv`` writes)
-> the Turtle of one topic's variants and ratings.

A user with access to the full ACR tables can complete or update the graph this way. The rows go
through the same code as the curated reference (``axilla_kg.authoring.ingest``), so a rating
imported here is built exactly like a generated one; only the errors are reported at the imported
table's own line numbers and under its column names (``RowError.at``). Every row is validated
before anything is written.

The ``source`` column (``file:line``) names the rating's source record; it is what makes
export -> import give back the identical graph. Left empty, the record is the imported table's
own line. Either way the record's IRI is minted from the row's content (``ingest.source_record_iri``),
so it is the shipped record's IRI exactly when the row is the shipped rating.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from axilla_kg.authoring.ingest import (
    TopicContent,
    TopicInfo,
    VariantInfo,
    int_cell,
    known_procedures,
    rating_resources,
    read_rows,
    topic_resources,
)
from axilla_kg.errors import DataError, RowError, UsageError
from axilla_kg.export.table import COLUMNS
from axilla_kg.formats.turtle import Resource, document
from axilla_kg.vocab import curie

REQUIRED = ["topic", "variant", "title", "procedure", "category", "rrl", "rating", "confidence"]
_SOURCE = re.compile(r"^(?P<file>[^:/\\]+):(?P<line>\d+)$")
_FIELD_NAMES = {
    "appropriateness_category": "category",
    "relative_radiation_level": "rrl",
    "rating_1_to_9": "rating",
    "source_url": "citation",
}
_TOPIC_KEY = re.compile(r"(?P<number>[0-9]{1,6})(?:-(?P<year>[0-9]{4}))?")
#: A topic title is one line of text: no control characters (a newline would be a new line of Turtle).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_TITLE_CHARS = 500


@dataclass(frozen=True)
class ExistingTopic:
    """What the shipped graph already knows about the topic being imported."""

    info: TopicInfo
    definition_sources: dict[int, str]


def existing_topic(key: str) -> ExistingTopic | None:
    """Topic metadata and variant definition sources from the shipped graph (None if absent);
    the reasoner-derived triples are not read."""
    from axilla_kg.graph.knowledge import KnowledgeGraph
    from axilla_kg.graph.reads import texts

    kg = KnowledgeGraph.load(include_inferred=False)
    records = kg.read("topic-record", topic=key).records()
    if not records:
        return None
    row = records[0]
    superseded = row["superseded_key"]
    info = TopicInfo(key, int(str(row["number"])), str(row["title"]), str(row["edition"]), _text(superseded))
    sources: dict[int, str] = {}
    for _topic, number, definition in texts(kg.read("topic-definition-sources", topic=key)):
        if number is not None and definition is not None:
            sources[int(str(number))] = curie(str(definition), plain=True) or str(definition)
    return ExistingTopic(info, sources)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def import_ratings(table: Path, topic: str, *, topic_title: str | None = None) -> str:
    """Validate every row of ``table`` and return the topic's Turtle; raises DataError (naming
    the line) on the first bad row, before anything is written."""
    match = _TOPIC_KEY.fullmatch(topic)
    if not match:
        raise UsageError(f"topic key must be a number or NUMBER-YEAR (e.g. 286, 235-2017), got {topic!r}")
    if topic_title is not None:
        _check_title(topic_title)
    known = existing_topic(topic)
    if known is None and not topic_title:
        raise UsageError(f"topic '{topic}' is not in the graph: give its title with --topic-title")
    info = (
        known.info
        if known is not None
        else TopicInfo(topic, int(match["number"]), topic_title or "", match["year"] or "current")
    )
    content = TopicContent(info)
    procedures = known_procedures()
    rows = read_rows(table, REQUIRED)
    if not rows:
        raise DataError(f"{table.name}: no rating rows")
    seen: dict[tuple[str, int, str], int] = {}
    records: dict[tuple[str, int], int] = {}
    first_line: dict[int, int] = {}
    for line, row in rows:
        extra = [c for c in row if c not in COLUMNS]
        if extra:
            raise DataError(f"{table.name}:1: unknown column(s): {', '.join(extra)}")
        if row["topic"] != topic:
            raise DataError(f"{table.name}:{line}: field 'topic' is '{row['topic']}', expected '{topic}'")
        variant = int_cell(table, line, "variant", row["variant"], 1, 99)
        if variant is None:
            raise DataError(f"{table.name}:{line}: field 'variant' is empty")
        if not row["title"]:
            raise DataError(f"{table.name}:{line}: field 'title' is empty")
        key = (topic, variant, row["procedure"])
        if key in seen:
            raise DataError(
                f"{table.name}:{line}: procedure '{row['procedure']}' is rated twice in variant {variant} "
                f"(first on line {seen[key]})"
            )
        seen[key] = line
        source_file, source_line = table.name, line
        if row.get("source"):
            found = _SOURCE.match(row["source"])
            if not found:
                raise DataError(f"{table.name}:{line}: field 'source' must be FILE:LINE, got '{row['source']}'")
            source_file, source_line = found["file"], int(found["line"])
        record = (source_file, source_line)
        if record in records:
            raise DataError(
                f"{table.name}:{line}: field 'source' repeats '{source_file}:{source_line}' (first on line "
                f"{records[record]}); each rating needs its own source line"
            )
        records[record] = line
        ingest_row = {
            "procedure": row["procedure"],
            "appropriateness_category": row["category"],
            "relative_radiation_level": row["rrl"],
            "rating_1_to_9": row["rating"],
            "median": row.get("median", ""),
            "soe": row.get("soe", ""),
            "source_url": row.get("citation", ""),
            "confidence": row["confidence"],
            "notes": row.get("notes", ""),
        }
        try:
            resources: list[Resource] = rating_resources(
                Path(source_file), source_line, ingest_row, topic, variant, procedures, {}
            )
        except RowError as exc:  # ingest names the source record's line; the user needs the table's own
            raise exc.at(table.name, line, _FIELD_NAMES) from None
        known_variant = content.variants.get(variant)
        if known_variant is None:
            definition = (known.definition_sources.get(variant) if known else None) or resources[1].subject
            content.variants[variant] = VariantInfo(variant, row["title"], definition)
            first_line[variant] = line
        elif known_variant.title != row["title"]:
            raise DataError(
                f"{table.name}:{line}: field 'title' differs from the title of variant {variant} "
                f"on line {first_line[variant]}"
            )
        content.resources.extend(resources)
    header = [
        f"axilla-kg topic {info.key}: {info.title} ({info.edition} edition).",
        f"IMPORTED by `axilla-kg import-ratings {table.name} --topic {topic}` from a flat ratings table.",
        "Every rating is ax:hasSourceRecord the ax:SourceRecord of its source line.",
        "ACR content (c) American College of Radiology.",
    ]
    resources = topic_resources(content) + content.resources
    return checked_document(header, resources)


def _check_title(title: str) -> None:
    if _CONTROL.search(title):
        raise UsageError(f"--topic-title must be one line of text without control characters, got {title!r}")
    if len(title) > MAX_TITLE_CHARS:
        raise UsageError(f"--topic-title is longer than {MAX_TITLE_CHARS} characters")
    if not title.strip():
        raise UsageError("--topic-title is empty")
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"--topic-title is not valid Unicode text (undecodable bytes?): {title!r}") from None


def checked_document(header: list[str], resources: list[Resource]) -> str:
    """The Turtle text, parsed back to prove it holds exactly the triples the resources describe:
    one per (predicate, value) pair. Whatever a user put in a title, file name or cell, a text
    that parses to any other triples is never written."""
    import pyoxigraph

    text = document(header, resources)
    expected = sum(len(r.pairs) for r in resources)
    try:
        found = sum(1 for _ in pyoxigraph.parse(text.encode("utf-8"), format=pyoxigraph.RdfFormat.TURTLE))
    except SyntaxError as exc:  # pragma: no cover - the writer escapes every value
        raise DataError(f"internal error: the generated Turtle does not parse ({exc}); nothing written") from None
    if found != expected:  # pragma: no cover - the writer escapes every value
        raise DataError(f"internal error: the generated Turtle holds {found} triples, not {expected}; nothing written")
    return text
