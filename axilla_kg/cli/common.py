"""Options and helpers shared by every command."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import lru_cache

from axilla_kg.formats.output import FORMATS
from axilla_kg.graph import engines
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.inputs.numbers import NumberSyntaxError, parse_whole


@dataclass(frozen=True)
class Output:
    """What a command returns when its exit status is not simply 0 (e.g. ``check`` with findings)."""

    text: str
    exit_code: int = 0


def whole_number(text: str) -> int:
    """argparse type for whole-number flags: plain ASCII digits only (``int()`` would read
    ``4_5`` as 45 and ``٤٥`` as 45)."""
    try:
        return parse_whole(text)
    except NumberSyntaxError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc}") from None


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="table for people; csv, tsv or json for programs"
    )
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="FILE",
        help="extra RDF file to load with the shipped graph (repeatable)",
    )
    add_engine_option(parser)


def add_engine_option(parser: argparse.ArgumentParser, *, shown: bool = True) -> None:
    """``--engine``, offering the engines registered in ``axilla_kg.graph.engines``."""
    parser.add_argument(
        "--engine",
        choices=engines.available(),
        default=engines.DEFAULT,
        help=engine_help() if shown else argparse.SUPPRESS,
    )


def engine_help() -> str:
    """The ``--engine`` help, read from the engine registry."""
    return "SPARQL engine: " + ", ".join(f"{info.name} ({info.description})" for info in engines.described())


@lru_cache(maxsize=4)
def _load(data: tuple[str, ...], engine: str) -> KnowledgeGraph:
    return KnowledgeGraph.load(data, engine=engine)


def graph(args: argparse.Namespace) -> KnowledgeGraph:
    return _load(tuple(args.data), args.engine)
