"""Curated reference tables (CSV) -> Turtle for the topic files under ``ontology/generated``.

The ratings are facts copied row by row from the curated reference; generating their Turtle
rather than typing it keeps every rating traceable to its CSV line (each rating is derived
from an ``ax:SourceRecord`` naming file and line) and makes transcription errors impossible.
A row that cannot be read is an error naming the file, the line and the field; nothing is
written unless every row is valid.

Run ``python -m axilla_kg.authoring.ingest --reference ../shared/reference`` to regenerate.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from axilla_kg import vocab
from axilla_kg.authoring import definitions
from axilla_kg.errors import DataError, RowError
from axilla_kg.formats.atomic import write_all_atomically
from axilla_kg.formats.turtle import Lang, Ref, Resource, document
from axilla_kg.inputs.csvfile import read_table
from axilla_kg.resources import ontology_dir

AXILLA_TOPIC = 286
AXILLA_TITLE = "Imaging of the Axilla"

_URL = re.compile(r"https?://[^\s;()]+")
_TABULATION = re.compile(r"final tabulations[^0-9]*((?:\d+\s*,\s*){8}\d+)")
_TOPIC_CELL = re.compile(r"^(\d+)\s+(.+?)(?:\s+\((current|(\d{4}) version[^)]*)\))?$")


def slug(text: str) -> str:
    """Stable IRI-safe local name of a procedure or topic key."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def procedure_iri(name: str) -> str:
    return f"axd:proc-{slug(name)}"


def topic_iri(key: str) -> str:
    return f"axd:topic-{key}"


def variant_iri(key: str, number: int) -> str:
    return f"axd:topic-{key}-variant-{number}"


def source_record_iri(file_stem: str, topic_key: str, variant: int, procedure: str | None = None) -> str:
    """The IRI of the source record of one reference row, minted from what the row is about.

    A row of a ratings table is the rating of one procedure in one variant of one topic (a
    procedure rated twice is an error), a row of a variants table is one variant: that content
    names the row. The file's line number is data (``ax:sourceRow``), never part of the IRI, so
    inserting or sorting rows renames nothing. (IRIs ending in ``-row-N`` were minted from line
    numbers up to 0.1.0; ``ontology/deprecated.ttl`` keeps them, deprecated, with their
    replacements.)
    """
    iri = f"axd:src-{slug(file_stem)}-{slug(topic_key)}-v{variant}"
    return f"{iri}-{slug(procedure)}" if procedure is not None else iri


@dataclass
class TopicInfo:
    key: str
    number: int
    title: str
    edition: str
    superseded_by: str | None = None


@dataclass
class VariantInfo:
    number: int
    title: str
    source_iri: str


@dataclass
class TopicContent:
    topic: TopicInfo
    variants: dict[int, VariantInfo] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)


def known_procedures(path: Path | None = None) -> set[str]:
    """Exact ACR procedure names declared in ``procedures.ttl`` (parsed as RDF, not scraped)."""
    import pyoxigraph

    from axilla_kg.graph.reads import read_store, texts

    source = path or ontology_dir() / "procedures.ttl"
    store = pyoxigraph.Store()
    store.bulk_load(path=str(source), format=pyoxigraph.RdfFormat.TURTLE)
    return {str(name) for (name,) in texts(read_store(store, "procedure-names"))}


