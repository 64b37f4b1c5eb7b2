"""``export`` and ``import-ratings``: the graph in other formats, and ratings tables back in."""

from __future__ import annotations

import argparse
from pathlib import Path

from axilla_kg.formats.atomic import write_atomically


def register(sub: argparse._SubParsersAction) -> None:
    from axilla_kg.export.registry import EXPORT_FORMATS

    p = sub.add_parser("export", help="the graph as Turtle, N-Triples, JSON-LD, RDF/XML, TriG, OWL, FHIR, SSSOM or CSV")
    p.add_argument(
        "--format",
        required=True,
        choices=list(EXPORT_FORMATS),
        help="output format: " + "; ".join(f"{f.name} = {f.description}" for f in EXPORT_FORMATS.values()),
    )
    p.add_argument("--output", "-o", type=Path, default=None, metavar="FILE", help="write here (default stdout)")
    p.add_argument("--inferred", action="store_true", help="include the reasoner-derived triples (ontology/inferred)")
    p.add_argument("--topic", default=None, help="only this topic's content plus the shared model (e.g. 286)")
    p.set_defaults(run=run_export)

    p = sub.add_parser("import-ratings", help="a flat ratings table (the export csv layout) -> the topic's Turtle")
    p.add_argument("table", type=Path, help="CSV table: topic,variant,title,procedure,category,rrl,rating,...")
    p.add_argument("--topic", required=True, help="topic key the rows belong to (e.g. 286)")
    p.add_argument("--topic-title", default=None, help="title of a topic the graph does not have yet")
    p.add_argument("--output", "-o", type=Path, default=None, metavar="FILE", help="write here (default stdout)")
    p.set_defaults(run=run_import)


def _emit(text: str, output: Path | None, what: str) -> str:
    if output is None:
        return text
    write_atomically(output, text)
    return f"wrote {what} to {output}\n"


def run_export(args: argparse.Namespace) -> str:
    from axilla_kg.export import export

    text = export(args.format, topic=args.topic, inferred=args.inferred)
    return _emit(text, args.output, f"{args.format} export")


def run_import(args: argparse.Namespace) -> str:
    from axilla_kg.authoring.importing import import_ratings

    text = import_ratings(args.table, args.topic, topic_title=args.topic_title)
    return _emit(text, args.output, f"topic {args.topic} Turtle")
