"""``export`` and ``import-ratings``: the graph in other formats, and ratings tables back in."""

from __future__ import annotations

import argparse
from pathlib import Path

from axilla_kg.cli.common import Wanted, add_command


def register(sub: argparse._SubParsersAction, wanted: Wanted) -> None:
    p = add_command(
        sub,
        "export",
        "the graph as Turtle, N-Triples, JSON-LD, RDF/XML, TriG, OWL, FHIR, SSSOM or CSV",
        "Write the shipped graph for other tools, deterministically (the same input gives the same bytes). "
        "Here --format names the output syntax. Without --output it prints to standard output; with it the "
        "file is replaced atomically.",
    )
    p.set_defaults(run=run_export)
    if wanted("export"):
        from axilla_kg.export.registry import EXPORT_FORMATS

        p.add_argument(
            "--format",
            required=True,
            choices=list(EXPORT_FORMATS),
            help="output format: " + "; ".join(f"{f.name} = {f.description}" for f in EXPORT_FORMATS.values()),
        )
        p.add_argument("--output", "-o", type=Path, default=None, metavar="FILE", help="write here (default stdout)")
        p.add_argument(
            "--inferred", action="store_true", help="include the reasoner-derived triples (ontology/inferred)"
        )
        p.add_argument("--topic", default=None, help="only this topic's content plus the shared model (e.g. 286)")

    p = add_command(
        sub,
        "import-ratings",
        "a flat ratings table (the export csv layout) -> the topic's Turtle",
        "Read a ratings table in the layout of 'export --format csv', validate every row as the reference "
        "ingest does (one error naming the line, nothing written) and write the topic's Turtle, to load with "
        "--data.",
    )
    p.set_defaults(run=run_import)
    if wanted("import-ratings"):
        p.add_argument("table", type=Path, help="CSV table: topic,variant,title,procedure,category,rrl,rating,...")
        p.add_argument("--topic", required=True, help="topic key the rows belong to (e.g. 286)")
        p.add_argument("--topic-title", default=None, help="title of a topic the graph does not have yet")
        p.add_argument("--output", "-o", type=Path, default=None, metavar="FILE", help="write here (default stdout)")


def _emit(text: str, output: Path | None, what: str) -> str:
    if output is None:
        return text
    from axilla_kg.formats.atomic import write_atomically

    write_atomically(output, text)
    return f"wrote {what} to {output}\n"


def _check_output(output: Path | None) -> None:
    """A wrong ``--output`` is reported before the work, not after it."""
    if output is not None:
        from axilla_kg.formats.atomic import check_target

        check_target(output)


def run_export(args: argparse.Namespace) -> str:
    from axilla_kg.export import export

    _check_output(args.output)
    text = export(args.format, topic=args.topic, inferred=args.inferred)
    return _emit(text, args.output, f"{args.format} export")


def run_import(args: argparse.Namespace) -> str:
    from axilla_kg.authoring.importing import import_ratings

    _check_output(args.output)
    text = import_ratings(args.table, args.topic, topic_title=args.topic_title)
    return _emit(text, args.output, f"topic {args.topic} Turtle")