def read_rows(path: Path, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV table (strict UTF-8, size-capped: :func:`axilla_kg.inputs.csvfile.read_table`)
    as ``(line, cells)``; cells beyond the header's columns are ignored. Public because
    ``import-ratings`` reads its tables the same way."""
    table = read_table(path)
    missing = [c for c in required if c not in table.header]
    if missing:
        raise DataError(f"{path}:1: missing column(s): {', '.join(missing)}")
    return [(row.line, {k: v.strip() for k, v in row.cells.items()}) for row in table.rows]


def int_cell(path: Path, line: int, name: str, text: str, low: int, high: int) -> int | None:
    """A whole number in ``low..high`` (None for an empty cell), else a RowError naming file, line and field."""
    if text == "":
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise RowError(path.name, line, f"must be a whole number {low}-{high}, got '{text}'", name)
    return int(text)


def _lookup(path: Path, line: int, name: str, text: str, table: dict[str, str]) -> str:
    if text not in table:
        choices = ", ".join(repr(k) for k in table if k)
        raise RowError(path.name, line, f"has unknown value '{text}' (expected one of {choices})", name)
    return table[text]


def _source_record(iri: str, path: Path, line: int, citation: str, notes: str, confidence: str) -> Resource:
    record = Resource(iri)
    record.add("a", Ref("ax:SourceRecord")).add("a", Ref("owl:NamedIndividual"))
    record.add("rdfs:label", Lang(f"{path.name} line {line}"))
    record.add("ax:sourceFile", path.name).add("ax:sourceRow", line)
    record.add("ax:sourceCitation", citation)
    for url in sorted(set(_URL.findall(citation))):
        record.add("dcterms:source", Ref(url))
    if notes:
        record.add("ax:curatorNote", notes)
    record.add("ax:confidence", Ref(confidence))
    return record


def rating_resources(
    path: Path,
    line: int,
    row: dict[str, str],
    topic_key: str,
    variant: int,
    procedures: set[str],
    seen: dict[tuple[str, int, str], int],
) -> list[Resource]:
    """One validated reference row as ``[rating, source record]``; the one place a rating's triples
    are built, shared by the generator and ``import-ratings`` so both give identical graphs. A bad
    cell raises :class:`~axilla_kg.errors.RowError` naming ``path``'s name, ``line`` and the field
    (under ``ingest``'s column names), which ``import-ratings`` re-reports at its own table's line."""
    procedure = row["procedure"]
    if procedure not in procedures:
        raise RowError(path.name, line, f"names unknown procedure '{procedure}'", "procedure")
    key = (topic_key, variant, procedure)
    if key in seen:
        raise RowError(
            path.name,
            line,
            f"procedure '{procedure}' is rated twice in topic {topic_key} variant {variant} "
            f"(first on line {seen[key]})",
        )
    seen[key] = line
    category = _lookup(path, line, "appropriateness_category", row["appropriateness_category"], vocab.categories())
    confidence = _lookup(path, line, "confidence", row["confidence"], vocab.confidences())
    iri = source_record_iri(path.stem, topic_key, variant, procedure)
    source = _source_record(iri, path, line, row["source_url"], row.get("notes", ""), confidence)
    rating = Resource(f"axd:rating-{topic_key}-{variant}-{slug(procedure)}")
    rating.add("a", Ref("ax:AppropriatenessRating")).add("a", Ref("owl:NamedIndividual"))
    rating.add("rdfs:label", Lang(f"{procedure} in topic {topic_key} variant {variant}"))
    rating.add("ax:ratedVariant", Ref(variant_iri(topic_key, variant)))
    rating.add("ax:ratedProcedure", Ref(procedure_iri(procedure)))
    rating.add("ax:category", Ref(category))
    rrl = row["relative_radiation_level"]
    if rrl:
        rating.add("ax:listedRRL", Ref(_lookup(path, line, "relative_radiation_level", rrl, vocab.rrls())))
    rating.add("ax:ratingScore", int_cell(path, line, "rating_1_to_9", row["rating_1_to_9"], 1, 9))
    median = row["median"]
    if median.isdigit():
        rating.add("ax:medianRating", int_cell(path, line, "median", median, 1, 9))
    elif median:
        if median != "n/a":
            raise RowError(path.name, line, f"must be 1-9, 'n/a' or empty, got '{median}'", "median")
        rating.add("ax:medianAsPrinted", median)
    if row["soe"]:
        rating.add("ax:strengthOfEvidence", Ref(_lookup(path, line, "soe", row["soe"], vocab.soes())))
    tabulation = _TABULATION.search(row.get("notes", ""))
    if tabulation:
        rating.add("ax:finalTabulation", re.sub(r"\s+", "", tabulation.group(1)))
    rating.add("ax:confidence", Ref(confidence))
    rating.add("ax:hasSourceRecord", Ref(source.subject))
    return [rating, source]


def topic_resources(content: TopicContent) -> list[Resource]:
    """The topic node and its variant nodes, as every topic file (generated or imported) writes them."""
    info = content.topic
    topic = Resource(topic_iri(info.key))
    topic.add("a", Ref("ax:Topic")).add("a", Ref("owl:NamedIndividual"))
    label = f"ACR {info.number} {info.title}" + ("" if info.edition == "current" else f" ({info.edition} edition)")
    topic.add("rdfs:label", Lang(label))
    topic.add("ax:topicNumber", info.number).add("ax:topicKey", info.key)
    topic.add("ax:topicTitle", info.title).add("ax:edition", info.edition)
    if info.superseded_by:
        topic.add("ax:supersededBy", Ref(topic_iri(info.superseded_by)))
    out = [topic]
    for number in sorted(content.variants):
        variant = content.variants[number]
        node = Resource(variant_iri(info.key, number))
        node.add("a", Ref("ax:Variant")).add("a", Ref("owl:NamedIndividual"))
        node.add("rdfs:label", Lang(f"ACR {info.key} variant {number}"))
        node.add("ax:inTopic", Ref(topic_iri(info.key)))
        node.add("ax:variantNumber", number).add("ax:officialTitle", variant.title)
        node.add("ax:definitionSource", Ref(variant.source_iri))
        out.append(node)
    return out


def axilla_topic(reference: Path, procedures: set[str]) -> TopicContent:
    """Topic 286 from ``acr286_variants.csv`` and ``acr286_ratings.csv``."""
    content = TopicContent(TopicInfo(str(AXILLA_TOPIC), AXILLA_TOPIC, AXILLA_TITLE, "current"))
    variants_csv = reference / "acr286_variants.csv"
    for line, row in read_rows(variants_csv, ["variant_number", "variant_title", "title_source_url"]):
        number = int_cell(variants_csv, line, "variant_number", row["variant_number"], 1, 99)
        if number is None or number in content.variants:
            raise DataError(f"{variants_csv.name}:{line}: field 'variant_number' is empty or repeated")
        iri = source_record_iri(variants_csv.stem, content.topic.key, number)
        citation, notes = row["title_source_url"], row.get("decomposition_notes", "")
        source = _source_record(iri, variants_csv, line, citation, notes, "ax:ConfidenceHigh")
        content.variants[number] = VariantInfo(number, row["variant_title"], source.subject)
        content.resources.append(source)
    ratings_csv = reference / "acr286_ratings.csv"
    seen: dict[tuple[str, int, str], int] = {}
    columns = ["variant_number", "procedure", "appropriateness_category", "relative_radiation_level"]
    columns += ["rating_1_to_9", "median", "soe", "source_url", "confidence"]
    for line, row in read_rows(ratings_csv, columns):
        number = int_cell(ratings_csv, line, "variant_number", row["variant_number"], 1, 99)
        if number not in content.variants:
            raise DataError(f"{ratings_csv.name}:{line}: field 'variant_number' names unknown variant '{number}'")
        content.resources.extend(rating_resources(ratings_csv, line, row, content.topic.key, number, procedures, seen))
    return content


def related_topics(reference: Path, procedures: set[str]) -> list[TopicContent]:
    """Every topic of ``related_topics_ratings.csv``, one ``TopicContent`` each."""
    path = reference / "related_topics_ratings.csv"
    columns = ["topic", "variant_number", "variant_title", "procedure", "appropriateness_category"]
    columns += ["relative_radiation_level", "rating_1_to_9", "median", "soe", "source_url", "confidence"]
    topics: dict[str, TopicContent] = {}
    seen: dict[tuple[str, int, str], int] = {}
    for line, row in read_rows(path, columns):
        match = _TOPIC_CELL.match(row["topic"])
        if not match:
            raise DataError(
                f"{path.name}:{line}: field 'topic' must start with the ACR topic number, got '{row['topic']}'"
            )
        number, title, year = int(match.group(1)), match.group(2), match.group(4)
        key = f"{number}-{year}" if year else str(number)
        content = topics.setdefault(
            key,
            TopicContent(TopicInfo(key, number, title, year or "current", str(number) if year else None)),
        )
        variant = int_cell(path, line, "variant_number", row["variant_number"], 1, 99)
        if variant is None:
            raise DataError(f"{path.name}:{line}: field 'variant_number' is empty")
        known = content.variants.get(variant)
        if known is None:
            # the variant's title is read from its first row: that row's record is its definition source
            definition = source_record_iri(path.stem, key, variant, row["procedure"])
            content.variants[variant] = VariantInfo(variant, row["variant_title"], definition)
        elif known.title != row["variant_title"]:
            raise DataError(
                f"{path.name}:{line}: field 'variant_title' differs from the title given on an earlier line"
            )
        content.resources.extend(rating_resources(path, line, row, key, variant, procedures, seen))
    return [topics[k] for k in sorted(topics, key=lambda k: (int(k.split("-")[0]), k))]


def render(content: TopicContent, sources: list[str]) -> str:
    header = [
        f"axilla-kg topic {content.topic.key}: {content.topic.title} ({content.topic.edition} edition).",
        "GENERATED by `python -m axilla_kg.authoring.ingest` from the curated reference tables:",
        *[f"  {s}" for s in sources],
        "Do not edit by hand: correct the CSV and regenerate. Every rating is ax:hasSourceRecord",
        "the ax:SourceRecord of its CSV line. ACR content (c) American College of Radiology.",
    ]
    return document(header, topic_resources(content) + content.resources)


def generate(reference: Path, out_dir: Path) -> dict[Path, str]:
    """Build every generated topic file in memory; raises DataError before anything is written."""
    procedures = known_procedures()
    files: dict[Path, str] = {}
    axilla = axilla_topic(reference, procedures)
    files[out_dir / "topic-286.ttl"] = render(axilla, ["acr286_variants.csv", "acr286_ratings.csv"])
    for content in related_topics(reference, procedures):
        files[out_dir / f"topic-{content.topic.key}.ttl"] = render(content, ["related_topics_ratings.csv"])
    files.update(definitions.generate(ontology_dir() / "variant-definitions.ttl", list(files.values()), out_dir))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m axilla_kg.authoring.ingest", description=__doc__)
    parser.add_argument("--reference", type=Path, required=True, help="folder with the curated CSV tables")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: ontology/generated)")
    args = parser.parse_args(argv)
    out_dir = args.out or ontology_dir() / "generated"
    try:
        files = generate(args.reference, out_dir)
    except DataError as exc:
        print(f"axilla-kg ingest: error: {exc}", file=sys.stderr)
        return 2
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_all_atomically(files)
    except (DataError, OSError) as exc:
        print(f"axilla-kg ingest: error: {exc}", file=sys.stderr)
        return 2
    for path in files:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
