"""Entry point: parse the command line, run one verb, map library errors to exit status 2 and
Ctrl-C to one line and exit status 130.

Only the command being run gets its arguments built (see ``axilla_kg.cli.common``), and the
command modules import what they use when they run, so ``axilla-kg --version`` or the help loads
neither the RDF engines nor the ontology. Bare ``axilla-kg`` prints the help and exits 0."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import re
import signal
import sys
from collections.abc import Collection, Sequence
from typing import NoReturn

from axilla_kg import __version__
from axilla_kg.cli import browse, checking, dose, exporting, feedback, querying, recommending, serving
from axilla_kg.cli.common import Output
from axilla_kg.errors import AxillaKGError

#: the exit status after Ctrl-C: 128 + SIGINT, what a shell reports for a command it interrupted
INTERRUPTED = 128 + signal.SIGINT


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), like every other error;
    ``--help`` still prints the full usage. Subcommand parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """An error message as exactly one line: line breaks and other controls (e.g. in a file name
    the user gave) are shown escaped, and undecodable bytes as ``\\xNN``."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class CommandParser(OneLineParser):
    """A subcommand's parser: an unknown option is reported by the command it was given to
    (``axilla-kg show: error: unrecognized arguments: --bogus``), not by the top level."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


COMMAND_MODULES = (browse, querying, dose, checking, exporting, recommending, serving, feedback)


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every command; ``commands`` limits whose arguments are built (``None``:
    all of them, for the full help and the tests)."""
    parser = OneLineParser(
        prog="axilla-kg",
        description="Query the ACR Appropriateness Criteria 'Imaging of the Axilla' knowledge graph. "
        "ACR content (c) American College of Radiology; see https://acsearch.acr.org. "
        "'axilla-kg COMMAND --help' describes a command; without a command this help is printed.",
    )
    parser.add_argument("--version", action="version", version=f"axilla-kg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for module in COMMAND_MODULES:
        module.register(sub, lambda name: commands is None or name in commands)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command named on a command line: its first word that is not an option (the top level
    has only --help and --version, which take no value)."""
    for index, word in enumerate(argv):
        if word == "--":
            return argv[index + 1] if index + 1 < len(argv) else None
        if not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; the exit status: 0, 2 for a user error, 130 when interrupted (Ctrl-C)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C anywhere: one line, the shell's status for SIGINT, no traceback
        if argv is None:  # a second Ctrl-C while we finish must not print a traceback either
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        with contextlib.suppress(OSError, ValueError):
            print("axilla-kg: interrupted", file=sys.stderr)
        return INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    command = command_of(words)
    parser = build_parser(() if command is None else (command,))
    args = parser.parse_args(words)
    if args.command is None:  # bare `axilla-kg`: the help, as documented
        sys.stdout.write(parser.format_help())
        return 0
    # started as a program (no argv given) the CLI owns its process and may make it permanent
    # changes such as the query sandbox; called with argv from other code it leaves the caller's
    # process alone
    args.owns_process = argv is None
    try:
        result: str | Output | None = args.run(args)
    except AxillaKGError as exc:
        print(f"axilla-kg: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # a streaming command's reader went away (e.g. `| head`)
        _drop_stdout()
        return 0
    except OSError as exc:  # a streaming command's output failed (full disk), or the system did
        _drop_stdout()
        print(f"axilla-kg: error: {one_line(_os_error(exc))}", file=sys.stderr)
        return 2
    if result is None:  # the command streamed its own output (batch, serve)
        return 0
    if isinstance(result, str):
        result = Output(result)
    text, exit_code = result.text, result.exit_code
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        _drop_stdout()
        sys.stderr.close()
    except OSError as exc:  # e.g. a full disk or /dev/full
        _drop_stdout()
        print(f"axilla-kg: error: {one_line(_os_error(exc))}", file=sys.stderr)
        return 2
    return exit_code


_OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT})


def _os_error(exc: OSError) -> str:
    if exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    if exc.errno in _OUTPUT_ERRORS:
        return f"cannot write the output: {exc.strerror}"
    return str(exc.strerror or exc)


def _drop_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's own flush at exit cannot fail again (and
    print a second, traceback-like message): the advice of Python's signal documentation."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout already closed or not a real file
        pass


if __name__ == "__main__":
    raise SystemExit(main())
