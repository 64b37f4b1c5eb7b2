"""Options and helpers shared by every command: one definition of each shared option, so that
``--data``, ``--engine`` and ``--format`` mean the same wherever they exist (README "Command line").

A command module registers its parsers with :func:`add_command` and adds the command's arguments
only when ``wanted(name)`` says they are needed (the command being run, or every command for the
full help): building an argument list may read the ontology (``recommend``'s case flags) or import
a subsystem, which ``axilla-kg --version`` or another command should not pay for."""

from __future__ import annotations

import argparse
import contextlib
import gc
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from axilla_kg.inputs.numbers import NumberSyntaxError, parse_whole

if TYPE_CHECKING:
    from axilla_kg.graph.knowledge import KnowledgeGraph

#: whether a command's arguments are needed (see the module docstring)
Wanted = Callable[[str], bool]


@dataclass(frozen=True)
class Output:
    """What a command returns when its exit status is not simply 0 (e.g. ``check`` with findings)."""

    text: str
    exit_code: int = 0


#: allocations between young collections during a long run (the interpreter's default is 700)
BULK_GC_THRESHOLD = (100_000, 50, 1000)


@contextlib.contextmanager
def bulk_collection() -> Iterator[None]:
    """For a command that answers lines by the million (``recommend --cases``, ``audit``): the
    loaded graph and compiled tables are frozen out of the cyclic collector, and its young
    generation is collected after 100,000 allocations instead of 700. Batch answering makes
    next to no reference cycles (a 50,000-line run leaves 152 objects for the collector, all from
    loading) but allocates millions of memo tuples, so at the default thresholds the collector
    kept traversing the long-lived memos: a quarter of a varied run's time
    (``benchmarks/bench_recommend.py``). Restored on the way out (the test suite runs commands in
    one process)."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*BULK_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def bounded_int(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a plain decimal whole number within [low, high] (no '_', no sign games)."""

    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,12}", text.strip()):
            raise argparse.ArgumentTypeError(f"expected {what} as a whole number, got '{text[:40]}'")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} between {low} and {high}, got {value}")
        return value

    return parse


def whole_number(text: str) -> int:
    """argparse type for whole-number flags: plain ASCII digits only (``int()`` would read
    ``4_5`` as 45 and ``٤٥`` as 45)."""
    try:
        return parse_whole(text)
    except NumberSyntaxError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc}") from None


def add_command(sub: argparse._SubParsersAction, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """A subcommand with its one-line ``summary`` (listed by ``axilla-kg --help``) and its
    ``description`` (shown by ``axilla-kg NAME --help``)."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=summary, description=description)
    return parser


def add_format(parser: argparse.ArgumentParser, choices: Sequence[str] | None = None, note: str = "") -> None:
    """``--format``: ``table`` for people (the default), the others for programs; by default the
    plain formats every result renderer writes (``axilla_kg.output.FORMATS``)."""
    if choices is None:
        from axilla_kg.formats.output import FORMATS

        choices = FORMATS
    programs = ", ".join(c for c in choices if c != "table")
    parser.add_argument(
        "--format",
        choices=choices,
        default="table",
        help=f"table for people (default); {programs} for programs" + (f" ({note})" if note else ""),
    )


def add_data(parser: argparse.ArgumentParser, what: str = "load with the shipped graph") -> None:
    """``--data FILE``: extra RDF next to the shipped graph (repeatable)."""
    parser.add_argument(
        "--data", action="append", default=[], metavar="FILE", help=f"extra RDF file to {what} (repeatable)"
    )


def add_engine(parser: argparse.ArgumentParser) -> None:
    """``--engine``, offering the engines registered in ``axilla_kg.graph.engines``."""
    from axilla_kg.graph import engines

    parser.add_argument("--engine", choices=engines.available(), default=engines.DEFAULT, help=engine_help())


def engine_help() -> str:
    """The ``--engine`` help, read from the engine registry."""
    from axilla_kg.graph import engines

    return "SPARQL engine: " + ", ".join(f"{info.name} ({info.description})" for info in engines.described())


def add_common(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``--data`` and ``--engine``: the options of every command that reads the graph."""
    add_format(parser)
    add_data(parser)
    add_engine(parser)


@lru_cache(maxsize=4)
def _load(data: tuple[str, ...], engine: str) -> KnowledgeGraph:
    from axilla_kg.graph.knowledge import KnowledgeGraph

    return KnowledgeGraph.load(data, engine=engine)


def graph(args: argparse.Namespace) -> KnowledgeGraph:
    return _load(tuple(args.data), args.engine)
