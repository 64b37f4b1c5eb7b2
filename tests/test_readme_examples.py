"""The README's command examples are tests (as ROBOT runs its documentation's examples): a changed
output fails here until the README shows the new one.

The convention (README "Command line"): a ```console block holds runnable examples. A line
``$ axilla-kg ...`` is a command (a trailing ``\\`` continues it on the next line), and the lines
up to the next ``$`` are what it prints, standard output then standard error. A line ``...`` in
the shown output stands for any number of lines left out; ``[exit status N]`` as the last line is
the exit status the command must end with (0 when there is none). Commands run from a scratch
folder in which ``docs``, ``tests``, ``ontology`` and ``queries`` are the repository's own (so
``docs/examples/orders.csv`` resolves and a file the example writes lands in the scratch folder).
Nothing else is normalised: the examples show no timings and no temporary paths.

A command that is only ``axilla-kg ARGS`` (optionally with a ``<<< 'standard input'``) runs
in-process through ``cli_in_process``; one with a pipe, redirection or ``&&`` runs in bash, with
``axilla-kg`` being this checkout's ``python -m axilla_kg``. A block that cannot run in a test (it
needs a server) is preceded by ``<!-- not-run: why -->``; there are few, and each says why.
The commands of ```sh blocks (commands shown without their output) are parsed by the real argument
parser, so an option the CLI no longer has fails too.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, cli_env, cli_in_process

README = REPO / "README.md"
SHARED_FOLDERS = ("docs", "tests", "ontology", "queries")
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.*?)\s*-->")
EXIT_LINE = re.compile(r"\[exit status (\d+)\]")
MAX_NOT_RUN = 3


@dataclass(frozen=True)
class Example:
    line: int  # of the command in README.md
    command: str
    shown: list[str]
    exit_status: int

    @property
    def id(self) -> str:
        return f"README.md:{self.line} {self.command[:60]}"


@dataclass(frozen=True)
class Block:
    language: str
    line: int  # of the opening fence
    lines: list[str]
    not_run: str | None


def readme_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, with the ``not-run`` reason written just before."""
    blocks: list[Block] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        fence = re.match(r"^```(\S*)\s*$", lines[index])
        if not fence:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index] != "```":
            body.append(lines[index])
            index += 1
        before = lines[start - 1] if start > 0 else ""
        reason = NOT_RUN.fullmatch(before.strip())
        blocks.append(Block(fence.group(1), start + 1, body, reason.group(1) if reason else None))
        index += 1
    return blocks


def console_examples(block: Block) -> list[Example]:
    """The commands of a console block with the output each shows."""
    examples: list[Example] = []
    index = 0
    lines = block.lines
    while index < len(lines):
        if not lines[index].startswith("$ "):
            raise AssertionError(f"README.md:{block.line + 1 + index}: console block line is neither '$ ' nor output")
        first = block.line + 1 + index
        command = lines[index][2:]
        while command.endswith("\\"):
            index += 1
            command = command[:-1] + " " + lines[index].strip()
        index += 1
        shown: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            shown.append(lines[index])
            index += 1
        status = 0
        if shown and (found := EXIT_LINE.fullmatch(shown[-1])):
            status = int(found.group(1))
            shown = shown[:-1]
        examples.append(Example(first, command.strip(), shown, status))
    return examples


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
EXAMPLES = [e for b in BLOCKS if b.language == "console" and b.not_run is None for e in console_examples(b)]


def sh_commands(block: Block) -> list[tuple[int, str]]:
    """The ``axilla-kg`` command lines of a sh block (continuation lines joined)."""
    found: list[tuple[int, str]] = []
    for index, line in enumerate(block.lines):
        if not line.startswith("axilla-kg "):
            continue
        command, following = line, index
        while command.rstrip().endswith("\\"):
            following += 1
            command = command.rstrip()[:-1] + " " + block.lines[following].strip()
        found.append((block.line + 1 + index, command))
    return found


SH_COMMANDS = [c for b in BLOCKS if b.language == "sh" for c in sh_commands(b)]


def output_pattern(shown: list[str]) -> re.Pattern[str]:
    """The shown lines as a pattern: each literal, a ``...`` line any number of whole lines."""
    parts = []
    for line in shown:
        parts.append(r"(?:[^\n]*\n)*?" if line == "..." else re.escape(line) + r"\n")
    return re.compile("".join(parts))


@dataclass(frozen=True)
class Step:
    """One ``axilla-kg`` call of an example: its arguments, standard input and ``>`` target."""

    args: list[str]
    stdin: str | None = None
    redirect: str | None = None


def split_in_process(command: str) -> list[Step] | None:
    """``axilla-kg ARGS [<<< 'stdin'] [> FILE]``, possibly several joined by ``&&``, as steps to
    run in-process; ``None`` when the command needs a real shell (a pipe, another program)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    steps: list[Step] = []
    current: list[str] = []
    for token in [*lexer, "&&"]:
        if token != "&&":
            current.append(token)
            continue
        stdin = redirect = None
        if len(current) >= 2 and current[-2] == ">":
            redirect, current = current[-1], current[:-2]
        if len(current) >= 2 and current[-2] == "<<<":
            stdin, current = current[-1] + "\n", current[:-2]
        if not current or current[0] != "axilla-kg" or any(t and set(t) <= set("|&;<>()") for t in current):
            return None
        steps.append(Step(current[1:], stdin, redirect))
        current = []
    return steps


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    for name in SHARED_FOLDERS:
        (folder / name).symlink_to(REPO / name)
    return folder


def run_example(command: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    """What the command prints (stdout, then stderr) and its exit status, run from ``folder``."""
    monkeypatch.chdir(folder)
    steps = split_in_process(command)
    if steps is not None:
        shown, status = "", 0
        for step in steps:
            result = cli_in_process(*step.args, stdin=step.stdin)
            if step.redirect is not None:
                (folder / step.redirect).write_text(result.stdout, encoding="utf-8")
            else:
                shown += result.stdout
            shown, status = shown + result.stderr, result.returncode
            if status != 0:
                break
        return shown, status
    script = 'axilla-kg() { python -m axilla_kg "$@"; }\n' + command + "\n"
    proc = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, cwd=folder, env=cli_env(), timeout=300
    )
    return proc.stdout + proc.stderr, proc.returncode


def test_the_readme_has_examples() -> None:
    """The parser found the examples (an empty list would make every test below vacuous)."""
    assert len(EXAMPLES) >= 10
    assert any(split_in_process(e.command) is None for e in EXAMPLES)  # some run in bash


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_readme_example(example: Example, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output, status = run_example(example.command, scratch, monkeypatch)
    pattern = output_pattern(example.shown)
    assert pattern.fullmatch(output), (
        f"{example.id}: the README shows\n" + "\n".join(example.shown) + f"\n--- but the command prints\n{output}"
    )
    assert status == example.exit_status, f"{example.id}: exit status {status}, README says {example.exit_status}"


def test_examples_not_run_are_few_and_explained() -> None:
    skipped = [b for b in BLOCKS if b.not_run is not None]
    assert len(skipped) <= MAX_NOT_RUN, [b.line for b in skipped]
    for block in skipped:
        assert len(block.not_run or "") >= 15, f"README.md:{block.line}: say why the example is not run"
        assert block.language == "console", f"README.md:{block.line}: not-run marks a console example"


@pytest.mark.parametrize("line,command", SH_COMMANDS, ids=[f"README.md:{n}" for n, _ in SH_COMMANDS])
def test_readme_commands_parse(line: int, command: str) -> None:
    """Commands shown without output still have to be commands the CLI accepts."""
    from axilla_kg.cli.main import build_parser

    args = shlex.split(command, comments=True)[1:]
    try:
        build_parser().parse_args(args)
    except SystemExit as exc:  # an argparse error (exit 2)
        pytest.fail(f"README.md:{line}: '{command}' is not a valid command line (exit {exc.code})")


def test_output_pattern() -> None:
    """The matcher itself: literal lines, '...' for any lines, nothing else is loose."""
    assert output_pattern(["a", "...", "d"]).fullmatch("a\nb\nc\nd\n")
    assert output_pattern(["a", "...", "d"]).fullmatch("a\nd\n")
    assert not output_pattern(["a", "d"]).fullmatch("a\nb\nd\n")
    assert not output_pattern(["a.c"]).fullmatch("abc\n")
    assert not output_pattern(["a", "..."]).fullmatch("a\nb")  # output ends with a newline
    assert split_in_process("axilla-kg show 4 --format json") == [Step(["show", "4", "--format", "json"])]
    assert split_in_process("axilla-kg recommend --case - <<< '{\"a\": 1}'") == [
        Step(["recommend", "--case", "-"], '{"a": 1}\n')
    ]
    assert split_in_process("axilla-kg export > t.csv && axilla-kg import-ratings t.csv") == [
        Step(["export"], None, "t.csv"),
        Step(["import-ratings", "t.csv"]),
    ]
    assert split_in_process("axilla-kg a | cut -c1-5") is None
    assert split_in_process("axilla-kg a; rm -r x") is None


def test_readme_lists_every_named_query() -> None:
    """The README's count and table of named queries are the query library's (it once said 18 of 19)."""
    from axilla_kg.graph.queries import QueryLibrary

    text = README.read_text(encoding="utf-8")
    names = sorted(q.name for q in QueryLibrary.load())
    count = re.search(r"There are (\d+) named queries", text)
    assert count is not None and int(count.group(1)) == len(names)
    section = text[text.index("### `axilla-kg queries`") : text.index("### `axilla-kg sparql")]
    listed = sorted(re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE))
    assert listed == names


def test_readme_states_the_show_json_keys() -> None:
    """The README's key order of ``show --format json`` and of each rating is the output's."""
    import json

    text = " ".join(README.read_text(encoding="utf-8").split())
    stated = re.search(r"Its keys, in this order: (.*?)\. `topic` is", text)
    rating = re.search(r"`ratings` is a list of `\{(.*?)\}`", text)
    assert stated is not None and rating is not None
    body = json.loads(cli_in_process("show", "4", "--format", "json").stdout)
    assert re.findall(r"`([a-z_]+)`", stated.group(1)) == list(body)
    assert rating.group(1).split(", ") == list(body["ratings"][0])
